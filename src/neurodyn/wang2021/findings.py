"""Claims W1–W5 of Wang 2021 (issue 13), decided from the collected fits by rules fixed here.

Input: the fit records of ``results/wang2021/fits.json`` (:func:`neurodyn.wang2021.collect.
load_fits`: ``task``, ``k``, ``combination``, ``fold``, ``arch``, ``kind``, accuracies as
fractions, trajectory ``mse_*`` lists per step, ``epochs_run``, ``best_epoch``, sources).

Units of uncertainty: a value per training-worm combination (the mean over its folds), or per
fold when only one combination was run; intervals are 95 % t-intervals over these units
(:func:`neurodyn.findings.mean_interval`); comparisons between models are paired per
(combination, fold) before averaging. Accuracies in percent.

Evidence rules (every claim): fewer than :data:`MIN_UNITS` units per compared model, or more
than :data:`MAX_LATE_SHARE` of the trained fits still improving (their mean validation loss
over the last :data:`LATE_FRACTION` of their epochs below the mean over the part before by
more than :data:`MIN_LATE_GAIN`; fits without a loss history: best epoch in that last part)
make a claim ``inconclusive``; so do synthetic
Kato stand-ins (one generator, never evidence) and a synthetic evaluation set. "≈ x" claims
are equivalence rules: the interval inside x ± tolerance reproduces, an interval wholly
outside it does not, an interval across the band's edge is inconclusive (too wide).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from neurodyn.findings import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    Finding,
    Interval,
    mean_interval,
)
from neurodyn.wang2021 import quoted as Q
from neurodyn.wang2021.grid import task_epochs
from neurodyn.wang2021.tables import TABLE_ARCHS, find_task, table_k, trajectory_frame

MIN_UNITS = 3
#: a trained fit whose validation loss, averaged over the last 10 % of its epochs, lies more
#: than 1 % (relative) below its average over the 10 % before is still improving (a trend of
#: window means: a best epoch at the end alone is also a converged fit creeping down at a
#: decayed learning rate, or noise on a small validation fold); more than 10 % of a claim's
#: trained fits so make it inconclusive.
LATE_FRACTION = 0.10
MIN_LATE_GAIN = 0.01
MAX_LATE_SHARE = 0.10
#: W1 "all models ≈ 99 %": each model's seen accuracy within ± 3 pp of its published number.
W1_TOL = 3.0
#: W2 "at least as well": the GNN − MLP / GNN − connectome-GNN interval above −2 pp.
W2_MARGIN = 2.0
#: W3 "≈ 92 %", seven states, the same (single) training worm: GNN at k = 1, ± 3 pp.
W3_K, W3_TOL = 1, 3.0
#: W4 "≈ 87 %", four states, GNN on 3 Kato worms, unseen Kato worms: ± 5 pp (unseen-worm
#: accuracies spread 3–10 pp in the thesis's Table 2.1, against < 1 pp on seen worms).
W4_K, W4_TOL = 3, 5.0
STEPS = (1, 8, 16)
MLP_VARIANTS = ("mlp", "node_mlp")
RNN_VARIANTS = ("lstm_mlp", "lstm_gnn")
PASS, FAIL, OPEN = "pass", "fail", "open"
NAMES = Q.MODEL_NAMES


def fit_frame(fits: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per fit: keys, accuracies in percent, epochs and data sources."""
    cols = ["task", "k", "combination", "fold", "arch", "kind", "acc_seen", "acc_unseen_kato",
            "epochs_run", "best_epoch", "kato_source", "nichols_source"]
    df = pd.DataFrame([{c: f.get(c, np.nan) for c in cols} for f in fits], columns=cols)
    for c in ("acc_seen", "acc_unseen_kato"):
        df[c] = pd.to_numeric(df[c], errors="coerce") * 100
    df["still_improving"] = [bool(f["still_improving"]) if "still_improving" in f
                             else still_improving(f) for f in fits]
    return df


def still_improving(fit: Mapping[str, Any]) -> bool:
    """Whether a trained fit's validation loss still fell materially at the end: its mean
    over the last :data:`LATE_FRACTION` of the epochs below its mean over the same number of
    epochs before by more than :data:`MIN_LATE_GAIN` (relative); without a loss history, its
    best epoch lies in that last part."""
    epochs = int(fit.get("epochs_run") or 0)
    if epochs <= 0:
        return False
    window = max(1, math.ceil(LATE_FRACTION * epochs))
    history = [float(v) for v in fit.get("val_loss_history") or []]
    if len(history) >= 2 * window:
        before = float(np.mean(history[-2 * window:-window]))
        last = float(np.mean(history[-window:]))
        return bool(last < before * (1 - MIN_LATE_GAIN))
    return int(fit.get("best_epoch") or 0) >= epochs - window


