"""ZAPBench (Lueckmann, Immer et al. 2025) and volumetric-video forecasting (Immer et al. 2025).

Benchmark rules (``benchmark``), metrics (``metrics``), the synthetic miniature
(``synthetic``), its NetCDF schema (``dataset``) and recordings (``prepare``), trace models
(``trace_models``), the lead-time-conditioned UNet (``unet``), step-based training on the
shared Lightning trainer (``fit``), one fit = train + evaluate (``runs``), a training job
through the shared fit runner (``jobs``), the experiment grid (``grid``, torch-free),
tables/figures (``results``, ``figures``, ``report``) and the real-data readers (``real``).
"""
