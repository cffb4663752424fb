"""Question answering with checkable citations over Chinese government policy documents."""
