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


def corr_w(pred: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Correlation over windows of one condition, and the fraction of skipped pairs.

    Per neuron and step, Pearson r across the condition's windows; mean over neurons and
    steps. (step, neuron) pairs with zero variance are skipped.
    """
    r = _pearson(_clean(pred), _clean(target), axis=0)  # (step, neuron)
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
