"""ZAPBench (Lueckmann, Immer et al. 2025) and volumetric-video forecasting (Immer et al. 2025).

Benchmark rules (``benchmark``), metrics (``metrics``), the synthetic miniature
(``synthetic``), its NetCDF schema (``dataset``), trace models (``trace_models``), the
lead-time-conditioned UNet (``unet``), training (``fit``), evaluation (``evaluate``), the
experiment grid (``grid``, torch-free), tables/figures and the real-data readers (``real``).
"""
