"""Answers: extractive and generated answers, claim checks, follow-ups."""
