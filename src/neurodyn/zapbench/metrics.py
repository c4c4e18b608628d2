"""ZAPBench metrics (spec §2): per-step MAE averaged neurons → windows → conditions; Corr_H/W.

Arrays are ``(window, step, neuron)``. NaNs in predictions and targets are set to 0 first,
as in the reference evaluation.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np


def _clean(a: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.asarray(a, dtype=np.float64), nan=0.0)


def window_step_mae(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """MAE over neurons for every window and step: ``(window, step)``."""
    return np.abs(_clean(pred) - _clean(target)).mean(axis=2)


def condition_step_mae(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-step MAE of one condition: neurons, then windows. ``(step,)``."""
    return window_step_mae(pred, target).mean(axis=0)


def average_conditions(curves: Mapping[str, np.ndarray] | Sequence[np.ndarray]) -> np.ndarray:
    """Equal-weight mean of per-condition curves (not weighted by window counts)."""
    values = list(curves.values()) if isinstance(curves, Mapping) else list(curves)
    return np.mean(np.stack([np.asarray(v, dtype=np.float64) for v in values]), axis=0)


def _pearson(a: np.ndarray, b: np.ndarray, axis: int) -> np.ndarray:
    """Pearson r along ``axis``; NaN where either side has zero variance."""
    a = a - a.mean(axis=axis, keepdims=True)
    b = b - b.mean(axis=axis, keepdims=True)
    num = (a * b).sum(axis=axis)
    den = np.sqrt((a * a).sum(axis=axis) * (b * b).sum(axis=axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-12, num / np.where(den > 1e-12, den, 1.0), np.nan)


def corr_h(pred: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Correlation over the horizon of one condition, and the fraction of skipped pairs.

    Per window and neuron, Pearson r across the H steps; mean over neurons, then windows.
    (window, neuron) pairs with zero variance on either side are skipped.
    """
    r = _pearson(_clean(pred), _clean(target), axis=1)  # (window, neuron)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN
        value = float(np.nanmean(np.nanmean(r, axis=1)))
    return value, float(np.isnan(r).mean())


def _run_sums(x: np.ndarray, length: int) -> np.ndarray:
    """Sums over every run of ``length`` consecutive windows: (W − length + 1, ...)."""
    c = np.concatenate([np.zeros_like(x[:1]), np.cumsum(x, axis=0)])
    return c[length:] - c[:-length]


def corr_w(pred: np.ndarray, target: np.ndarray,
           length: int | None = None) -> tuple[float, float]:
    """Correlation over windows at a fixed lead time, and the fraction of skipped pairs.

    At lead step h the forecasts of ``length`` consecutive stride-1 windows (default H = 32)
    form a ``length``-frame snippet of each neuron's trace; Pearson r between that snippet
    and the true one, for every snippet start, step and neuron; mean over all of them.
    Zero-variance pairs are skipped; fewer windows than ``length`` give NaN.
    """
    p, t = _clean(pred), _clean(target)
    n = int(p.shape[1] if length is None else length)
    if p.shape[0] < n or n < 2:
        return float("nan"), 1.0
    sp, st = _run_sums(p, n), _run_sums(t, n)
    spp, stt = _run_sums(p * p, n), _run_sums(t * t, n)
    cov = _run_sums(p * t, n) - sp * st / n
    vp, vt = spp - sp * sp / n, stt - st * st / n
    ok = (vp > 1e-9 * (spp + 1e-30)) & (vt > 1e-9 * (stt + 1e-30))  # zero variance skipped
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(ok, cov / np.sqrt(np.where(ok, vp * vt, 1.0)), np.nan)
    r = np.clip(r, -1.0, 1.0)  # (snippet, step, neuron)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(np.nanmean(r))
    return value, float(np.isnan(r).mean())


def score_condition(pred: np.ndarray, target: np.ndarray) -> dict[str, object]:
    """All metrics of one condition's windows, as plain JSON-able values."""
    ch, ch_skip = corr_h(pred, target)
    cw, cw_skip = corr_w(pred, target)
    return {"mae": condition_step_mae(pred, target).tolist(), "corr_h": ch,
            "corr_h_skipped": ch_skip, "corr_w": cw, "corr_w_skipped": cw_skip,
            "n_windows": int(pred.shape[0])}
