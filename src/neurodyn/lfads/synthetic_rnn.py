"""The input-driven chaotic RNN of Keshtkaran & Pandarinath 2019 (spec §5.2).

τ dx/dt = −x + γ W tanh(x) + B q(t), Euler steps of dt; W ~ N(0, 1/N), B ~ N(0, 1) (N × 2),
2-D white-noise input q independent per trial, initial state x0 ~ N(0, x0_std²) shared by
the trials of a condition. Rates: tanh(x) min–max scaled per trial and neuron to
[0, max_rate_hz]; spikes ~ Poisson(rate · dt). Split per condition by replicate index
(the first ``train_fraction`` of each condition's replicates train, the rest valid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from neurodyn.io.spikes import assemble_spikes

REFERENCE = ("Keshtkaran & Pandarinath 2019, NeurIPS (synthetic input-driven RNN); "
             "Sussillo et al. 2016 (LFADS chaotic RNN generator)")


@dataclass(frozen=True)
class RNNSpec:
    """Generator parameters (defaults: the paper's)."""

    n_units: int = 50
    gamma: float = 2.5
    tau_s: float = 0.025
    dt_s: float = 0.010
    n_bins: int = 100
    n_conditions: int = 400
    trials_per_condition: int = 10
    train_fraction: float = 0.8
    n_inputs: int = 2
    input_std: float = 1.0
    x0_std: float = 1.0
    max_rate_hz: float = 30.0


def simulate_rnn(spec: RNNSpec, seed: int) -> dict[str, np.ndarray]:
    """Arrays of the generator: rates_hz, spikes, inputs, condition, split."""
    rng = np.random.default_rng(seed)
    n = spec.n_units
    weights = rng.normal(0.0, 1.0 / np.sqrt(n), (n, n))
    b_in = rng.normal(0.0, 1.0, (n, spec.n_inputs))
    x0 = rng.normal(0.0, spec.x0_std, (spec.n_conditions, n))
    reps = spec.trials_per_condition
    condition = np.repeat(np.arange(spec.n_conditions), reps)
    replicate = np.tile(np.arange(reps), spec.n_conditions)
    n_trials = condition.size
    inputs = rng.normal(0.0, spec.input_std, (n_trials, spec.n_bins, spec.n_inputs))
    alpha = spec.dt_s / spec.tau_s
    x = x0[condition].copy()
    states = np.empty((n_trials, spec.n_bins, n))
    for t in range(spec.n_bins):
        x = (1 - alpha) * x + alpha * (spec.gamma * np.tanh(x) @ weights.T + inputs[:, t] @ b_in.T)
        states[:, t] = np.tanh(x)
    lo, hi = states.min(axis=1, keepdims=True), states.max(axis=1, keepdims=True)
    rates_hz = spec.max_rate_hz * (states - lo) / np.maximum(hi - lo, 1e-12)
    spikes = rng.poisson(rates_hz * spec.dt_s)
    n_train = int(round(spec.train_fraction * reps))
    split = np.where(replicate < n_train, "train", "valid")
    return {"rates_hz": rates_hz, "spikes": spikes, "inputs": inputs, "condition": condition,
            "split": split, "weights": weights}


def make_rnn_dataset(spec: RNNSpec, seed: int, attrs: dict | None = None) -> xr.Dataset:
    """The generator's output as a ``neurodyn-spikes/1`` dataset (synthetic)."""
    sim = simulate_rnn(spec, seed)
    return assemble_spikes(
        sim["spikes"], dataset="SyntheticRNN", bin_width_s=spec.dt_s,
        condition=sim["condition"], split=sim["split"], rates_hz=sim["rates_hz"],
        inputs=sim["inputs"], synthetic=True, align="trial_start", references=REFERENCE,
        title="Synthetic input-driven chaotic RNN (γ=2.5, 2-D white-noise input)",
        attrs={"generator": repr(spec), "generator_seed": seed, **(attrs or {})},
    )
