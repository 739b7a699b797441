"""Market research: comparable listings from eBay, Etsy and Reddit, trends, offline AI tagging and price
suggestions. See docs/research.md."""
