"""Reverb sandbox: the Reverb marketplace API (https://api.reverb.com/api) served locally under ``/api``.
Facts it relies on, with sources: docs/channels/reverb.md ("Sandbox behaviour")."""
