"""Synthetic control datasets of Simeon et al. 2024: Sines and RandomWalk.

200 worms × 1500 steps × 50 randomly chosen neurons each (paper text). Sines: each neuron
slot has K shared frequencies {1/100, …, K/100} cycles per sample (K fixed per neuron, shared
across worms) and a fresh random phase per worm, plus N(0, 0.01) noise, so the next step is
predictable and the structure is shared across worms. RandomWalk: cumulative sums of N(0, 1)
steps, so nothing beyond the current value predicts the next step (the naive baseline is
optimal). Both are z-scored per neuron. The recipes beyond the paper text are assumptions
(see the spec, §5), labelled as such in the outputs.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurodyn.data.celegans.names import neurons_302
from neurodyn.data.celegans.preprocess import zscore
from neurodyn.io.calcium import WormRecord, assemble_calcium

KINDS = ("sines", "randomwalk")


def _signal(kind: str, rng: np.random.Generator, n_steps: int, slots: np.ndarray,
            n_freqs: np.ndarray) -> np.ndarray:
    if kind == "randomwalk":
        return np.cumsum(rng.standard_normal((n_steps, slots.size)), axis=0)
    t = np.arange(n_steps)[:, None, None]
    k = np.arange(1, n_freqs.max() + 1)[None, None, :]
    freqs = np.minimum(k / 100.0, 0.1)
    active = k <= n_freqs[slots][None, :, None]
    phase = rng.uniform(0, 2 * np.pi, (1, slots.size, k.shape[-1]))
    x = (np.sin(2 * np.pi * freqs * t + phase) * active).sum(-1)
    return x + rng.normal(0, 0.01, x.shape)


def control_dataset(kind: str, n_worms: int, n_steps: int, n_neurons: int, seed: int
                    ) -> xr.Dataset:
    """A Sines or RandomWalk dataset in the calcium schema (dt = 1 s, already processed)."""
    if kind not in KINDS:
        raise ValueError(f"unknown control {kind!r}; choose from {KINDS}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), KINDS.index(kind), 1500]))
    names = neurons_302()
    n_freqs = rng.integers(1, 6, len(names))  # shared across worms
    records = []
    for w in range(n_worms):
        slots = np.sort(rng.choice(len(names), n_neurons, replace=False))
        x = zscore(_signal(kind, rng, n_steps, slots, n_freqs))
        records.append(WormRecord(traces=x, ids=[names[i] for i in slots],
                                  time_s=np.arange(n_steps, dtype=float),
                                  source_file=f"synthetic:{kind}", worm_id=f"worm{w}"))
    ds = assemble_calcium(records, kind, synthetic=True,
                          references=f"SYNTHETIC control '{kind}' (Simeon et al. 2024, §5 "
                          "recipe; details are assumptions)",
                          attrs={"generator": "neurodyn.data.synthetic_controls", "seed": seed})
    ds.attrs["preprocessing"] = '{"stage": "generated", "zscore": true}'
    return ds
