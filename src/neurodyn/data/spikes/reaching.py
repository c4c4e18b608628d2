"""A maze-like reaching stand-in with hand velocity, so the dataset-size experiment runs offline.

Each condition is a reach to a target direction with a condition-specific curvature (as in
the maze task's curved reaches). A trial varies its speed gain, movement-onset time and
direction slightly. Latent factors (8-D): the hand velocity ``lag_s`` ahead (neural activity
leads behaviour), a rotational pair driven by speed, a preparatory pair that encodes the
target before movement, and condition-independent onset signals; with ``hold_latents`` two
more: the hand position ``lag_s`` ahead, so activity after the reach keeps encoding where
the hand holds (posture tuning, as in motor cortex) instead of returning to one baseline for
every condition. Log-rates are a random
linear readout of the latents plus a per-neuron baseline; spikes ~ Poisson. Time is
−250…+450 ms around movement onset like NLB MC_Maze. Splits: ``train``/``valid`` (the pool
LFADS may train on) and ``test`` (held-out trials used only for decoding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from neurodyn.io.spikes import assemble_spikes

REFERENCE = ("synthetic stand-in for Monkey J maze reaching (Keshtkaran & Pandarinath 2019, "
             "Fig. 5; NLB MC_Maze, Churchland et al. 2012)")
PEAK_SPEED_S, SPEED_SD_S = 0.15, 0.07  # bell-shaped speed profile: peak after onset, width


@dataclass(frozen=True)
class ReachingSpec:
    """Generator parameters."""

    n_neurons: int = 60
    n_heldout: int = 0
    n_conditions: int = 24
    trials_per_condition: int = 20
    test_fraction: float = 0.25
    valid_fraction: float = 0.2
    bin_width_s: float = 0.010
    window_s: tuple[float, float] = (-0.25, 0.45)
    lag_s: float = 0.1
    peak_speed: float = 400.0  # mm/s
    gain_sd: float = 0.2
    onset_jitter_s: float = 0.03
    direction_jitter_deg: float = 8.0
    baseline_hz: tuple[float, float] = (4.0, 25.0)
    loading_sd: float = 0.6
    hold_latents: bool = False  # + hand position (x, y) / reach length: posture tuning


def _velocity(t: np.ndarray, theta: np.ndarray, curve: np.ndarray, gain: np.ndarray,
              onset: np.ndarray, spec: ReachingSpec) -> tuple[np.ndarray, np.ndarray]:
    """Velocity (trials × time × 2) and speed profile of reaches."""
    tt = t[None, :] - onset[:, None]
    speed = spec.peak_speed * gain[:, None] * np.exp(
        -0.5 * ((tt - PEAK_SPEED_S) / SPEED_SD_S) ** 2)
    progress = 1.0 / (1.0 + np.exp(-(tt - PEAK_SPEED_S) / 0.05))
    heading = theta[:, None] + curve[:, None] * (progress - 0.5)
    vel = np.stack([speed * np.cos(heading), speed * np.sin(heading)], axis=-1)
    return vel, speed


def _position(vel: np.ndarray, spec: ReachingSpec) -> np.ndarray:
    """Hand position (trials × time × 2) from the window start, in units of a gain-1 reach's
    length (the integral of its Gaussian speed profile)."""
    reach_length = spec.peak_speed * SPEED_SD_S * np.sqrt(2.0 * np.pi)
    return np.cumsum(vel, axis=1) * spec.bin_width_s / reach_length


def make_reaching_dataset(spec: ReachingSpec, seed: int, attrs: dict | None = None) -> xr.Dataset:
    """Simulate the reaching dataset as a ``neurodyn-spikes/1`` dataset (synthetic)."""
    rng = np.random.default_rng(seed)
    n_bins = int(round((spec.window_s[1] - spec.window_s[0]) / spec.bin_width_s))
    t = spec.window_s[0] + np.arange(n_bins) * spec.bin_width_s
    cond_theta = np.linspace(0, 2 * np.pi, spec.n_conditions, endpoint=False)
    cond_curve = rng.uniform(-1.2, 1.2, spec.n_conditions)
    condition = np.repeat(np.arange(spec.n_conditions), spec.trials_per_condition)
    n_trials = condition.size
    theta = cond_theta[condition] + np.deg2rad(spec.direction_jitter_deg) * rng.normal(
        size=n_trials)
    curve = cond_curve[condition]
    gain = np.clip(1 + spec.gain_sd * rng.normal(size=n_trials), 0.4, None)
    onset = spec.onset_jitter_s * rng.normal(size=n_trials)
    vel, _ = _velocity(t, theta, curve, gain, onset, spec)
    lead, speed_lead = _velocity(t + spec.lag_s, theta, curve, gain, onset, spec)
    tt = t[None, :] - onset[:, None]
    prep = 1.0 / (1.0 + np.exp((tt - 0.05) / 0.04))  # fades after onset
    rot = speed_lead / spec.peak_speed
    latents = np.stack([
        lead[..., 0] / spec.peak_speed, lead[..., 1] / spec.peak_speed,
        rot * np.cos(8.0 * tt + theta[:, None]), rot * np.sin(8.0 * tt + theta[:, None]),
        prep * np.cos(theta)[:, None], prep * np.sin(theta)[:, None],
        1.0 / (1.0 + np.exp(-(tt + 0.05) / 0.03)) - 0.5, np.exp(-0.5 * (tt / 0.1) ** 2),
    ], axis=-1)
    if spec.hold_latents:
        latents = np.concatenate([latents, _position(lead, spec)], axis=-1)
    loadings = rng.normal(0.0, spec.loading_sd, (latents.shape[-1], spec.n_neurons))
    base = np.log(rng.uniform(*spec.baseline_hz, spec.n_neurons))
    rates_hz = np.exp(np.clip(base + latents @ loadings, None, np.log(200.0)))
    spikes = rng.poisson(rates_hz * spec.bin_width_s)
    split = _splits(condition, spec, rng)
    heldout = np.zeros(spec.n_neurons, bool)
    heldout[rng.choice(spec.n_neurons, spec.n_heldout, replace=False)] = True
    return assemble_spikes(
        spikes, dataset="SyntheticReaching", bin_width_s=spec.bin_width_s, time_s=t,
        condition=condition, split=split, heldout=heldout, rates_hz=rates_hz, behavior=vel,
        behavior_names=("vx", "vy"), behavior_units="mm/s", synthetic=True,
        align="move_onset", references=REFERENCE,
        title="Synthetic maze-like reaching (hand velocity), stand-in for Monkey J / MC_Maze",
        attrs={"generator": repr(spec), "generator_seed": seed, "lag_s": spec.lag_s,
               **(attrs or {})},
    )


def _splits(condition: np.ndarray, spec: ReachingSpec, rng: np.random.Generator) -> np.ndarray:
    """Per condition: a ``test_fraction`` of trials test, of the rest ``valid_fraction`` valid."""
    split = np.empty(condition.size, dtype=object)
    for c in np.unique(condition):
        idx = rng.permutation(np.flatnonzero(condition == c))
        n_test = int(round(spec.test_fraction * idx.size))
        n_valid = int(round(spec.valid_fraction * (idx.size - n_test)))
        split[idx[:n_test]] = "test"
        split[idx[n_test:n_test + n_valid]] = "valid"
        split[idx[n_test + n_valid:]] = "train"
    return split
