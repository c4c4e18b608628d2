"""Decoding and goodness-of-fit helpers: rate R² against ground truth, lagged features, and
velocity decoding R² cross-validated over trials (ridge, alpha by inner 5-fold CV).

The ridge fit itself is :func:`neurodyn.eval.nlb.ridge_r2` (one implementation for the
project); this module adds the lag expansion and the outer cross-validation over trials used
by the dataset-size experiment of Keshtkaran & Pandarinath 2019 (Fig. 5).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from neurodyn.eval.nlb import RIDGE_ALPHAS, ridge_r2


def rate_r2(pred: np.ndarray, true: np.ndarray) -> float:
    """R² of predicted against true rates (trial × time × neuron), per neuron over all trials
    and bins, averaged over neurons (neurons with constant truth are skipped)."""
    p = np.asarray(pred, float).reshape(-1, pred.shape[-1])
    t = np.asarray(true, float).reshape(-1, true.shape[-1])
    keep = t.std(axis=0) > 0
    return float(r2_score(t[:, keep], p[:, keep]))


def lagged_features(x: np.ndarray, lags: Sequence[int]) -> np.ndarray:
    """Stack ``x`` (trial × time × feature) delayed by each lag in bins along the features:
    feature block k holds ``x[:, t - lags[k]]`` (edge-padded), so behaviour at t is decoded
    from activity up to ``max(lags)`` bins earlier."""
    blocks = []
    for lag in lags:
        if lag < 0 or lag >= x.shape[1]:
            raise ValueError(f"lag {lag} does not fit {x.shape[1]} bins")
        shifted = np.concatenate([np.repeat(x[:, :1], lag, axis=1), x[:, : x.shape[1] - lag]],
                                 axis=1) if lag else x
        blocks.append(shifted)
    return np.concatenate(blocks, axis=-1)


def cv_decoding_r2(features: np.ndarray, behavior: np.ndarray, lags: Sequence[int],
                   alphas: np.ndarray = RIDGE_ALPHAS, n_folds: int = 5, seed: int = 0) -> float:
    """Decoding R² of ``behavior`` (trial × time × dim) from lagged ``features``: outer
    ``n_folds``-fold CV over trials, ridge with alpha chosen by inner 5-fold CV, R² pooled
    over the held-out predictions of every fold (uniform average over behaviour dims).
    BLAS runs single-threaded here: the fits are small, and extra threads only contend."""
    x = lagged_features(np.asarray(features, float), lags)
    y = np.asarray(behavior, float)
    n_trials = x.shape[0]
    folds = KFold(n_splits=min(n_folds, n_trials), shuffle=True, random_state=seed)
    scores, weights = [], []
    with threadpool_limits(1):
        for train, test in folds.split(np.arange(n_trials)):
            scores.append(ridge_r2(x[train], y[train], x[test], y[test], alphas=alphas,
                                   folds=min(5, len(train))))
            weights.append(len(test))
    return float(np.average(scores, weights=weights))
