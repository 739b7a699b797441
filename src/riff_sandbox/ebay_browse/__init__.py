"""eBay Browse API sandbox (research collectors): OAuth client credentials + item_summary/search."""
