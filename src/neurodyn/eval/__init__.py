"""Evaluation metrics shared by the studies."""
