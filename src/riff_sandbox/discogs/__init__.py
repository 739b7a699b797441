"""Discogs sandbox: the Discogs API v2 (https://api.discogs.com) served locally, with the marketplace's
inventory, listings, orders and release look-ups. Facts it relies on, with sources: docs/channels/discogs.md
("Sandbox behaviour")."""
