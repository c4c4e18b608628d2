"""Claims S1–S6 of Simeon et al. 2024, decided from the fits tables by rules fixed here.

Input: the concatenated fits tables of every cohort (:func:`neurodyn.scaling.collect.fits_table`
rows: ``cohort``, ``experiment``, ``arch``, ``seed``, ``n_worms``, ``n_train_steps``,
``n_params``, ``min_val_loss``, ``val_baseline``, ``epochs_run``, ``stopped_early``).
Intervals are 95 % t-intervals over seeds (:func:`neurodyn.findings.mean_interval`).

Evidence rules (shared by every claim): a trained fit that ended at the epoch cap instead of
by early stopping has not converged, so a claim resting on one is ``inconclusive``; so is a
claim with fewer than :data:`MIN_SEEDS` seeds. One exception: a fit's ``min_val_loss`` is the
minimum over its epochs, so more epochs could only lower it; a claim that losses are *below*
a bound (S3, S5) that capped fits already meet is decided. S1–S4 are claims about C. elegans
data: they rest on the real cohort only; the synthetic stand-ins share one generator and are
never evidence (their rows say so). S5 and S6 rest on the paper's own synthetic controls.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from neurodyn.findings import (
    INCONCLUSIVE,
    Finding,
    Interval,
    mean_interval,
    verdict,
)
from neurodyn.scaling.analysis import loglog_fit

MIN_SEEDS = 3
MIN_WORM_COUNTS = 6
MIN_SIZES = 4
RECURRENT = ("CTRNN", "LSTM")
MEMORYLESS = ("Feedforward", "Linear")
#: S4: a step between consecutive sizes counts as a fall when the mean loss drops by more
#: than this fraction, as flat within it, as a rise above it.
FLAT = 0.05
#: S5: "a large factor" = the recurrent models' loss at most half the naive baseline's.
SINES_FACTOR = 2.0
#: S6: no model beats the random walk's naive baseline by more than 2 %.
RANDOMWALK_MARGIN = 0.02
PAPER_SLOPES = {"CTRNN": -0.65, "Feedforward": -0.40}


def _trained(fits: pd.DataFrame) -> pd.DataFrame:
    return fits[fits["arch"] != "Baseline"]


def _capped(fits: pd.DataFrame) -> int:
    """Trained fits that ended at the epoch cap (not stopped early)."""
    trained = _trained(fits)
    if trained.empty:
        return 0
    return int((~trained["stopped_early"].astype("boolean").fillna(False)).sum())


def _evidence(fits: pd.DataFrame, what: str, need_seeds: int = MIN_SEEDS,
              count_capped: bool = True) -> list[str]:
    """Reasons the fits cannot decide a claim (empty: they can); ``count_capped=False`` for a
    lower-is-passing claim that the fits already pass."""
    if fits.empty:
        return [f"no {what} fits in this run"]
    reasons = []
    seeds = fits["seed"].nunique()
    if seeds < need_seeds:
        reasons.append(f"{seeds} seed(s), need {need_seeds}")
    capped = _capped(fits) if count_capped else 0
    if capped:
        reasons.append(f"{capped} of {len(_trained(fits))} fits hit the epoch cap")
    return reasons


def _ratio(g: pd.DataFrame) -> pd.Series:
    return g["min_val_loss"].astype(float) / g["val_baseline"].astype(float)


def _largest(fits: pd.DataFrame) -> pd.DataFrame:
    """Data-scaling fits at the largest training-worm count."""
    ds = fits[fits["experiment"] == "data_scaling"]
    return ds[ds["n_worms"] == ds["n_worms"].max()] if not ds.empty else ds


def _n_seeds(fits: pd.DataFrame) -> int:
    return int(fits["seed"].nunique()) if not fits.empty else 0


def _real_or_reason(fits: pd.DataFrame) -> tuple[pd.DataFrame, list[str], str]:
    """The real cohort's fits, or the synthetic one's with the reason they decide nothing."""
    real = fits[fits["cohort"] == "real"]
    if not real.empty:
        return real, [], "real"
    synthetic = fits[fits["cohort"] == "synthetic"]
    return synthetic, ["synthetic stand-ins only (one generator): never evidence"], "synthetic"


def slope_by_seed(g: pd.DataFrame) -> list[float]:
    """ln–ln slope of ``min_val_loss`` on ``n_train_steps`` per seed (nested subsets)."""
    out = []
    for _, s in g.groupby("seed"):
        if s["n_train_steps"].nunique() >= 2:
            out.append(loglog_fit(s["n_train_steps"], s["min_val_loss"])[0])
    return out


def s1_data_scaling(fits: pd.DataFrame, data: str) -> Finding:
    """S1: per trained architecture, the slope's interval over seeds lies below 0."""
    ds = _trained(fits[fits["experiment"] == "data_scaling"])
    reasons = list(_evidence(ds, "data-scaling"))
    counts = ds["n_worms"].nunique() if not ds.empty else 0
    if counts < MIN_WORM_COUNTS:
        reasons.append(f"{counts} distinct worm counts, need {MIN_WORM_COUNTS}")
    slopes = {a: mean_interval(slope_by_seed(g)) for a, g in ds.groupby("arch")}
    passed = bool(slopes) and all(iv.below for iv in slopes.values())
    measured = "; ".join(f"{a} {iv.text()}" for a, iv in slopes.items()) or "—"
    return Finding(
        "S1", "Validation loss falls with training data as a power law for every architecture",
        "Fig. 4A (published): ln–ln slopes CTRNN −0.65, Feedforward −0.40",
        f"slope, mean [95% CI over seeds]: {measured}",
        "every trained architecture's slope interval over seeds lies below 0",
        *verdict(reasons, passed), data, _n_seeds(ds))


