"""Text: language analysis shared by every stage (script, quantities, places)."""
