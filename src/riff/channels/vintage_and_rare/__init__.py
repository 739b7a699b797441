"""Vintage & Rare: no API, so RIFF uses the website (docs/channels/vintage_and_rare.md)."""
