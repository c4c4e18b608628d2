"""The scaling experiment grid, computed from config alone (so `snakemake -n` can plan it).

A fit is (experiment, arch, seed, level): ``data_scaling`` fits use the matched model size
and ``level`` training worms; ``model_scaling`` fits use hidden size ``level`` on all worms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def worm_counts(levels: Sequence[int], n_worms: int | None) -> list[int]:
    """The distinct training-worm counts of ``levels`` capped at the cohort's ``n_worms``, in
    increasing order (levels above the cohort's size would train the same fit again and weigh
    twice in the slope fits). ``n_worms=None``: the levels as configured (no cap known)."""
    capped = {min(int(n), n_worms) if n_worms is not None else int(n) for n in levels}
    return sorted(capped)


CONTROL_COHORTS = ("sines", "randomwalk")


def cohort_grid_config(cfg: Mapping[str, Any], cohort: str | None) -> Mapping[str, Any]:
    """``cfg`` with a control cohort's own ``seeds``/``worm_levels``/``hidden``
    (``controls.grid``, each optional): the controls answer one question each, and need not
    repeat the C. elegans grid."""
    own = (cfg.get("controls") or {}).get("grid") or {}
    if cohort not in CONTROL_COHORTS or not own:
        return cfg
    out = dict(cfg)
    out["seeds"] = own.get("seeds", cfg["seeds"])
    out["data_scaling"] = {"worm_levels": own.get("worm_levels",
                                                  cfg["data_scaling"]["worm_levels"])}
    out["model_scaling"] = {"hidden": own.get("hidden", cfg["model_scaling"]["hidden"]),
                            "seeds": out["seeds"]}
    return out


def grid(cfg: Mapping[str, Any], n_worms: int | None = None, cohort: str | None = None
         ) -> list[Fit]:
    """All fits of ``cohort`` (of ``n_worms`` usable worms) in a fixed order (the DAG chunks
    this list); each distinct capped worm count is planned once."""
    cfg = cohort_grid_config(cfg, cohort)
    fits = []
    levels = worm_counts(cfg["data_scaling"]["worm_levels"], n_worms)
    for seed in cfg["seeds"]:
        for arch in cfg["archs"]:
            fits += [Fit("data_scaling", arch, seed, n) for n in levels]
            if seed in cfg["model_scaling"].get("seeds", cfg["seeds"]):
                fits += [Fit("model_scaling", arch, seed, h) for h in model_sizes(arch, cfg)]
    return fits


def model_sizes(arch: str, cfg: Mapping[str, Any]) -> list[int]:
    """Hidden sizes of the model-scaling sweep; fixed-size models get a single fit."""
    sizes = list(cfg["model_scaling"]["hidden"])
    return sizes[:1] if arch in FIXED_SIZE_ARCHS else sizes


def generates(fit: Fit) -> bool:
    """Whether a fit also runs the autoregressive generation (Fig. 7): every model-scaling fit
    (all worms), so that collection can show the best model of each architecture."""
    return fit.experiment == "model_scaling"
