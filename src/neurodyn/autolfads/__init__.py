"""Patel, Sedler et al. (AutoLFADS): PBT of LFADS on Snakemake and Ray Tune, NLB metrics."""
