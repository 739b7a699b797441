"""A local stand-in for DHL Express's MyDHL API (rates, shipments with PDF labels, tracking)."""
