"""Scaling study (Simeon et al. 2024): analysis of the fitted-model tables."""
