"""Reverb (reverb.com): REST + HAL, personal access token. See docs/channels/reverb.md."""
