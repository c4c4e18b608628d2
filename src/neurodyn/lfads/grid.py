"""The model grids of the LFADS study, computed from config alone (torch-free, so Snakemake
plans every job with ``-n``).

Search models (Fig. 1b/1c, Fig. 4): for each arm (``standard``, ``sv``, ``cd``) and index i,
the five HPs (KL IC/CO scales, L2 gen/con scales, dropout) are drawn log-uniformly (dropout
uniformly) from a generator seeded by (seed, i) — the same draws in every arm, so arms are
compared on paired HP sets. Dataset-size models (Fig. 5): for each training fraction and
random draw, one LFADS with fixed HPs (given in the paper's units, :func:`fixed_hparams`) and
one PBT with CD of ``hpo_models`` members (arm ``hpo``, run by :mod:`neurodyn.lfads.pbt`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

ARMS = ("standard", "sv", "cd")
SEARCHED = ("kl_ic_scale", "kl_co_scale", "l2_gen_scale", "l2_con_scale", "dropout_rate")
PER_ELEMENT = ("kl_ic_scale", "kl_co_scale", "l2_gen_scale", "l2_con_scale")


@dataclass(frozen=True)
class ModelSpec:
    """One model to train: its id, experiment coordinates and hyperparameters."""

    model_id: str
    experiment: str  # "search" | "datasize"
    arm: str  # search: standard/sv/cd; datasize: fixed/hpo
    index: int
    seed: int
    hparams: dict[str, Any] = field(default_factory=dict)
    fraction: float = 1.0
    draw: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def elements_per_trial(cfg: Mapping[str, Any], experiment: str) -> int:
    """Reconstructed elements per trial (bins × neurons) of an experiment's dataset."""
    if experiment == "search":
        return int(cfg["rnn"]["n_bins"]) * int(cfg["rnn"]["n_units"])
    r = cfg["reaching"]
    lo, hi = r.get("window_s", (-0.25, 0.45))
    return int(round((hi - lo) / float(r["bin_width_s"]))) * int(r["n_neurons"])


def draw_hparams(ranges: Mapping[str, list[float]], seed: int, index: int,
                 elements: int) -> dict[str, float]:
    """The searched HPs of model ``index`` (log-uniform; dropout uniform).

    ``ranges`` are in the paper's units (KL/L2 weights of a reconstruction NLL summed over a
    trial's ``elements``); our loss averages the NLL over elements, so the KL and L2 weights
    are divided by ``elements`` (spec §3.5; the same conversion as :mod:`neurodyn.hpo.space`).
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 5, int(index)]))
    out = {}
    for name in SEARCHED:
        lo, hi = ranges[name]
        if name == "dropout_rate":
            out[name] = float(rng.uniform(lo, hi))
        else:
            out[name] = float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) / elements
    return out


def arm_hparams(arm: str, cfg: Mapping[str, Any]) -> dict[str, float]:
    """CD/SV settings of an arm."""
    if arm == "standard":
        return {"cd_rate": 0.0, "sv_rate": 0.0}
    if arm == "sv":
        return {"cd_rate": 0.0, "sv_rate": float(cfg["sv"]["rate"])}
    if arm == "cd":
        return {"cd_rate": 1.0 - float(cfg["search"]["cd_keep_ratio"]), "sv_rate": 0.0}
    raise ValueError(f"unknown arm {arm!r}; expected one of {ARMS}")


def search_models(cfg: Mapping[str, Any], seed: int) -> list[ModelSpec]:
    """Every search model of every arm, in a fixed order."""
    s = cfg["search"]
    out = []
    for arm in s["arms"]:
        for i in range(int(s["models_per_arm"])):
            hp = {**cfg["model"], **draw_hparams(s["ranges"], seed, i,
                                                 elements_per_trial(cfg, "search")),
                  **arm_hparams(arm, cfg)}
            out.append(ModelSpec(f"search_{arm}_{i:03d}", "search", arm, i, seed + i, hp))
    return out


def fixed_hparams(cfg: Mapping[str, Any]) -> dict[str, float]:
    """``dataset_size.fixed_hparams`` (the paper's summed-NLL units) in our mean-NLL units:
    KL and L2 weights divided by the reconstructed elements per trial."""
    elements = elements_per_trial(cfg, "datasize")
    return {k: float(v) / elements if k in PER_ELEMENT else float(v)
            for k, v in cfg["dataset_size"]["fixed_hparams"].items()}


def datasize_models(cfg: Mapping[str, Any], seed: int) -> list[ModelSpec]:
    """Dataset-size models per fraction/draw: a fixed-HP LFADS and a PBT (arm ``hpo``)."""
    d = cfg["dataset_size"]
    out = []
    for f_idx, fraction in enumerate(d["fractions"]):
        for draw in range(int(d["draws"])):
            tag = f"f{f_idx}_d{draw}"
            base = 1000 * (f_idx + 1) + 10 * draw
            fixed = {**cfg["model"], **fixed_hparams(cfg)}
            out.append(ModelSpec(f"datasize_fixed_{tag}", "datasize", "fixed", 0,
                                 seed + base, fixed, float(fraction), draw))
            out.append(ModelSpec(f"datasize_pbt_{tag}", "datasize", "hpo", 0, seed + base + 1,
                                 dict(cfg["model"]), float(fraction), draw))
    return out


def chunks(models: list[ModelSpec], per_job: int) -> list[list[ModelSpec]]:
    """Split a grid into jobs of ``per_job`` consecutive models (a search job's models share
    an arm, so they train as one population)."""
    return [models[i:i + per_job] for i in range(0, len(models), per_job)]


def subset_chunks(models: list[ModelSpec], per_job: int) -> list[list[ModelSpec]]:
    """Split the dataset-size grid into one job per training subset (fraction, draw): its
    fixed-HP LFADS and its PBT, or chunks of ``per_job`` of them when ``per_job`` is smaller.
    Small jobs of similar length let the scheduler keep every core busy (chunks of
    ``per_job`` consecutive models put the largest fraction, about half the compute, in one
    long job)."""
    groups: dict[tuple[float, int], list[ModelSpec]] = {}
    for m in models:
        groups.setdefault((m.fraction, m.draw), []).append(m)
    return [job for group in groups.values() for job in chunks(group, per_job)]
