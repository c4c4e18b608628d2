"""Neural Latents Benchmark metrics: co-bps, fp-bps, velocity R² and PSTH R².

Definitions restated from the NLB evaluation (Pei et al. 2021, ``nlb_tools``):

* bits per spike of predicted rates λ (counts per bin) against spike counts n:
  ``(NLL(null) − NLL(λ)) / Σn / ln 2`` with the exact Poisson NLL ``Σ λ − n log λ + log n!``;
  the null model predicts, per neuron, the mean count of the evaluated array. NaN spikes are
  ignored; zero rates become 1e-9; negative or NaN rates are errors.
* **co-bps**: held-out neurons, observed window, evaluation trials.
* **fp-bps**: forward window, held-in and held-out neurons together.
* **vel R²**: ridge regression (alpha grid-searched over ``logspace(-4, 0, 9)`` with 5-fold
  CV) from the rates of all neurons to hand velocity *lagged* behind the rates (100 ms for
  MC_Maze, 120 ms for MC_Maze_Large/Medium/Small), fitted on training trials, R² (uniform
  average over x, y) on evaluation trials.
* **psth R²**: condition-averaged evaluation rates against condition PSTHs of Gaussian-smoothed
  spikes (rows = condition × time, columns = neurons; R² averaged over neurons).

The tensor layout is NLB's: arrays ``trial × time × neuron``, held-in and held-out neurons
separate, the forward window separate from the observed window.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV

log = logging.getLogger(__name__)

RIDGE_ALPHAS = np.logspace(-4, 0, 9)
LAG_MS = {"MC_Maze": 100, "MC_Maze_Large": 120, "MC_Maze_Medium": 120, "MC_Maze_Small": 120}
PSTH_SD_MS = {"MC_Maze": 70, "MC_Maze_Large": 50, "MC_Maze_Medium": 50, "MC_Maze_Small": 50}
METRICS = ("co_bps", "vel_r2", "psth_r2", "fp_bps")


@dataclass(frozen=True)
class NLBTargets:
    """Evaluation targets in NLB layout (``trial × time × neuron``; behaviour already lagged)."""

    eval_spikes_heldout: np.ndarray
    eval_spikes_heldin_forward: np.ndarray
    eval_spikes_heldout_forward: np.ndarray
    train_behavior: np.ndarray
    eval_behavior: np.ndarray
    psth: np.ndarray | None = None  # condition × time × (held-in ⊕ held-out)
    eval_cond_idx: Sequence[np.ndarray] | None = None  # eval-trial indices per PSTH condition


@dataclass(frozen=True)
class NLBRates:
    """A model's predicted rates (counts per bin) in NLB layout."""

    train_rates_heldin: np.ndarray
    train_rates_heldout: np.ndarray
    eval_rates_heldin: np.ndarray
    eval_rates_heldout: np.ndarray
    eval_rates_heldin_forward: np.ndarray
    eval_rates_heldout_forward: np.ndarray

    def train_all(self) -> np.ndarray:
        return np.concatenate([self.train_rates_heldin, self.train_rates_heldout], axis=-1)

    def eval_all(self) -> np.ndarray:
        return np.concatenate([self.eval_rates_heldin, self.eval_rates_heldout], axis=-1)


def poisson_nll(rates: np.ndarray, spikes: np.ndarray) -> float:
    """Total Poisson negative log-likelihood Σ λ − n log λ + log n!, NaN spikes ignored."""
    rates = np.asarray(rates, dtype=float)
    spikes = np.asarray(spikes, dtype=float)
    if rates.shape != spikes.shape:
        raise ValueError(f"rates {rates.shape} and spikes {spikes.shape} differ in shape")
    keep = ~np.isnan(spikes)
    rates, spikes = rates[keep], spikes[keep]
    if np.isnan(rates).any():
        raise ValueError("NaN rate predictions")
    if (rates < 0).any():
        raise ValueError("negative rate predictions")
    if (rates == 0).any():
        log.warning("zero rate predictions replaced by 1e-9")
        rates = np.where(rates == 0, 1e-9, rates)
    return float(np.sum(rates - spikes * np.log(rates) + gammaln(spikes + 1.0)))


