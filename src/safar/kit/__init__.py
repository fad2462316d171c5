"""Shared building blocks: no module under kit imports a domain."""
