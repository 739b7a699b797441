"""Discogs: the marketplace for records (https://www.discogs.com/developers)."""