def units(values: pd.DataFrame, col: str) -> list[float]:
    """Per-combination means over folds of ``col`` (per fold if one combination)."""
    d = values.dropna(subset=[col])
    if d["combination"].nunique() >= 2:
        return d.groupby("combination")[col].mean().tolist()
    return d[col].tolist()


def paired(df: pd.DataFrame, a: str, b: str, col: str, log: bool = False) -> list[float]:
    """Units of ``a − b`` (or ``ln a − ln b``), paired per (combination, fold)."""
    wide = df.pivot_table(index=["combination", "fold"], columns="arch", values=col)
    if a not in wide or b not in wide:
        return []
    x, y = (np.log(wide[a]), np.log(wide[b])) if log else (wide[a], wide[b])
    diff = (x - y).dropna().rename("d").reset_index()
    return units(diff, "d")


def welch(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> Interval:
    """Mean of ``a`` − mean of ``b`` with a Welch t-interval (n = 1 if either has < 2)."""
    x, y = np.asarray(a, float), np.asarray(b, float)
    if x.size < 2 or y.size < 2:
        d = float(x.mean() - y.mean()) if x.size and y.size else np.nan
        return Interval(d, np.nan, np.nan, 1)
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va ** 2 / (x.size - 1) + vb ** 2 / (y.size - 1)) if se else 1.0
    half = float(stats.t.ppf(0.5 + level / 2, dof) * se)
    d = float(x.mean() - y.mean())
    return Interval(d, d - half, d + half, int(x.size + y.size))


def band(iv: Interval, target: float, tol: float) -> str:
    """Equivalence: PASS inside target ± tol, FAIL wholly outside, OPEN across an edge."""
    if iv.n < 2:
        return OPEN
    if iv.low >= target - tol and iv.high <= target + tol:
        return PASS
    return FAIL if iv.high < target - tol or iv.low > target + tol else OPEN


def evidence(df: pd.DataFrame, groups: Sequence[str], what: str) -> list[str]:
    """Reasons the fits ``df`` of the models ``groups`` cannot decide a claim."""
    if df.empty:
        return [f"no {what} fits in this run"]
    reasons = []
    for arch in groups:
        sel = df[df["arch"] == arch]
        n = sel["combination"].nunique()
        n = n if n >= 2 else sel["fold"].nunique()
        if n < MIN_UNITS:
            reasons.append(f"{NAMES.get(arch, arch)}: {n} combination(s)/fold(s), need "
                           f"{MIN_UNITS}")
    trained = df[pd.to_numeric(df["epochs_run"], errors="coerce").fillna(0) > 0]
    if not trained.empty:
        late = trained["still_improving"].astype(bool)
        if late.mean() > MAX_LATE_SHARE:
            reasons.append(f"{int(late.sum())} of {len(trained)} trained fits still improving "
                           f"(mean validation loss of the last {LATE_FRACTION:.0%} of epochs "
                           f"> {MIN_LATE_GAIN:.0%} below the {LATE_FRACTION:.0%} before)")
    if (df["kato_source"] != "real").any():
        reasons.append("synthetic Kato stand-ins (one generator): never evidence")
    return reasons


def decide(reasons: list[str], parts: Sequence[str], open_reason: str) -> tuple[str, str]:
    """Verdict and reason: thin evidence first, then any failed part, then any open one."""
    if reasons:
        return INCONCLUSIVE, "; ".join(reasons)
    if FAIL in parts or not parts:
        return NOT_REPRODUCED, ""
    return (INCONCLUSIVE, open_reason) if OPEN in parts else (REPRODUCED, "")


def pct(iv: Interval) -> str:
    return iv.text(".1f")


def kato_label(df: pd.DataFrame, extra: str = "") -> str:
    """The ``data`` column: real Kato (or synthetic stand-ins), plus deviations."""
    src = set(df["kato_source"].dropna()) if not df.empty else set()
    base = ("real: Kato 2015 WT_NoStim worms (the thesis's training data)" if src == {"real"}
            else "synthetic Kato-like stand-ins (neurodyn generator; pipeline check)")
    return base + (f"; {extra}" if extra else "")


