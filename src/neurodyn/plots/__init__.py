"""Plotting: one style and deterministic saving for every figure."""
