"""From fit records to tables: per-step curves, Tables 1-3, findings (mean ± 2 SE over seeds).

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


def ablation_table(ov: pd.DataFrame, settings: dict[str, dict[str, Any]], reference: str,
                   keys: Sequence[str], context: int, source: str) -> pd.DataFrame:
    """Test MAE (mean over steps) of the variants that differ from ``reference`` in ``keys``."""
    rows = []
    for name in differs_only_in(settings, reference, keys):
        sub = ov[(ov["label"] == f"unet:{name}") & (ov["context"] == context)]
        if sub.empty:
            continue
        mean, two_se, n = seed_stats(sub.groupby("seed")["mae"].mean())
        rows.append({"source": source, "variant": name,
                     **{k: settings[name][k] for k in keys}, "context": context,
                     "test_mae_mean": mean, "test_mae_2se": two_se, "n_seeds": n})
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


def _margin(per_seed: pd.Series) -> tuple[float, float, int, str]:
    """Mean margin ± 2 SE over seeds and a verdict (positive margin = finding reproduced)."""
    mean, two_se, n = seed_stats(per_seed)
    if n < 2 or not np.isfinite(two_se):
        verdict = "reproduced (1 seed, no margin)" if mean > 0 else "not reproduced (1 seed)"
    elif mean - two_se > 0:
        verdict = "reproduced"
    elif mean + two_se < 0:
        verdict = "reversed"
    else:
        verdict = "not resolved (within 2 SE)"
    return mean, two_se, n, verdict


def findings(steps: pd.DataFrame, settings: dict[str, dict[str, Any]], reference: str,
             short: int, long: int, source: str) -> pd.DataFrame:
    """The papers' qualitative findings, measured as margins over seeds (not tuned for)."""
    ov = overall(steps)
    piv = ov.pivot_table(index="seed", columns=["label", "context"], values="mae")
    rows: list[dict[str, Any]] = []

    def add(finding: str, margin: pd.Series, unit: str = "MAE") -> None:
        mean, two_se, n, verdict = _margin(margin.dropna())
        rows.append({"source": source, "finding": finding, "margin_mean": mean,
                     "margin_2se": two_se, "unit": unit, "n_seeds": n, "result": verdict})

    def col(label: str, c: int) -> pd.Series | None:
        return piv[(label, c)] if (label, c) in piv.columns else None

    for c in (short, long):
        naive = [s for s in (col("mean", c), col("last", c)) if s is not None]
        learned = [s for m in LEARNED if (s := col(m, c)) is not None]
        if naive and learned:
            add(f"Q1 every learned trace model beats mean and last value (C={c})",
                pd.concat(naive, axis=1).min(axis=1) - pd.concat(learned, axis=1).max(axis=1))
    if col("timemix", short) is not None and col("timemix", long) is not None:
        add(f"Q2 long context helps Time-Mix (C={short} minus C={long})",
            col("timemix", short) - col("timemix", long))
        others = [piv[k] for k in piv.columns if not str(k[0]).startswith("unet:")
                  and k != ("timemix", long)]
        if others:
            add(f"Q2b Time-Mix C={long} is the best trace model (next best minus it)",
                pd.concat(others, axis=1).min(axis=1) - col("timemix", long))
    unet = col(f"unet:{reference}", short)
    traces_short = [piv[k] for k in piv.columns if not str(k[0]).startswith("unet:")
                    and k[1] == short]
    if unet is not None and traces_short:
        add(f"Q3 UNet beats every trace model at C={short} (best trace minus UNet)",
            pd.concat(traces_short, axis=1).min(axis=1) - unet)
        s = steps[(steps["split"] == "test") & (steps["step"] <= 8)]
        early = s.pivot_table(index="seed", columns=["label", "context"], values="mae")
        tr = [early[k] for k in early.columns if not str(k[0]).startswith("unet:")
              and k[1] == short]
        if (f"unet:{reference}", short) in early.columns:
            add(f"Q3b ... at lead times 1-8 (best trace minus UNet, C={short})",
                pd.concat(tr, axis=1).min(axis=1) - early[(f"unet:{reference}", short)])
    for name in differs_only_in(settings, reference, ["input_mask"]):
        if name != reference and col(f"unet:{name}", short) is not None and unet is not None:
            add(f"Q4 masking unsegmented input voxels ({name}) changes test MAE by < 1% "
                "(margin = 1% − |relative change|)",
                1.0 - 100 * (col(f"unet:{name}", short) - unet).abs() / unet, unit="%")
    late = steps[(steps["split"] == "test") & (steps["step"] > 8)]
    late_p = late.pivot_table(index="seed", columns=["label", "context"], values="mae")
    for name in differs_only_in(settings, reference, ["levels"]):
        lv, ref_lv = settings[name]["levels"], settings[reference]["levels"]
        if lv < ref_lv and (f"unet:{name}", short) in late_p.columns \
                and (f"unet:{reference}", short) in late_p.columns:
            add(f"Q5 {ref_lv} pooling levels beat {lv} at lead times 9-32 (C={short})",
                late_p[(f"unet:{name}", short)] - late_p[(f"unet:{reference}", short)])
    for name in differs_only_in(settings, reference, ["train_split"]):
        if settings[name]["train_split"] == "train_val" and unet is not None \
                and col(f"unet:{name}", short) is not None:
            add("Q6 training on train+val lowers test MAE (train minus train+val)",
                unet - col(f"unet:{name}", short))
    return pd.DataFrame(rows)