def _paired_log_gap(top: pd.DataFrame, a: str, b: str) -> Interval:
    """Per seed ln(loss_a) − ln(loss_b) at the largest data size; its mean and interval."""
    la = top[top["arch"] == a].set_index("seed")["min_val_loss"].astype(float)
    lb = top[top["arch"] == b].set_index("seed")["min_val_loss"].astype(float)
    both = la.index.intersection(lb.index)
    return mean_interval(np.log(la[both]) - np.log(lb[both]))


def s2_recurrent_best(fits: pd.DataFrame, data: str) -> Finding:
    """S2: LSTM and CTRNN below Feedforward and Linear at the largest data size (per-seed
    log-loss gaps, each pair's interval below 0)."""
    top = _largest(fits)
    top = top[top["arch"].isin(RECURRENT + MEMORYLESS)]
    reasons = list(_evidence(top, "largest-size"))
    missing = [a for a in RECURRENT + MEMORYLESS if a not in set(top["arch"])]
    if missing:
        reasons.append(f"missing architectures {', '.join(missing)}")
    gaps = {(r, m): _paired_log_gap(top, r, m) for r in RECURRENT for m in MEMORYLESS
            if not missing}
    passed = bool(gaps) and all(iv.below for iv in gaps.values())
    measured = "; ".join(f"ln {r}/{m} {iv.text()}" for (r, m), iv in gaps.items()) or "—"
    return Finding(
        "S2", "At the largest data size, LSTM and CTRNN reach lower loss than Feedforward and "
        "Linear at matched parameters", "Fig. 4A/5A (published): recurrent models lowest",
        f"per-seed log-loss gap, mean [95% CI]: {measured}",
        "each recurrent−memoryless log-loss gap's interval over seeds lies below 0",
        *verdict(reasons, passed), data, _n_seeds(top))


def s3_beat_baseline(fits: pd.DataFrame, data: str) -> Finding:
    """S3: every trained architecture's loss/baseline ratio at the largest data size has an
    interval below 1; the effect size is the ratio itself."""
    top = _trained(_largest(fits))
    ratios = {a: mean_interval(_ratio(g) - 1.0) for a, g in top.groupby("arch")}
    passed = bool(ratios) and all(iv.below for iv in ratios.values())
    reasons = list(_evidence(top, "largest-size", count_capped=not passed))
    base = float(top["val_baseline"].median()) if not top.empty else np.nan
    measured = "; ".join(f"{a} {100 * iv.mean:+.1f}% [{100 * iv.low:+.1f}, "
                         f"{100 * iv.high:+.1f}]" for a, iv in ratios.items()) or "—"
    return Finding(
        "S3", "At the largest data size the trained models beat the naive baseline",
        "Table/Fig. 5 (published): baseline 0.03541, Linear 0.03533 (−0.2 %)",
        f"baseline {base:.4g}; loss vs baseline, mean [95% CI over seeds]: {measured}",
        "every trained architecture's loss/baseline − 1 interval lies below 0",
        *verdict(reasons, passed), data, _n_seeds(top))


def curve_shape(sizes: Sequence[float], losses: Sequence[float], flat: float = FLAT) -> str:
    """Shape of a loss-vs-size curve (sizes ascending): each step is a fall, flat or rise
    (relative change beyond ``flat``); consecutive equal steps are merged, e.g.
    ``"falls, flattens"`` or ``"falls, rises"``."""
    order = np.argsort(sizes)
    y = np.asarray(losses, dtype=float)[order]
    words = []
    for a, b in zip(y[:-1], y[1:], strict=True):
        change = (b - a) / a
        word = "falls" if change < -flat else "rises" if change > flat else "flattens"
        if not words or words[-1] != word:
            words.append(word)
    return ", ".join(words) if words else "single size"


