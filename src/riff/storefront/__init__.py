"""The public storefront feed: read-only JSON for a shop's own website (``/api/data``, ``/api/search``,
``/api/stats``), served from RIFF's catalog. See docs/storefront.md."""
