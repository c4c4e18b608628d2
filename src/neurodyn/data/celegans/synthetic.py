"""Synthetic whole-brain C. elegans recordings in the calcium schema.

Generative model (all worms of all datasets share it; parameters in :class:`SynthParams`):

1. **Discrete motor states** follow a stochastic cycle forward → slowing → reversal
   (rev1 / rev2 → sustained reversal) → dorsal or ventral turn → forward, with gamma-distributed
   dwell times (a semi-Markov chain). Nichols-like worms may also enter quiescence.
2. **A 7-d latent** x(t) relaxes towards a state-dependent target (reversal drive, forward drive,
   dorsal turn, ventral turn, quiescence, and a 2-d head oscillator whose amplitude is set by the
   state) with time constant ``tau_latent`` plus white noise: an Ornstein-Uhlenbeck process with
   switching targets, i.e. a switching linear dynamical system.
3. **Neurons** read it out nonlinearly: r = softplus(C_w x + b). Loadings C are shared across worms
   (hub neurons such as AVA/AIB/RIM load on reversal, AVB/RIB/VB on forward, SMDD/SMDV on turns,
   RME on the oscillator; all others get sparse random loadings); each worm perturbs them
   (``worm_variability``), which gives individual differences.
4. **Calcium**: r is low-pass filtered (first-order, ``tau_calcium``), scaled per neuron, and
   observed with Gaussian noise (``noise_sd``).

So behaviour is decodable from a few shared hub neurons, worms differ, and the next sample is
predictable beyond copying the current one. Labels are the discrete states in the dataset's own
vocabulary (Kato 8 states incl. short ambiguous ``nostate`` stretches, Nichols 4, Dag 2).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.signal import lfilter

from neurodyn.data.celegans.dataset_facts import (
    REFERENCES,
    SHAPES,
    STATE_SETS,
    UNKNOWN_STATES,
)
from neurodyn.data.celegans.names import neurons_302
from neurodyn.io.calcium import WormRecord, assemble_calcium

MOTOR = ("fwd", "slow", "rev1", "rev2", "revsus", "dt", "vt", "quiescent")
# Row = from, columns = to (order of MOTOR).
_TRANSITIONS = np.array([
    # fwd  slow  rev1  rev2  revsus dt   vt   quiescent
    [0.0, 0.70, 0.20, 0.05, 0.0, 0.0, 0.0, 0.05],  # fwd
    [0.20, 0.0, 0.45, 0.35, 0.0, 0.0, 0.0, 0.0],  # slow
    [0.40, 0.0, 0.0, 0.0, 0.60, 0.0, 0.0, 0.0],  # rev1
    [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],  # rev2
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.45, 0.55, 0.0],  # revsus
    [0.70, 0.30, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # dt
    [0.70, 0.30, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # vt
    [0.60, 0.40, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # quiescent
])
_DWELL_S = np.array([20.0, 25.0, 5.0, 7.0, 15.0, 6.0, 6.0, 40.0])
# Latent targets per state: reversal, forward, dorsal, ventral, quiescence, oscillator amplitude.
_TARGETS = np.array([
    [-1.0, 1.0, 0.0, 0.0, 0.0, 1.0],
    [-1.0, 0.3, 0.0, 0.0, 0.0, 0.5],
    [0.4, -0.5, 0.0, 0.0, 0.0, 0.3],
    [0.8, -1.0, 0.0, 0.0, 0.0, 0.3],
    [1.2, -1.0, 0.0, 0.0, 0.0, 0.2],
    [-0.3, -0.3, 1.2, 0.0, 0.0, 0.6],
    [-0.3, -0.3, 0.0, 1.2, 0.0, 0.6],
    [-0.8, -0.6, 0.0, 0.0, 1.2, 0.0],
])
_HUBS = {  # neuron -> (latent index, loading)
    **{n: (0, 2.0) for n in ("AVAL", "AVAR", "AVEL", "AVER", "AVDL", "AVDR", "AIBL", "AIBR",
                             "RIML", "RIMR", "ASKR", "ASKL")},
    **{n: (1, 2.0) for n in ("AVBL", "AVBR", "RIBL", "RIBR", "VB1", "VB2", "RID", "ALA")},
    **{n: (2, 2.0) for n in ("SMDDL", "SMDDR", "RIVL")},
    **{n: (3, 2.0) for n in ("SMDVL", "SMDVR", "RIVR")},
    **{n: (4, 2.0) for n in ("RIS",)},
    **{n: (5, 1.5) for n in ("RMED", "RMEV", "RMEL", "RMER")},
}
_MAPS = {  # motor state -> label code in each vocabulary
    "kato8": {"fwd": 1, "slow": 6, "rev1": 3, "rev2": 4, "revsus": 5, "dt": 0, "vt": 7,
              "quiescent": 6},
    "nichols4": {"fwd": 1, "slow": 1, "rev1": 0, "rev2": 0, "revsus": 0, "dt": 3, "vt": 3,
                 "quiescent": 2},
    "dag2": {"fwd": 0, "slow": 0, "rev1": 1, "rev2": 1, "revsus": 1, "dt": 0, "vt": 0,
             "quiescent": 0},
}


@dataclass(frozen=True)
class SynthParams:
    """Parameters of the generative model (documented in the module docstring)."""

    tau_latent_s: float = 2.0
    latent_noise: float = 0.3
    oscillator_period_s: float = 8.0
    tau_calcium_s: float = 1.5
    noise_sd: float = 0.05
    worm_variability: float = 0.5
    background_loading_sd: float = 0.6
    background_density: float = 0.3
    nostate_fraction: float = 0.01


def dataset_seed(seed: int, dataset: str) -> np.random.SeedSequence:
    """A stable per-dataset seed derived from the global seed and the dataset name."""
    return np.random.SeedSequence([int(seed), zlib.crc32(dataset.encode())])


def shared_loadings(seed: int, params: SynthParams) -> tuple[np.ndarray, np.ndarray]:
    """Loadings (302 × 7) and biases shared by all worms of all datasets."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 302]))
    names = neurons_302()
    c = rng.normal(0.0, params.background_loading_sd, (len(names), 7))
    c *= rng.random(c.shape) < params.background_density
    for i, name in enumerate(names):
        if name in _HUBS:
            dim, w = _HUBS[name]
            c[i] = 0.1 * c[i]
            if dim == 5:  # oscillator: a phase per neuron
                phase = rng.uniform(0, 2 * np.pi)
                c[i, 5:7] = w * np.array([np.cos(phase), np.sin(phase)])
            else:
                c[i, dim] = w
    bias = rng.normal(-0.5, 0.5, len(names))
    return c, bias


