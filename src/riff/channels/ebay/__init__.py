"""eBay: the Trading API (XML) with OAuth user tokens. Facts and sources: docs/channels/ebay.md."""