def _sel(df: pd.DataFrame, task: str | None, k: int, archs: Sequence[str]) -> pd.DataFrame:
    return df[(df["task"] == task) & (df["k"] == k) & df["arch"].isin(archs)]


def w1_seen(df: pd.DataFrame, cfg: Mapping[str, Any]) -> Finding:
    """W1: every Table 2.1 model's 2-state seen accuracy interval lies within its published
    number ± :data:`W1_TOL` pp (at k = ``table_k``)."""
    k = table_k(cfg)
    sel = _sel(df, find_task(cfg, "classify", 2, nichols=False), k, TABLE_ARCHS)
    reasons = evidence(sel, TABLE_ARCHS, "2-state")
    ivs = {a: mean_interval(units(sel[sel.arch == a], "acc_seen")) for a in TABLE_ARCHS}
    parts = [band(ivs[a], Q.TABLE_2_1[a][0][0], W1_TOL) for a in TABLE_ARCHS]
    return Finding(
        "W1", "Two states, seen Kato worms: all models ≈ 99 %",
        "Table 2.1 (published): SVM 98.8, MLP 99.3, GNN (connectome) 99.5, GNN 99.5 %",
        f"k = {k}, accuracy % mean [95% CI]: "
        + "; ".join(f"{NAMES[a]} {pct(ivs[a])}" for a in TABLE_ARCHS),
        f"each model's interval within its published number ± {W1_TOL:g} pp",
        *decide(reasons, parts, "an interval crosses the edge of a ± 3 pp band"),
        kato_label(sel), len(sel))


def w2_unseen(df: pd.DataFrame, cfg: Mapping[str, Any]) -> Finding:
    """W2: on unseen Kato worms each deep model beats the SVM (paired interval above 0) and the
    GNN is at least as good as the MLP and the connectome GNN (paired interval above
    −:data:`W2_MARGIN` pp)."""
    k = table_k(cfg)
    sel = _sel(df, find_task(cfg, "classify", 2, nichols=False), k, TABLE_ARCHS)
    reasons = evidence(sel, TABLE_ARCHS, "2-state")
    col = "acc_unseen_kato"
    ivs = {a: mean_interval(units(sel[sel.arch == a], col)) for a in TABLE_ARCHS}
    beat = {a: mean_interval(paired(sel, a, "svm", col)) for a in TABLE_ARCHS[1:]}
    keep = {b: mean_interval(paired(sel, "gnn", b, col)) for b in ("mlp", "gnn_connectome")}
    parts = [PASS if iv.above else FAIL for iv in beat.values()]
    parts += [PASS if iv.n >= 2 and iv.low > -W2_MARGIN else FAIL for iv in keep.values()]
    return Finding(
        "W2", "Unseen Kato worms: the deep models beat the SVM; the GNN with inferred edges "
        "generalises at least as well as the MLP and the connectome GNN",
        "Table 2.1 (published): SVM 82.8 ± 7.6, MLP 93.9, GNN (connectome) 96.8, "
        "GNN 97.7 ± 3.1 %",
        f"k = {k}, accuracy %: " + "; ".join(f"{NAMES[a]} {pct(ivs[a])}" for a in TABLE_ARCHS)
        + "; paired differences: " + "; ".join(f"{NAMES[a]}−SVM {pct(iv)}"
                                               for a, iv in beat.items())
        + "; " + "; ".join(f"GNN−{NAMES[b]} {pct(iv)}" for b, iv in keep.items()),
        f"each deep−SVM interval above 0; GNN−MLP and GNN−connectome intervals above "
        f"−{W2_MARGIN:g} pp", *decide(reasons, parts, ""),
        kato_label(sel, "held-out Kato worms of each combination"), len(sel))


