"""Reader of the Neural Latents Benchmark MC_Maze NWB files (DANDI 000128; MC_Maze_Large,
Medium and Small: 000138, 000139, 000140) with h5py only (pynwb is not needed).

NWB layout used (as read by ``nlb_tools.nwb_interface``):

- ``units/spike_times`` (all spike times, s) with ``units/spike_times_index`` (end offset of
  each unit), ``units/heldout`` (bool column; held-out neurons for co-smoothing), ``units/id``;
- ``intervals/trials``: ``start_time``, ``stop_time``, ``move_onset_time``, ``split``
  (``train``/``val``/``test``/``none``), ``trial_type``, ``trial_version``;
- a ``hand_vel`` TimeSeries (``data`` T × 2, ``timestamps``) somewhere in the file (in the
  NLB files under ``processing/behavior``); absent in the test files.

Trials are aligned to ``move_onset_time`` over ``window_s`` (NLB: −250…+450 ms) plus an
optional forward-prediction window; spikes are counted in ``bin_width_s`` bins (NLB: 5 ms)
and hand velocity is averaged within each bin. Splits map ``train`` → train, ``val`` → valid,
``test`` → test; ``none`` trials and trials without a movement onset are dropped. Conditions
are the unique (trial_type, trial_version) pairs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurodyn.errors import InputError
from neurodyn.io.spikes import assemble_spikes

SPLIT_NAMES = {"train": "train", "val": "valid", "test": "test"}
# NLB's standard trial window around movement onset and forward-prediction window
NLB_WINDOW_S = (-0.25, 0.45)
NLB_FORWARD_S = 0.2
REFERENCE = ("Pei et al. 2021, Neural Latents Benchmark (MC_Maze; Churchland et al. 2012); "
             "DANDI 000128, 000138, 000139, 000140")


def _strings(values: np.ndarray) -> np.ndarray:
    return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in values])


def _column(group: Any, name: str, path: Path, where: str) -> np.ndarray:
    if name not in group:
        raise InputError(path, f"{where}/{name}", "required NWB column is missing")
    return group[name][()]


def _find_timeseries(h5: Any, name: str) -> Any | None:
    found: list[Any] = []

    def visit(key: str, obj: Any) -> None:
        if key.split("/")[-1] == name and hasattr(obj, "keys") and "data" in obj:
            found.append(obj)

    h5.visititems(visit)
    return found[0] if found else None


def _timestamps(ts: Any, n: int) -> np.ndarray:
    if "timestamps" in ts:
        return np.asarray(ts["timestamps"][()], float)
    rate = float(ts["starting_time"].attrs["rate"])
    return float(ts["starting_time"][()]) + np.arange(n) / rate


def _bin_means(times: np.ndarray, values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Mean of ``values`` (T × D) over samples in each [edge_k, edge_k+1) bin; NaN if empty."""
    order = np.argsort(times)
    times, values = times[order], values[order]
    csum = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
    idx = np.searchsorted(times, edges)
    counts = np.diff(idx, axis=-1)[..., None]
    sums = csum[idx[..., 1:]] - csum[idx[..., :-1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def read_nlb_nwb(path: str | Path, *, dataset: str = "MC_Maze", bin_width_s: float = 0.005,
                 window_s: tuple[float, float] = (-0.25, 0.45), forward_s: float = 0.0,
                 attrs: dict | None = None) -> xr.Dataset:
    """Read an NLB MC_Maze NWB file into the ``neurodyn-spikes/1`` schema (real data)."""
    from neurodyn.io.hdf5 import open_h5

    path = Path(path)
    with open_h5(path, "NWB/HDF5") as h5:
        for group in ("units", "intervals/trials"):
            if group not in h5:
                raise InputError(path, group, "required NWB group is missing")
        units, trials = h5["units"], h5["intervals/trials"]
        spike_times = np.asarray(_column(units, "spike_times", path, "units"), float)
        ends = np.asarray(_column(units, "spike_times_index", path, "units"), int)
        n_units = ends.size
        heldout = (np.asarray(units["heldout"][()], bool) if "heldout" in units
                   else np.zeros(n_units, bool))
        unit_ids = units["id"][()] if "id" in units else np.arange(n_units)
        onset = np.asarray(_column(trials, "move_onset_time", path, "intervals/trials"), float)
        split_raw = (_strings(trials["split"][()]) if "split" in trials
                     else np.full(onset.size, "train"))
        cond_keys = [_strings(trials[c][()]) if c in trials else np.zeros(onset.size, str)
                     for c in ("trial_type", "trial_version")]
        vel_ts = _find_timeseries(h5, "hand_vel")
        vel = None
        if vel_ts is not None:
            vel_data = np.asarray(vel_ts["data"][()], float)
            vel = (vel_data, _timestamps(vel_ts, vel_data.shape[0]))
    if heldout.size != n_units:
        raise InputError(path, "units/heldout", f"{heldout.size} values for {n_units} units")
    keep = np.isfinite(onset) & np.isin(split_raw, list(SPLIT_NAMES))
    if not keep.any():
        raise InputError(path, "intervals/trials", "no trial with a movement onset and an "
                         "NLB split (train/val/test)")
    n_obs = int(round((window_s[1] - window_s[0]) / bin_width_s))
    n_fwd = int(round(forward_s / bin_width_s))
    offsets = window_s[0] + np.arange(n_obs + n_fwd + 1) * bin_width_s
    edges = onset[keep][:, None] + offsets[None, :]  # trials × (bins + 1)
    starts = np.concatenate([[0], ends[:-1]])
    counts = np.empty((edges.shape[0], edges.shape[1] - 1, n_units), np.int32)
    for u in range(n_units):
        times = np.sort(spike_times[starts[u]:ends[u]])
        counts[:, :, u] = np.diff(np.searchsorted(times, edges, side="left"), axis=1)
    pairs = [f"{a}|{b}" for a, b in zip(cond_keys[0][keep], cond_keys[1][keep], strict=True)]
    _, condition = np.unique(pairs, return_inverse=True)
    behavior = _bin_means(vel[1], vel[0], edges) if vel is not None else None
    return assemble_spikes(
        counts, dataset=dataset, bin_width_s=bin_width_s, time_s=offsets[:-1],
        condition=condition, split=[SPLIT_NAMES[s] for s in split_raw[keep]],
        neuron_names=[f"unit{int(i)}" for i in unit_ids], heldout=heldout,
        behavior=behavior, behavior_names=("vx", "vy"), behavior_units="mm/s",
        synthetic=False, align="move_onset", n_forward_bins=n_fwd, references=REFERENCE,
        title=f"{dataset} (NLB) binned spikes around movement onset",
        attrs={"source_file": path.name, **(attrs or {})},
    )
