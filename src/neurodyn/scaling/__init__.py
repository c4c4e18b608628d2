"""Scaling study (Simeon et al. 2024): model zoo, windows, fit grid and keys, next-step
training through the shared runner and trainer, generation, collection, analysis, figures
and tables."""
