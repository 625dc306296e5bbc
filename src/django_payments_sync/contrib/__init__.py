"""Integrations with third-party tools that are optional dependencies (extras)."""
