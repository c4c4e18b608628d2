"""The scaling experiment grid, computed from config alone (so `snakemake -n` can plan it).

A fit is (experiment, arch, seed, level): ``data_scaling`` fits use the matched model size
and ``level`` training worms; ``model_scaling`` fits use hidden size ``level`` on all worms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FIXED_SIZE_ARCHS = ("Baseline", "Linear")


@dataclass(frozen=True)
class Fit:
    """One model fit of the scaling grid."""

    experiment: str  # "data_scaling" | "model_scaling"
    arch: str
    seed: int
    level: int  # training worms (data scaling) or hidden size (model scaling)

    @property
    def fit_id(self) -> str:
        return f"{self.experiment}-{self.arch}-seed{self.seed}-{self.level}"


def grid(cfg: Mapping[str, Any]) -> list[Fit]:
    """All fits of a cohort in a fixed order (the DAG chunks this list)."""
    fits = []
    for seed in cfg["seeds"]:
        for arch in cfg["archs"]:
            fits += [Fit("data_scaling", arch, seed, n)
                     for n in cfg["data_scaling"]["worm_levels"]]
            sizes = model_sizes(arch, cfg)
            fits += [Fit("model_scaling", arch, seed, h) for h in sizes]
    return fits


def model_sizes(arch: str, cfg: Mapping[str, Any]) -> list[int]:
    """Hidden sizes of the model-scaling sweep; fixed-size models get a single fit."""
    sizes = list(cfg["model_scaling"]["hidden"])
    return sizes[:1] if arch in FIXED_SIZE_ARCHS else sizes


def generates(fit: Fit) -> bool:
    """Whether a fit also runs the autoregressive generation (Fig. 7): every model-scaling fit
    (all worms), so that collection can show the best model of each architecture."""
    return fit.experiment == "model_scaling"
