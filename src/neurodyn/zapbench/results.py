"""From fit records to tables: per-step curves, Tables 1-3 (mean ± 2 SE over seeds).

The findings table is :mod:`neurodyn.zapbench.findings`.

Aggregation order (spec §2.1): neurons → windows (inside each record), then the training
conditions with equal weight, then seeds. The holdout split is kept separate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from neurodyn.zapbench.metrics import average_conditions

TRACE_LABELS = {"mean": "mean", "last": "last value", "stimulus": "stimulus",
                "linear": "linear", "timemix": "Time-Mix", "tsmixer": "TSMixer",
                "tide": "TiDE"}
LEARNED = ("linear", "timemix", "tsmixer", "tide")


def label_of(record: dict[str, Any]) -> str:
    return f"unet:{record['variant']}" if record["kind"] == "unet" else record["model"]


def per_step_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per (fit, split, step): MAE averaged over the split's conditions."""
    rows = []
    for r in records:
        for split, conds in r["metrics"].items():
            curve = average_conditions({c: v["mae"] for c, v in conds.items()})
            for h, mae in enumerate(curve, start=1):
                rows.append({"label": label_of(r), "kind": r["kind"], "context": r["context"],
                             "seed": r["seed"], "split": split, "step": h, "mae": mae})
    return pd.DataFrame(rows)


def per_condition_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per (fit, split, condition, step), plus that condition's Corr_H/Corr_W."""
    rows = []
    for r in records:
        for split, conds in r["metrics"].items():
            for cond, v in conds.items():
                for h, mae in enumerate(v["mae"], start=1):
                    rows.append({"label": label_of(r), "context": r["context"],
                                 "seed": r["seed"], "split": split, "condition": cond,
                                 "step": h, "mae": mae, "corr_h": v["corr_h"],
                                 "corr_w": v["corr_w"]})
    return pd.DataFrame(rows)


def seed_stats(values: pd.Series) -> tuple[float, float, int]:
    """Mean, 2 × standard error (NaN for one seed) and count."""
    v = values.to_numpy(dtype=float)
    se = v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else np.nan
    return float(v.mean()), float(2 * se), len(v)


def summarise(df: pd.DataFrame, keys: list[str], value: str = "mae") -> pd.DataFrame:
    """Mean ± 2 SE over seeds of ``value`` grouped by ``keys``."""
    rows = []
    for key, group in df.groupby(keys, sort=True):
        mean, two_se, n = seed_stats(group.groupby("seed")[value].mean())
        rows.append({**dict(zip(keys, key if isinstance(key, tuple) else (key,),
                                strict=True)),
                     f"{value}_mean": mean, f"{value}_2se": two_se, "n_seeds": n})
    return pd.DataFrame(rows)


def per_step_table(steps: pd.DataFrame, source: str) -> pd.DataFrame:
    out = summarise(steps, ["label", "context", "split", "step"])
    out.insert(0, "source", source)
    return out


