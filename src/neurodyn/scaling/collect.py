"""Collect the per-chunk fit records of one cohort into a fits table and a generation file."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

EXPERIMENTAL = ("synthetic", "real")


def cohort_labels(cohort: str) -> tuple[str, str]:
    """(data, source) columns of a cohort: C. elegans cohorts are 'experimental' data."""
    if cohort in EXPERIMENTAL:
        return "experimental", cohort
    return cohort, "synthetic"


def load_records(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    return [rec for p in paths for rec in json.loads(Path(p).read_text())]


def fits_table(records: list[dict[str, Any]], cohort: str) -> pd.DataFrame:
    """One row per fit (the contract of :mod:`neurodyn.scaling.analysis`)."""
    data, source = cohort_labels(cohort)
    rows = [{k: v for k, v in r.items() if k != "generation"} for r in records]
    table = pd.DataFrame(rows).assign(data=data, source=source, cohort=cohort)
    first = ["experiment", "data", "source", "cohort", "arch", "seed", "hidden", "n_params",
             "n_worms", "n_train_steps", "min_val_loss", "val_baseline", "best_epoch",
             "epochs_run"]
    rest = sorted(c for c in table.columns if c not in first)
    return table[first + rest]


def best_generations(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per architecture, the record with a generation and the lowest ``min_val_loss``."""
    best: dict[str, dict[str, Any]] = {}
    for r in records:
        if r.get("generation") and (r["arch"] not in best
                                    or r["min_val_loss"] < best[r["arch"]]["min_val_loss"]):
            best[r["arch"]] = r
    return best


def generation_dataset(records: list[dict[str, Any]], cohort: str) -> xr.Dataset:
    """Context, truth and generated traces of each architecture's best model (Fig. 7)."""
    best = best_generations(records)
    if not best:
        raise ValueError(f"no generation records for cohort {cohort}")
    gens = {arch: r["generation"] for arch, r in best.items()}
    first = next(iter(gens.values()))
    stack = {key: np.stack([np.asarray(g[key], dtype=np.float32).T for g in gens.values()])
             for key in ("context", "truth", "generated")}
    _, source = cohort_labels(cohort)
    per_arch = {key: ("arch", [best[a][key] for a in gens])
                for key in ("hidden", "n_params", "seed", "min_val_loss")}
    return xr.Dataset(
        {"context": (("arch", "time_ctx", "neuron"), stack["context"]),
         "truth": (("arch", "time_gen", "neuron"), stack["truth"]),
         "generated": (("arch", "time_gen", "neuron"), stack["generated"]), **per_arch},
        coords={"arch": list(gens), "neuron": first["neurons"],
                "time_ctx": np.arange(stack["context"].shape[1]),
                "time_gen": np.arange(stack["context"].shape[1],
                                      stack["context"].shape[1] + stack["truth"].shape[1])},
        attrs={"synthetic": "true" if source == "synthetic" else "false",
               "worm": first["worm"], "cohort": cohort,
               "selection": "per architecture, the model-scaling fit with the lowest "
                            "min_val_loss"},
    )