def motor_states(rng: np.random.Generator, n: int, dt: float, allow_quiescence: bool,
                 dwell_scale: float) -> np.ndarray:
    """Sample a semi-Markov sequence of motor-state indices, one per sample."""
    trans = _TRANSITIONS.copy()
    if not allow_quiescence:
        trans[:, 7] = 0.0
    trans /= trans.sum(1, keepdims=True)
    out = np.empty(n, np.int64)
    state, t = int(rng.integers(0, 7 if not allow_quiescence else 8)), 0
    while t < n:
        dwell = rng.gamma(4.0, _DWELL_S[state] * dwell_scale / 4.0)
        k = max(1, int(round(dwell / dt)))
        out[t:t + k] = state
        t += k
        state = int(rng.choice(8, p=trans[state]))
    return out


def latent_trajectory(rng: np.random.Generator, states: np.ndarray, dt: float,
                      params: SynthParams) -> np.ndarray:
    """Integrate the switching OU latent (n × 7) by exact first-order filtering."""
    n = states.size
    a = 1.0 - np.exp(-dt / params.tau_latent_s)
    targets = _TARGETS[states]
    drive = targets[:, :5] + params.latent_noise * rng.standard_normal((n, 5)) / np.sqrt(a)
    x = lfilter([a], [1.0, a - 1.0], drive, axis=0)
    amp = lfilter([a], [1.0, a - 1.0], targets[:, 5])
    phase = 2 * np.pi * np.cumsum(np.full(n, dt)) / params.oscillator_period_s
    phase += np.cumsum(rng.normal(0, 0.05, n))
    osc = amp[:, None] * np.stack([np.cos(phase), np.sin(phase)], axis=1)
    return np.concatenate([x, osc], axis=1)


