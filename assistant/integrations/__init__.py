"""Adapters that expose the assistant to other frameworks."""
