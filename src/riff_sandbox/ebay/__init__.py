"""Local stand-in for eBay's Trading API (XML) and OAuth token endpoint."""