def _approx(claim: str, statement: str, paper: str, sel: pd.DataFrame, col: str, k: int,
            target: float, tol: float, groups: Sequence[str] = ("gnn",),
            extra_parts: Sequence[str] = (), extra: str = "", data: str = "") -> Finding:
    gnn = mean_interval(units(sel[sel.arch == "gnn"], col))
    others = [f"{NAMES.get(a, a)} {pct(mean_interval(units(g, col)))}"
              for a, g in sel.groupby("arch") if a != "gnn"]
    reasons = evidence(sel[sel["arch"].isin(groups)], groups, claim)
    parts = [band(gnn, target, tol), *extra_parts]
    return Finding(
        claim, statement, paper,
        f"k = {k}, GNN accuracy % {pct(gnn)}" + (f" (others: {'; '.join(others)})"
                                                  if others else "") + extra,
        f"GNN interval within {target:g} ± {tol:g} pp" + (" and GNN−MLP paired interval above 0"
                                                         if extra_parts else ""),
        *decide(reasons, parts, f"the GNN's interval crosses the edge of {target:g} ± "
                f"{tol:g} pp (too wide to decide)"), data or kato_label(sel), len(sel))


def w3_seven_states(df: pd.DataFrame, cfg: Mapping[str, Any]) -> Finding:
    """W3: the 7-state GNN trained on one worm, tested on that worm's held-out windows: its
    accuracy interval within :data:`Q.SEVEN_STATE_SEEN` ± :data:`W3_TOL` pp."""
    sel = df[(df["task"] == find_task(cfg, "classify", 7, nichols=False))
             & (df["k"] == W3_K)]
    return _approx("W3", "Seven states, the same worm: ≈ 92 %",
                   f"Fig. 2.2A (published): ≈ {Q.SEVEN_STATE_SEEN:g} %", sel, "acc_seen",
                   W3_K, Q.SEVEN_STATE_SEEN, W3_TOL)


def w4_four_states(df: pd.DataFrame, cfg: Mapping[str, Any]) -> Finding:
    """W4: the 4-state GNN trained on 3 Kato worms, on the remaining Kato worms: interval within
    :data:`Q.FOUR_STATE_GNN_UNSEEN_KATO` ± :data:`W4_TOL` pp, and above the MLP (paired
    interval above 0)."""
    sel = df[(df["task"] == find_task(cfg, "classify", 4, nichols=False))
             & (df["k"] == W4_K)]
    gap = mean_interval(paired(sel, "gnn", "mlp", "acc_unseen_kato"))
    return _approx("W4", "Four states, GNN on 3 Kato worms, remaining Kato worms: ≈ 87 %, "
                   "above the MLP",
                   f"Fig. 2.2B (published): GNN ≈ {Q.FOUR_STATE_GNN_UNSEEN_KATO:g} %, above "
                   "the MLP", sel, "acc_unseen_kato", W4_K, Q.FOUR_STATE_GNN_UNSEEN_KATO,
                   W4_TOL, ("gnn", "mlp"), [PASS if gap.above else FAIL], f"; GNN−MLP {pct(gap)}",
                   kato_label(sel, "held-out Kato worms of each combination"))


def eval_set(traj: pd.DataFrame, df: pd.DataFrame) -> tuple[str | None, bool]:
    """The trajectory evaluation set and whether it is real: real Nichols worms (the
    thesis's), else held-out real Kato worms, else the synthetic Nichols stand-ins."""
    have = set(traj["data"])
    real = {"nichols": set(df["nichols_source"].dropna()) == {"real"},
            "unseen_kato": set(df["kato_source"].dropna()) == {"real"}}
    for data in ("nichols", "unseen_kato"):
        if data in have and real[data]:
            return data, True
    for data in ("nichols", "unseen_kato"):
        if data in have:
            return data, False
    return None, False


