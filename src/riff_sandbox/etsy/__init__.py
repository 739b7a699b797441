"""Etsy Open API v3 sandbox (research collectors): public active-listing search and batch lookups."""
