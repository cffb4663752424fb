"""Search: embed, index (dense + keyword) and retrieve chunks."""