def bits_per_spike(rates: np.ndarray, spikes: np.ndarray) -> float:
    """Log-likelihood gain over the per-neuron mean-rate model, in bits per spike."""
    spikes = np.asarray(spikes, dtype=float)
    null = np.broadcast_to(np.nanmean(spikes, axis=(0, 1), keepdims=True), spikes.shape)
    total = np.nansum(spikes)
    if total <= 0:
        raise ValueError("bits per spike needs at least one spike")
    return (poisson_nll(null, spikes) - poisson_nll(rates, spikes)) / total / np.log(2)


def co_bps(rates: NLBRates, targets: NLBTargets) -> float:
    """Co-smoothing bits per spike: held-out neurons over the observed window."""
    return bits_per_spike(rates.eval_rates_heldout, targets.eval_spikes_heldout)


def fp_bps(rates: NLBRates, targets: NLBTargets) -> float:
    """Forward-prediction bits per spike: forward window, held-in ⊕ held-out neurons."""
    pred = np.concatenate([rates.eval_rates_heldin_forward, rates.eval_rates_heldout_forward],
                          axis=-1)
    true = np.concatenate([targets.eval_spikes_heldin_forward,
                           targets.eval_spikes_heldout_forward], axis=-1)
    return bits_per_spike(pred, true)


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(-1, x.shape[-1]) if x.ndim > 2 else x


