"""Safar: open-source, self-hosted, Persian-first customer experience management."""

__version__ = "0.1.0"
