"""Figures, one module per study or topic."""