def synth_worm(rng: np.random.Generator, shape_labels: str, duration_s: float, rate_hz: float,
               loadings: np.ndarray, bias: np.ndarray, params: SynthParams
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One worm: (T × 302 activity, T time stamps, T motor-state indices)."""
    dt = 1.0 / rate_hz
    n = int(round(duration_s * rate_hz))
    states = motor_states(rng, n, dt, shape_labels == "nichols4",
                          dwell_scale=rng.uniform(0.8, 1.25))
    x = latent_trajectory(rng, states, dt, params)
    c_w = loadings + params.worm_variability * np.abs(loadings) * rng.standard_normal(
        loadings.shape)
    drive = x @ c_w.T + bias + rng.normal(0, 0.2, bias.size)
    rate = np.logaddexp(0.0, drive)  # softplus
    a = 1.0 - np.exp(-dt / params.tau_calcium_s)
    calcium = lfilter([a], [1.0, a - 1.0], rate, axis=0)
    gain = rng.uniform(0.3, 1.0, bias.size)
    activity = calcium * gain + params.noise_sd * rng.standard_normal(calcium.shape)
    return activity, np.arange(n) * dt, states


def _labels(rng: np.random.Generator, states: np.ndarray, vocab: str,
            params: SynthParams) -> np.ndarray | None:
    if vocab == "none":
        return None
    codes = np.array([_MAPS[vocab][MOTOR[s]] for s in states], np.int16)
    if vocab == "kato8":  # short ambiguous stretches at some state changes
        changes = np.flatnonzero(np.diff(states)) + 1
        pick = changes[rng.random(changes.size) < params.nostate_fraction * 20]
        for c in pick:
            codes[c:c + int(rng.integers(2, 8))] = 2
    return codes


_CORD_PREFIXES = ("AS", "DA", "DB", "DD", "VA", "VB", "VC", "VD", "PDA", "PDB", "PVD")


def identifiability(seed: int) -> np.ndarray:
    """Shared per-neuron chance of being identified: ventral-cord motor neurons rarely are."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 303]))
    weight = rng.gamma(0.7, 1.0, 302)
    cord = np.array([n.startswith(_CORD_PREFIXES) for n in neurons_302()])
    weight[cord] *= 0.08
    return weight / weight.sum()


def _labeled_set(rng: np.random.Generator, core: tuple[str, ...], mean: float,
                 n_recorded: int, weight: np.ndarray) -> list[str]:
    names = neurons_302()
    k = int(np.clip(round(rng.normal(mean, 0.12 * mean)), len(core) + 1, min(n_recorded, 302)))
    free = np.array([n not in core for n in names])
    p = np.where(free, weight, 0.0)
    extra = rng.choice(len(names), size=k - len(core), replace=False, p=p / p.sum())
    return list(core) + [names[i] for i in sorted(extra)]


def synthetic_dataset(dataset: str, n_worms: int, seed: int,
                      params: SynthParams | None = None, duration_scale: float = 1.0
                      ) -> xr.Dataset:
    """Generate ``n_worms`` synthetic worms shaped like ``dataset`` in the calcium schema."""
    params = params or SynthParams()
    shape = SHAPES[dataset]
    loadings, bias = shared_loadings(seed, params)
    weight = identifiability(seed)
    rng = np.random.default_rng(dataset_seed(seed, dataset))
    names = neurons_302()
    records = []
    for w in range(n_worms):
        duration = rng.uniform(*shape.duration_s) * duration_scale
        activity, time_s, states = synth_worm(rng, shape.labels, duration,
                                              rng.uniform(*shape.rate_hz), loadings, bias,
                                              params)
        n_rec = max(int(round(rng.normal(shape.recorded_mean, 0.08 * shape.recorded_mean))),
                    int(shape.labeled_mean) + 1)
        keep = _labeled_set(rng, shape.core, shape.labeled_mean, n_rec, weight)
        cols = [names.index(n) for n in keep]
        ids = keep + [str(i) for i in range(n_rec - len(keep))]  # numbered = unlabeled ROIs
        traces = np.zeros((activity.shape[0], n_rec))
        traces[:, : len(keep)] = activity[:, cols]
        traces[:, len(keep):] = rng.standard_normal((activity.shape[0], n_rec - len(keep)))
        records.append(WormRecord(
            traces=traces, ids=ids, time_s=time_s, source_file=f"synthetic:{dataset}",
            worm_id=f"worm{w}", behavior=_labels(rng, states, shape.labels, params)))
    return assemble_calcium(
        records, dataset, states=STATE_SETS[shape.labels],
        unknown_states=UNKNOWN_STATES[shape.labels],
        references=f"SYNTHETIC stand-in shaped like: {REFERENCES[dataset]}", synthetic=True,
        attrs={"generator": "neurodyn.data.celegans.synthetic", "seed": seed,
               "generator_params": repr(params)})
