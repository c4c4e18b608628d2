"""Collecting LFADS study records into tables: R² per search arm and the dataset-size table."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import spearmanr

from neurodyn.eval.decoding import cv_decoding_r2
from neurodyn.eval.nlb import gaussian_smooth
from neurodyn.io.spikes import split_arrays

# The selection metric of each arm (lower is better).
SELECTION = {"standard": "valid_recon_heldin_smth", "sv": "train_recon_sv_smth",
             "cd": "valid_recon_heldin_smth"}
N_EXAMPLE_NEURONS = 3  # neurons of the example trial kept per search model (Fig. 1c)
ARM_LABELS = {"standard": "standard validation", "sv": "sample validation (SV)",
              "cd": "coordinated dropout (CD)"}


def load_records(paths: Sequence[str | Path]) -> list[dict]:
    """All model records of a set of job files."""
    out: list[dict] = []
    for path in paths:
        out += json.loads(Path(path).read_text())
    return out


def records_frame(records: Sequence[dict]) -> pd.DataFrame:
    """One row per model: ids, searched HPs and metrics (curves and examples dropped)."""
    rows = []
    for r in records:
        row = {k: v for k, v in r.items()
               if not isinstance(v, (list, dict)) and k not in ("fit_id", "fit_key")}
        row.update({k: v for k, v in r["hparams"].items()
                    if k in ("kl_ic_scale", "kl_co_scale", "l2_gen_scale", "l2_con_scale",
                             "dropout_rate", "cd_rate", "sv_rate")})
        rows.append(row)
    return pd.DataFrame(rows)


def selection_metric(frame: pd.DataFrame) -> pd.Series:
    """The arm's own selection metric for every row."""
    return pd.Series([row[SELECTION[row["arm"]]] for _, row in frame.iterrows()],
                     index=frame.index, dtype=float)


def search_table(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Per arm: rate R² of the model the arm's metric selects, the best and median R², and
    the rank correlation between metric and R² (negative = the metric tracks quality)."""
    frame = frame.assign(metric=selection_metric(frame))
    rows = []
    for arm, group in frame.groupby("arm", sort=False):
        ok = group.dropna(subset=["metric", "rate_r2"])
        chosen = ok.loc[ok["metric"].idxmin()] if len(ok) else None
        rho = spearmanr(ok["metric"], ok["rate_r2"]).statistic if len(ok) > 2 else np.nan
        rows.append({
            "arm": ARM_LABELS.get(arm, arm), "selection_metric": SELECTION[arm],
            "n_models": len(group), "n_finite": len(ok),
            "selected_model": chosen["model_id"] if chosen is not None else "",
            "selected_rate_r2": chosen["rate_r2"] if chosen is not None else np.nan,
            "best_rate_r2": ok["rate_r2"].max(), "median_rate_r2": ok["rate_r2"].median(),
            "spearman_metric_vs_r2": rho, "source": source,
        })
    return pd.DataFrame(rows)


def smoothing_r2(test: dict, sd_bins: float, setup: dict, seed: int) -> float:
    """Velocity decoding R² from Gaussian-smoothed spikes of the test trials."""
    smooth = gaussian_smooth(test["recon_data"], sd_bins)
    return cv_decoding_r2(smooth, test["behavior"], setup["lags"], setup["alphas"],
                          setup["folds"], seed)


def datasize_table(frame: pd.DataFrame, smooth_r2: float, source: str) -> pd.DataFrame:
    """Per training fraction: smoothing, LFADS with fixed HPs and LFADS with HP optimisation
    (PBT + CD; one per draw), mean and SD over draws; Fig. 5b's percentage improvement of the
    HP-optimised over the fixed-HP models (``hpo_over_fixed_pct``, as in the paper) and, for
    reference, of both over smoothing."""
    rows = []
    for fraction, group in frame.groupby("fraction"):
        fixed = group[group["arm"] == "fixed"].groupby("draw")["velocity_r2"].mean()
        hpo = group[group["arm"] == "hpo"].groupby("draw")["velocity_r2"].mean()
        row = {"fraction": fraction, "n_train_trials": int(group["n_train_trials"].median()),
               "n_draws": int(group["draw"].nunique()), "smoothing_r2": smooth_r2,
               "lfads_fixed_r2_mean": fixed.mean(), "lfads_fixed_r2_sd": fixed.std(ddof=0),
               "lfads_hpo_r2_mean": hpo.mean(), "lfads_hpo_r2_sd": hpo.std(ddof=0)}
        row["hpo_over_fixed_pct"] = 100 * (row["lfads_hpo_r2_mean"]
                                           - row["lfads_fixed_r2_mean"]) / abs(
            row["lfads_fixed_r2_mean"])
        for arm in ("fixed", "hpo"):
            row[f"{arm}_over_smoothing_pct"] = 100 * (row[f"lfads_{arm}_r2_mean"]
                                                      - smooth_r2) / abs(smooth_r2)
        row["source"] = source
        rows.append(row)
    return pd.DataFrame(rows)


def decoding_setup(ds: xr.Dataset, cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Test-trial arrays and decoding settings of the dataset-size experiment."""
    test = split_arrays(ds, "test")
    if "behavior" not in test:
        raise ValueError("the dataset-size experiment needs behaviour (hand velocity)")
    dec = cfg["dataset_size"]["decoding"]
    return {"test": test, "lags": list(range(0, int(dec["max_lag_bins"]) + 1,
                                             int(dec["lag_step_bins"]))),
            "alphas": np.logspace(*dec["log10_alpha_range"], int(dec["n_alphas"])),
            "folds": int(dec["folds"])}
