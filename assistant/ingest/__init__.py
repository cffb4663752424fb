"""Ingest: find, load, clean, structure and chunk documents; accept uploads."""
