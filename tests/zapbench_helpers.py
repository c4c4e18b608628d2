"""Shared helpers of the ZAPBench tests: the study's config and a tiny recording."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from neurodyn.configs import load_config
from neurodyn.zapbench.benchmark import miniature_benchmark
from neurodyn.zapbench.dataset import VideoData, open_video_dataset, to_dataset, write_video_dataset
from neurodyn.zapbench.synthetic import COVARIATES, GeneratorConfig, generate

REPO = Path(__file__).resolve().parents[1]


def zapbench_config(tiny: bool = True, paper: bool = False) -> dict[str, Any]:
    """The ``zapbench`` section as Snakemake merges it (default, then tiny or paper)."""
    over = "tests/data/tiny.yaml" if tiny else "config/paper.yaml" if paper else None
    return copy.deepcopy(load_config(REPO, *([over] if over else []))["zapbench"])


def tiny_recording(tmp_path: Path, seed: int = 0, length: int = 100) -> VideoData:
    """A tiny synthetic recording written to and read back from the NetCDF schema."""
    cfg = GeneratorConfig(shape=(4, 8, 8), n_cells=16, condition_length=length)
    sp = generate(cfg, seed)
    bench = miniature_benchmark(length, len(cfg.conditions), holdout=3, max_context=8,
                                horizon=8)
    path = tmp_path / f"rec{seed}.nc"
    write_video_dataset(to_dataset(sp.video, sp.segmentation, sp.traces, sp.covariates,
                                   COVARIATES, bench, True, {"seed": seed}), path)
    return open_video_dataset(path)
