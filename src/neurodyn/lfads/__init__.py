"""Keshtkaran & Pandarinath 2019 experiments: HP searches with standard validation, sample
validation and coordinated dropout; the linear-autoencoder CD demo; the dataset-size
decoding experiment. Grid helpers (:mod:`.grid`) are torch-free so Snakemake can plan jobs."""