def overall(steps: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Per (label, context, seed): MAE averaged over the 32 steps."""
    s = steps[steps["split"] == split]
    return s.groupby(["label", "kind", "context", "seed"], as_index=False)["mae"].mean()


def best_trace(ov: pd.DataFrame, context: int) -> str:
    """Trace model with the lowest seed-mean test MAE at ``context``."""
    t = ov[(ov["kind"] == "trace") & (ov["context"] == context)]
    return str(t.groupby("label")["mae"].mean().idxmin())


def differs_only_in(settings: dict[str, dict[str, Any]], reference: str,
                    keys: Sequence[str]) -> list[str]:
    """Variants equal to ``reference`` except (possibly) in ``keys`` (reference included).

    ``holdout`` (whether the held-out condition is also scored) does not change a fit.
    """
    ignore = {*keys, "holdout"}
    ref = {k: v for k, v in settings[reference].items() if k not in ignore}
    return [name for name, s in settings.items()
            if {k: v for k, v in s.items() if k not in ignore} == ref]


ARCH = ("rf_xy", "n_parameters", "macs")


def arch_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Per UNet (label, context): XY receptive field (full-resolution voxels), parameters and
    MACs per forward (records written before these were kept give NaN)."""
    rows = {(label_of(r), r["context"]): {k: r.get(k, np.nan) for k in ARCH}
            for r in records if r["kind"] == "unet"}
    return pd.DataFrame([{"label": lb, "context": c, **v} for (lb, c), v in rows.items()],
                        columns=["label", "context", *ARCH])


def _arch_of(arch: pd.DataFrame | None, name: str, context: int) -> dict[str, Any]:
    if arch is None:
        return {}
    hit = arch[(arch["label"] == f"unet:{name}") & (arch["context"] == context)]
    return {k: (hit[k].iloc[0] if len(hit) else np.nan) for k in ARCH}


def ablation_table(ov: pd.DataFrame, settings: dict[str, dict[str, Any]], reference: str,
                   keys: Sequence[str], context: int, source: str,
                   arch: pd.DataFrame | None = None) -> pd.DataFrame:
    """Test MAE (mean over steps) of the variants that differ from ``reference`` in ``keys``
    (with ``arch``: their receptive field, parameters and MACs per forward)."""
    rows = []
    for name in differs_only_in(settings, reference, keys):
        sub = ov[(ov["label"] == f"unet:{name}") & (ov["context"] == context)]
        if sub.empty:
            continue
        mean, two_se, n = seed_stats(sub.groupby("seed")["mae"].mean())
        rows.append({"source": source, "variant": name,
                     **{k: settings[name][k] for k in keys}, "context": context,
                     **_arch_of(arch, name, context),
                     "test_mae_mean": mean, "test_mae_2se": two_se, "n_seeds": n})
    return pd.DataFrame(rows)


def rf_sweep_table(steps: pd.DataFrame, arch: pd.DataFrame,
                   settings: dict[str, dict[str, Any]], reference: str, source: str,
                   late: tuple[int, int] = (9, 32)) -> pd.DataFrame:
    """Fig. 5's receptive-field sweep (variants differing from ``reference`` only in levels
    and blocks) per context: receptive field, parameters, MACs per forward and their ratio
    to the reference's, test MAE over all lead times and over ``late`` ones."""
    test = steps[steps["split"] == "test"]
    rows = []
    for name in differs_only_in(settings, reference, ["levels", "blocks"]):
        sub = test[test["label"] == f"unet:{name}"]
        for c in sorted(sub["context"].unique()):
            here = sub[sub["context"] == c]
            allm, all2, n = seed_stats(here.groupby("seed")["mae"].mean())
            lt = here[(here["step"] >= late[0]) & (here["step"] <= late[1])]
            latem, late2, _ = seed_stats(lt.groupby("seed")["mae"].mean())
            a, ref = _arch_of(arch, name, int(c)), _arch_of(arch, reference, int(c))
            rows.append({"source": source, "variant": name, "levels": settings[name]["levels"],
                         "blocks": str(settings[name]["blocks"]), "context": int(c), **a,
                         "macs_vs_reference": a["macs"] / ref["macs"],
                         "test_mae_mean": allm, "test_mae_2se": all2,
                         f"mae_steps_{late[0]}_{late[1]}_mean": latem,
                         f"mae_steps_{late[0]}_{late[1]}_2se": late2, "n_seeds": n})
    return pd.DataFrame(rows)


def table3(cond: pd.DataFrame, ov: pd.DataFrame, reference: str, contexts: Sequence[int],
           source: str) -> pd.DataFrame:
    """Corr_H and Corr_W (test, mean over training conditions) per model and context."""
    test = cond[cond["split"] == "test"].drop_duplicates(
        ["label", "context", "seed", "condition"])
    per_seed = test.groupby(["label", "context", "seed"], as_index=False)[
        ["corr_h", "corr_w"]].mean()
    rows = []
    for c in contexts:
        best = best_trace(ov, c)
        for label in sorted(per_seed[per_seed["context"] == c]["label"].unique()):
            if label.startswith("unet:") and label != f"unet:{reference}":
                continue
            sub = per_seed[(per_seed["label"] == label) & (per_seed["context"] == c)]
            h, h2, n = seed_stats(sub["corr_h"])
            w, w2, _ = seed_stats(sub["corr_w"])
            rows.append({"source": source, "model": label, "context": c,
                         "best_trace_model": label == best, "corr_h_mean": h,
                         "corr_h_2se": h2, "corr_w_mean": w, "corr_w_2se": w2,
                         "n_seeds": n})
    return pd.DataFrame(rows)
