"""Hyperparameter optimisation: population based training (Snakemake-native and Ray Tune)."""
