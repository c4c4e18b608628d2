"""NLB evaluation of AutoLFADS, fixed-HP LFADS and Gaussian smoothing on one dataset.

NLB roles of the trials: LFADS trains on ``train`` and selects on ``valid`` (together the NLB
training trials, on which the velocity decoder is fitted); ``test`` trials are the NLB
evaluation trials (held-out neurons and forward bins are scored there only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.linear_model import PoissonRegressor
from sklearn.metrics import r2_score

from neurodyn.autolfads.data import NLBSplit
from neurodyn.eval.nlb import (
    NLBRates,
    NLBTargets,
    condition_psth,
    lag_behavior,
    lag_bins,
    nlb_metrics,
    smooth_and_cut,
)


def nlb_train(split: NLBSplit, key: str) -> np.ndarray:
    return np.concatenate([split.train[key], split.valid[key]])


def smoothed_window(split: NLBSplit, part: str, sd_ms: float,
                    neurons: slice = slice(None)) -> np.ndarray:
    """Gaussian-smoothed spikes of the observed window of a trial part, smoothed over
    everything stored (context, observed and forward window) before the window is cut, as
    NLB smooths the recording before cutting trials."""
    rec, start = split.recording(part)[..., neurons], split.n_context(part)
    return smooth_and_cut(rec, sd_ms / split.bin_ms, start, start + split.n_obs)


def nlb_targets(split: NLBSplit) -> NLBTargets:
    """Evaluation targets: held-out spikes, forward spikes, velocity of the observed window
    shifted by the lag (read past it, from the forward window, as nlb_tools does), PSTHs of
    Gaussian-smoothed spikes (all trials, all neurons, observed window, smoothed before the
    window is cut) per condition."""
    n_in, n_obs, test = split.n_heldin, split.n_obs, split.test
    lag = lag_bins(split.lag_ms, split.bin_ms)
    smoothed = np.concatenate([smoothed_window(split, p, split.psth_sd_ms)
                               for p in ("train", "valid", "test")])
    conditions = np.concatenate([nlb_train(split, "condition"), test["condition"]])
    psth, ids = condition_psth(smoothed, conditions)
    return NLBTargets(
        eval_spikes_heldout=test["recon_data"][:, :n_obs, n_in:],
        eval_spikes_heldin_forward=test["recon_data"][:, n_obs:, :n_in],
        eval_spikes_heldout_forward=test["recon_data"][:, n_obs:, n_in:],
        train_behavior=lag_behavior(nlb_train(split, "behavior"), lag, n_obs),
        eval_behavior=lag_behavior(test["behavior"], lag, n_obs),
        psth=psth,
        eval_cond_idx=[np.flatnonzero(test["condition"] == c) for c in ids])


def as_nlb_rates(train_rates: np.ndarray, eval_rates: np.ndarray, split: NLBSplit) -> NLBRates:
    """Rates over all bins and neurons (``recon_data`` order) → NLB layout."""
    n_in, n_obs = split.n_heldin, split.n_obs
    return NLBRates(train_rates[:, :n_obs, :n_in], train_rates[:, :n_obs, n_in:],
                    eval_rates[:, :n_obs, :n_in], eval_rates[:, :n_obs, n_in:],
                    eval_rates[:, n_obs:, :n_in], eval_rates[:, n_obs:, n_in:])


def truth_r2(eval_rates: np.ndarray, split: NLBSplit) -> float:
    """R² of the evaluation trials' rates against the ground truth (synthetic data only)."""
    if "truth" not in split.test:
        return float("nan")
    true = split.test["truth"]
    return float(r2_score(true.reshape(-1, true.shape[-1]),
                          eval_rates.reshape(-1, eval_rates.shape[-1])))


def score(train_rates: np.ndarray, eval_rates: np.ndarray, split: NLBSplit,
          targets: NLBTargets) -> dict[str, float]:
    out = nlb_metrics(as_nlb_rates(train_rates, eval_rates, split), targets)
    out["rate_r2_truth"] = truth_r2(eval_rates, split)
    return out


def lfads_rates(model: Any, split: NLBSplit, n_samples: int,
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Posterior-averaged LFADS rates of the NLB training and evaluation trials."""
    from neurodyn.models.lfads_inference import infer_rates

    train = {k: nlb_train(split, k) for k in ("encod_data", "recon_data", "sv_mask")}
    return (infer_rates(model, train, n_samples=n_samples, seed=seed)["rates"],
            infer_rates(model, split.test, n_samples=n_samples, seed=seed)["rates"])


def smoothing_rates(split: NLBSplit, sd_ms: float,
                    alpha: float = 1e-2) -> tuple[np.ndarray, np.ndarray]:
    """The NLB smoothing baseline: held-in spikes smoothed with a Gaussian (``sd_ms``,
    smoothed before the observed window is cut, see ``smoothed_window``);
    held-out neurons from a Poisson GLM on the smoothed held-in activity (fitted on the
    training trials); forward bins = each neuron's mean count in the training trials'
    forward window (smoothing cannot forecast, so fp-bps ≈ 0 by construction)."""
    n_in, n_obs = split.n_heldin, split.n_obs
    recon_train = nlb_train(split, "recon_data")
    held_in = slice(0, n_in)
    sm_train = np.concatenate([smoothed_window(split, p, sd_ms, held_in)
                               for p in ("train", "valid")])
    sm_test = smoothed_window(split, "test", sd_ms, held_in)
    x_train = sm_train.reshape(-1, n_in)
    y_train = recon_train[:, :n_obs, n_in:].reshape(-1, recon_train.shape[2] - n_in)
    heldout_train, heldout_test = [], []
    for j in range(y_train.shape[1]):
        glm = PoissonRegressor(alpha=alpha, max_iter=300).fit(x_train, y_train[:, j])
        heldout_train.append(glm.predict(x_train))
        heldout_test.append(glm.predict(sm_test.reshape(-1, n_in)))
    shape_tr, shape_te = sm_train.shape[:2], sm_test.shape[:2]
    forward = recon_train[:, n_obs:].mean(axis=(0, 1))

    def assemble(sm: np.ndarray, held: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
        obs = np.concatenate([sm, np.stack(held, -1).reshape(*shape, -1)], axis=-1)
        fwd = np.broadcast_to(forward, (shape[0], recon_train.shape[1] - n_obs, forward.size))
        return np.maximum(np.concatenate([obs, fwd], axis=1), 1e-9)

    return (assemble(sm_train, heldout_train, shape_tr),
            assemble(sm_test, heldout_test, shape_te))


def method_record(method: str, backend: str, metrics: Mapping[str, float],
                  split: NLBSplit, **extra: Any) -> dict[str, Any]:
    return {"dataset": split.dataset, "source": "synthetic" if split.synthetic else "real",
            "method": method, "backend": backend, **{k: float(v) for k, v in metrics.items()},
            **extra}
