"""RIFF: Realtime Inventory Fast Flow."""

__version__ = "0.1.0"