def _drop_nan_behavior(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = ~np.isnan(y).any(axis=1)
    x, y = x[keep], y[keep]
    if np.isnan(x).any():
        raise ValueError("NaN rates where behaviour is defined")
    return x, y


def ridge_r2(train_x: np.ndarray, train_y: np.ndarray, eval_x: np.ndarray,
             eval_y: np.ndarray, alphas: np.ndarray = RIDGE_ALPHAS, folds: int = 5) -> float:
    """Fit ridge regression (alpha by ``folds``-fold CV on the training samples), return R²
    on the evaluation samples (uniform average over outputs). Inputs are trial × time × dim or
    sample × dim; samples with NaN behaviour are dropped."""
    tx, ty = _drop_nan_behavior(_flat(np.asarray(train_x, float)),
                                _flat(np.asarray(train_y, float)))
    ex, ey = _drop_nan_behavior(_flat(np.asarray(eval_x, float)),
                                _flat(np.asarray(eval_y, float)))
    search = GridSearchCV(Ridge(), {"alpha": np.asarray(alphas)}, cv=folds)
    search.fit(tx, ty)
    return float(r2_score(ey, search.predict(ex)))


def velocity_r2(rates: NLBRates, targets: NLBTargets) -> float:
    """Velocity decoding R² from all neurons' rates (behaviour tensors already lagged)."""
    return ridge_r2(rates.train_all(), targets.train_behavior, rates.eval_all(),
                    targets.eval_behavior)


def psth_r2(psth: np.ndarray, eval_rates: np.ndarray,
            eval_cond_idx: Sequence[np.ndarray]) -> float:
    """R² of condition-averaged evaluation rates against the true PSTHs (uniform over
    neurons). Rows where the true PSTH is NaN (padding) are dropped; conditions without
    evaluation trials are skipped, as nlb_tools does."""
    if len(eval_cond_idx) != psth.shape[0]:
        raise ValueError(f"{len(eval_cond_idx)} condition index arrays for "
                         f"{psth.shape[0]} PSTH conditions")
    t = psth.shape[1]
    used = [c for c, idx in enumerate(eval_cond_idx) if np.asarray(idx).size > 0]
    if not used:
        raise ValueError("no PSTH condition has evaluation trials")
    pred = np.stack([eval_rates[np.asarray(eval_cond_idx[c], int), :t].mean(axis=0)
                     for c in used])
    true = psth[used]
    true_rows, pred_rows = true.reshape(-1, true.shape[2]), pred.reshape(-1, pred.shape[2])
    keep = ~np.isnan(true_rows[:, 0])
    if np.isnan(pred_rows[keep]).any():
        raise ValueError("NaN rates where the PSTH is defined")
    return float(r2_score(true_rows[keep], pred_rows[keep]))


def nlb_metrics(rates: NLBRates, targets: NLBTargets) -> dict[str, float]:
    """All four NLB metrics (psth R² is NaN without PSTH targets)."""
    out = {"co_bps": co_bps(rates, targets), "vel_r2": velocity_r2(rates, targets),
           "fp_bps": fp_bps(rates, targets), "psth_r2": float("nan")}
    if targets.psth is not None and targets.eval_cond_idx is not None:
        out["psth_r2"] = psth_r2(targets.psth, rates.eval_all(), targets.eval_cond_idx)
    return out


# --- building the targets -----------------------------------------------------------------


def gaussian_kernel(sd_bins: float) -> np.ndarray:
    """NLB's smoothing kernel: a normalised Gaussian of ``sd_bins`` SD over a 6-SD window."""
    width = max(int(6 * sd_bins), 1)
    x = np.arange(width) - (width - 1) / 2
    kernel = np.exp(-0.5 * (x / sd_bins) ** 2) if sd_bins > 0 else np.ones(1)
    return kernel / kernel.sum()


def gaussian_smooth(spikes: np.ndarray, sd_bins: float) -> np.ndarray:
    """Smooth ``trial × time × neuron`` counts along time ('same'-size convolution, zero
    padding, so values stay in counts per bin)."""
    kernel = gaussian_kernel(sd_bins)
    spikes = np.asarray(spikes, dtype=float)
    out = np.empty_like(spikes)
    for i in range(spikes.shape[0]):
        for j in range(spikes.shape[2]):
            out[i, :, j] = np.convolve(spikes[i, :, j], kernel, mode="same")
    return out


def smooth_and_cut(spikes: np.ndarray, sd_bins: float, start: int, stop: int) -> np.ndarray:
    """NLB smooths the continuous recording, then cuts the trial windows. Here: smooth each
    stored trial (``trial × time × neuron``: any pre-window context, the observed window and
    the forward window) with NLB's kernel, then return bins ``start:stop``. Bins whose kernel
    reaches past the stored data are normalised by the kernel mass on stored bins (as
    nlb_tools does around missing samples with ``ignore_nans``) instead of being dimmed by
    zero padding; where the stored data cover the kernel this equals smoothing the
    recording."""
    from scipy.signal import convolve

    spikes = np.asarray(spikes, dtype=float)
    if not 0 <= start < stop <= spikes.shape[1]:
        raise ValueError(f"window {start}:{stop} outside the {spikes.shape[1]} stored bins")
    kernel = gaussian_kernel(sd_bins)[None, :, None]
    smoothed = convolve(spikes, kernel, mode="same")
    mass = convolve(np.ones((1, spikes.shape[1], 1)), kernel, mode="same")
    return (smoothed / mass)[:, start:stop]


def condition_psth(smoothed: np.ndarray, conditions: np.ndarray,
                   order: Sequence[int] | None = None) -> tuple[np.ndarray, list[int]]:
    """Mean smoothed activity per condition (``condition × time × neuron``) over all given
    trials, and the condition ids in row order."""
    conditions = np.asarray(conditions)
    ids = list(order) if order is not None else sorted(int(c) for c in np.unique(conditions))
    return np.stack([smoothed[conditions == c].mean(axis=0) for c in ids]), ids


def lag_bins(lag_ms: float, bin_ms: float) -> int:
    """Behaviour lag in bins (rounded)."""
    return int(round(lag_ms / bin_ms))


def lag_behavior(behavior: np.ndarray, lag: int, n_bins: int) -> np.ndarray:
    """Behaviour of the observed window (``n_bins`` bins) lagged behind the neural bins, as
    nlb_tools reads it (its behaviour window is the aligned window shifted by the lag):
    ``out[:, t] = behavior[:, t + lag]``. ``behavior`` must continue past the observed window
    by at least ``lag`` bins (e.g. into the forward window), so no bin is lost; NaN values
    inside it (no samples) stay NaN and are dropped by the decoder."""
    behavior = np.asarray(behavior, dtype=float)
    if lag < 0 or n_bins <= 0:
        raise ValueError(f"lag ({lag}) must be >= 0 and the window ({n_bins} bins) > 0")
    if behavior.shape[1] < n_bins + lag:
        raise ValueError(f"behaviour of {behavior.shape[1]} bins does not cover the "
                         f"{n_bins}-bin window lagged by {lag} bins")
    return behavior[:, lag:lag + n_bins].copy()
