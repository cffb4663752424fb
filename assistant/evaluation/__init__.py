"""Evaluation: metrics, relevance, baselines, runs and reports."""