def s4_model_scaling(fits: pd.DataFrame, data: str) -> Finding:
    """S4: per sized architecture, the mean loss over seeds first falls with parameter count,
    then flattens or rises (its shape starts with "falls" and does not end with "falls")."""
    ms = _trained(fits[fits["experiment"] == "model_scaling"])
    ms = ms[~ms["arch"].isin(MEMORYLESS[1:])]  # Linear has one size
    reasons = list(_evidence(ms, "model-scaling", need_seeds=1))
    shapes = {}
    for arch, g in ms.groupby("arch"):
        mean = g.groupby("n_params")["min_val_loss"].mean()
        if len(mean) < MIN_SIZES:
            reasons.append(f"{arch}: {len(mean)} sizes, need {MIN_SIZES}")
        shapes[arch] = curve_shape(mean.index.to_numpy(float), mean.to_numpy(float))
    passed = bool(shapes) and all(s.startswith("falls") and not s.endswith("falls")
                                  for s in shapes.values())
    measured = "; ".join(f"{a}: {s}" for a, s in shapes.items()) or "—"
    return Finding(
        "S4", "Loss falls with parameter count, then flattens or rises",
        "Fig. 5B (published): falls, then flattens or rises at large sizes",
        f"shape of mean loss over seeds vs parameters (steps beyond ±{FLAT:.0%}): {measured}",
        "every sized architecture's curve starts by falling and ends flat or rising",
        *verdict(reasons, passed), data, _n_seeds(ms))


def s5_sines(fits: pd.DataFrame) -> Finding:
    """S5: on Sines, LSTM and CTRNN reach at most 1/SINES_FACTOR of the baseline's loss
    (interval of the ratio over seeds below 1/SINES_FACTOR), at the largest data size."""
    top = _largest(fits[(fits["cohort"] == "sines") & fits["arch"].isin(RECURRENT)])
    ratios = {a: mean_interval(_ratio(g) - 1 / SINES_FACTOR) for a, g in top.groupby("arch")}
    passed = bool(ratios) and all(iv.below for iv in ratios.values())
    reasons = list(_evidence(top, "Sines", count_capped=not passed))
    missing = [a for a in RECURRENT if a not in ratios]
    if missing and not top.empty:
        reasons.append(f"missing architectures {', '.join(missing)}")
    measured = "; ".join(f"{a} loss/baseline {iv.mean + 1 / SINES_FACTOR:.3g} "
                         f"[{iv.low + 1 / SINES_FACTOR:.3g}, {iv.high + 1 / SINES_FACTOR:.3g}]"
                         for a, iv in ratios.items()) or "—"
    return Finding(
        "S5", "On Sines the recurrent models beat the naive baseline by a large factor",
        "Fig. 3 (published): recurrent models far below the baseline on Sines",
        measured, f"LSTM and CTRNN loss/baseline interval below 1/{SINES_FACTOR:g}",
        *verdict(reasons, passed), "synthetic (Sines control, the paper's own)",
        _n_seeds(top))


def s6_randomwalk(fits: pd.DataFrame) -> Finding:
    """S6: on RandomWalk, no trained fit's loss is below (1 − 2 %) of the baseline's."""
    rw = _trained(fits[fits["cohort"] == "randomwalk"])
    reasons = list(_evidence(rw, "RandomWalk", need_seeds=1))
    ratio = _ratio(rw)
    lowest = float(ratio.min()) if not rw.empty else np.nan
    arch = str(rw.loc[ratio.idxmin(), "arch"]) if not rw.empty else "—"
    passed = bool(not rw.empty and lowest >= 1 - RANDOMWALK_MARGIN)
    return Finding(
        "S6", "On RandomWalk no model beats the naive baseline by more than 2 %",
        "Fig. 3 (published): no model below the baseline on RandomWalk",
        f"lowest loss/baseline over {len(rw)} fits: {lowest:.4g} ({arch})",
        f"every trained fit's loss/baseline ≥ {1 - RANDOMWALK_MARGIN:g}",
        *verdict(reasons, passed), "synthetic (RandomWalk control, the paper's own)",
        _n_seeds(rw))


def scaling_findings(fits: pd.DataFrame, real_label: str = "real") -> list[Finding]:
    """S1–S6 from the fits of every cohort. ``real_label`` names the real datasets (and any
    deviation) for the ``data`` column."""
    worms, extra, kind = _real_or_reason(fits)
    data = real_label if kind == "real" else "synthetic C. elegans stand-ins (pipeline check)"
    rows = [s1_data_scaling(worms, data), s2_recurrent_best(worms, data),
            s3_beat_baseline(worms, data), s4_model_scaling(worms, data)]
    if extra:  # synthetic stand-ins: every C. elegans claim is inconclusive, saying why
        rows = [Finding(**{**r.__dict__, "verdict": INCONCLUSIVE,
                           "reason": "; ".join(filter(None, [*extra, r.reason]))})
                for r in rows]
    return rows + [s5_sines(fits), s6_randomwalk(fits)]


def real_data_label(fits: pd.DataFrame, matched_params: int) -> str:
    """The ``data`` column of S1–S4 on the real cohort: datasets, worms and the deviations
    from the paper's data (284 worms of 8 datasets, ~580K-parameter matched models)."""
    real = fits[fits["cohort"] == "real"]
    sources = sorted(c.removeprefix("val_loss__") for c in real.columns
                     if c.startswith("val_loss__") and real[c].notna().any())
    worms = int(real["n_worms"].max()) if not real.empty else 0
    return (f"real: {', '.join(sources) or '?'} ({worms} worms; paper: 284 worms of 8 "
            f"datasets); matched models {matched_params:,} parameters (paper: 580,000)")