def w5_trajectory(fits: Sequence[Mapping[str, Any]], df: pd.DataFrame,
                  cfg: Mapping[str, Any]) -> Finding:
    """W5: (a) at the largest k with the evaluation set, the Markovian GNN's paired log-MSE
    gap to every MLP and RNN variant has an interval below 0 at steps 1, 8 and 16; (b) the
    GNN's log MSE at the largest k minus that at the smallest k (Welch interval) lies below
    0 at each of these steps."""
    task = find_task(cfg, "trajectory")
    others = MLP_VARIANTS + RNN_VARIANTS
    traj = trajectory_frame([f for f in fits if f["task"] == task])
    traj = traj[traj["step"].isin(STEPS) & traj["mse"].notna()]
    data, real = eval_set(traj, df)
    traj = traj[traj["data"] == data]
    ks = sorted(set(traj["k"]))
    top = traj[traj["k"] == ks[-1]] if ks else traj
    sel = df[(df["task"] == task) & df["arch"].isin(("gnn", *others))]
    reasons = evidence(sel[sel["k"] == ks[-1]] if ks else sel, ("gnn", *others), "trajectory")
    where = {"nichols": "Nichols worms", "unseen_kato": "held-out Kato worms"}.get(data or "",
                                                                                  "—")
    if data is not None and not real:
        reasons.append(f"evaluated on synthetic {where} (stand-ins): never evidence")
    missing = [NAMES[a] for a in ("gnn", *others) if a not in set(top["arch"])]
    if missing:
        reasons.append("missing " + ", ".join(missing))
    gaps, parts = [], []
    for s in STEPS:
        at = top[top["step"] == s]
        for b in others:
            iv = mean_interval(paired(at, "gnn", b, "mse", log=True))
            gaps.append(f"s{s} {NAMES[b]} {iv.text('.2f')}")
            parts.append(PASS if iv.below else FAIL)
    trend = []
    if len(ks) < 2:
        reasons.append(f"{len(ks)} training-worm count(s) with this evaluation set, need 2")
    else:
        gnn = traj[traj["arch"] == "gnn"]
        for s in STEPS:
            at = gnn[gnn["step"] == s].assign(lmse=lambda d: np.log(d["mse"]))
            iv = welch(units(at[at.k == ks[-1]], "lmse"), units(at[at.k == ks[0]], "lmse"))
            trend.append(f"s{s} {iv.text('.2f')}")
            parts.append(PASS if iv.below else FAIL)
    return Finding(
        "W5", "Trajectory: the Markovian GNN has lower MSE than the MLP and RNN variants at "
        "1, 8 and 16 steps, and more training worms lower the error",
        "Fig. 2.3B (published): GNN lowest at 1, 8, 16 steps; error falls with training worms",
        f"{where}, k = {ks[-1] if ks else '—'}, ln MSE GNN − other, mean [95% CI]: "
        + ("; ".join(gaps) or "—") + f"; GNN ln MSE k = {ks[-1] if ks else '—'} − k = "
        f"{ks[0] if ks else '—'}: " + ("; ".join(trend) or "—"),
        "every GNN−variant log-MSE interval below 0 at steps 1, 8, 16 (largest k), and the "
        "GNN's largest-k − smallest-k log-MSE interval below 0 at each step",
        *decide(reasons, parts, ""),
        kato_label(sel, f"evaluated on {where}"
                   + (" (thesis: Nichols worms)" if data == "unseen_kato" else "")
                   + ("; Nichols worms SYNTHETIC stand-ins" if data == "nichols" and not real
                      else "")), len(sel))


def training_deviations(cfg: Mapping[str, Any], task: str | None) -> str:
    """The task's training settings that differ from the thesis's (``Q.THESIS_TRAINING``),
    as 'ours (thesis)'; empty when none differ or the task is not configured."""
    if task is None or task not in cfg["tasks"]:
        return ""
    kind = "classify" if cfg["tasks"][task]["kind"] == "classify" else "trajectory"
    if kind not in cfg:
        return ""
    ours = {**cfg.get(kind, {}), "epochs": task_epochs(cfg, task)}
    names = {"epochs": "epochs", "lr": "lr", "lr_patience": "plateau patience",
             "hidden": "hidden", "ss_epochs": "scheduled-sampling epochs"}
    parts = [f"{names[key]} {ours[key]:g} ({thesis:g})"
             for key, thesis in Q.THESIS_TRAINING[kind].items()
             if key in ours and float(ours[key]) != float(thesis)]
    return "deviations, ours (thesis): " + ", ".join(parts) if parts else ""


CLAIM_TASKS = {"W1": ("classify", 2), "W2": ("classify", 2), "W3": ("classify", 7),
               "W4": ("classify", 4), "W5": ("trajectory", None)}


def wang2021_findings(fits: Sequence[Mapping[str, Any]],
                      cfg: Mapping[str, Any]) -> list[Finding]:
    """W1–W5 from the collected fit records and the study's config; each data column ends
    with the run's training settings that differ from the thesis's."""
    df = fit_frame(fits)
    out = []
    for finding in (w1_seen(df, cfg), w2_unseen(df, cfg), w3_seven_states(df, cfg),
                    w4_four_states(df, cfg), w5_trajectory(fits, df, cfg)):
        kind, states = CLAIM_TASKS[finding.claim]
        nichols = False if kind == "classify" else None
        dev = training_deviations(cfg, find_task(cfg, kind, states, nichols=nichols))
        out.append(replace(finding, data=f"{finding.data}; {dev}") if dev else finding)
    return out
