"""The calcium-activity NetCDF schema (``neurodyn-calcium/1``), shared by every study.

One file per dataset. Dimensions ``worm`` × ``time`` × ``neuron`` (the 302 canonical names in
slot order). Recordings of different lengths are NaN-padded; ``valid`` marks real samples.

=================  =====================  ===================================================
variable           dims                   meaning
=================  =====================  ===================================================
activity           worm, time, neuron     float32 ΔF/F-like activity; NaN where not labeled
                                          or padded
time_s             worm, time             float64 seconds from recording start (NaN padded)
valid              worm, time             bool, sample exists
labeled            worm, neuron           bool, neuron identified in this worm
behavior           worm, time             int16 state code (index into ``state``), -1 = none
state              state                  state names (coordinate; only with ``behavior``)
dt                 worm                   median sampling interval (s)
n_timesteps        worm                   number of valid samples
n_recorded         worm                   recorded traces, labeled or not
dataset            worm                   source dataset name
source_file        worm                   raw file the worm came from
original_worm_id   worm                   the worm's ID inside that file
=================  =====================  ===================================================

Global attributes: ``schema``, ``title``, ``dataset``, ``synthetic`` ("true"/"false"),
``references``, ``preprocessing`` (JSON), ``unknown_states`` (comma list of state names that
mean "unknown", e.g. Kato's ``nostate``), ``neurodyn_version`` and provenance keys.
Unlabeled traces are not stored; only their count (``n_recorded``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurodyn import __version__
from neurodyn.data.celegans.names import canonicalize, check_known, neurons_302
from neurodyn.errors import InputError
from neurodyn.io.atomic import atomic_path
from neurodyn.io.netcdf import ENGINE, open_netcdf

SCHEMA = "neurodyn-calcium/1"
REQUIRED_VARS = ("activity", "time_s", "valid", "labeled", "dt", "n_timesteps", "n_recorded",
                 "dataset", "source_file", "original_worm_id")


@dataclass
class WormRecord:
    """One worm as a reader returns it, before canonicalisation (T samples × N columns)."""

    traces: np.ndarray  # (T, N)
    ids: Sequence[object]  # N raw column IDs
    time_s: np.ndarray  # (T,)
    source_file: str
    worm_id: str
    behavior: np.ndarray | None = None  # (T,) codes into the dataset's state list
    extra: dict[str, Any] = field(default_factory=dict)


def assemble_calcium(
    records: Sequence[WormRecord],
    dataset: str,
    *,
    states: Sequence[str] | None = None,
    unknown_states: Sequence[str] = (),
    references: str = "",
    synthetic: bool = False,
    unknown_neuron_names: str = "error",
    complete_lr: bool = False,
    attrs: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Canonicalise and validate worm records, and pack them into one schema dataset."""
    if not records:
        raise InputError(dataset, "worms", "no worm records")
    names = neurons_302()
    slot = {n: i for i, n in enumerate(names)}
    kept = [_check_record(r, states, unknown_neuron_names, complete_lr) for r in records]
    kept = [(r, m) for r, m in kept if m.names]  # worms without any labeled neuron are dropped
    if not kept:
        raise InputError(records[0].source_file, "ids", "no worm has a labeled neuron")
    n_w, t_max = len(kept), max(r.traces.shape[0] for r, _ in kept)
    activity = np.full((n_w, t_max, len(names)), np.nan, np.float32)
    time_s = np.full((n_w, t_max), np.nan)
    labeled = np.zeros((n_w, len(names)), bool)
    behavior = np.full((n_w, t_max), -1, np.int16)
    for w, (rec, mapping) in enumerate(kept):
        t = rec.traces.shape[0]
        cols = [slot[n] for n in mapping.names]
        activity[w][:t, cols] = rec.traces[:, list(mapping.columns)]
        time_s[w, :t] = rec.time_s - rec.time_s[0]
        labeled[w, cols] = True
        if rec.behavior is not None:
            behavior[w, :t] = rec.behavior
    lengths = np.array([r.traces.shape[0] for r, _ in kept])
    ds = xr.Dataset(
        {
            "activity": (("worm", "time", "neuron"), activity),
            "time_s": (("worm", "time"), time_s),
            "valid": (("worm", "time"), np.arange(t_max)[None, :] < lengths[:, None]),
            "labeled": (("worm", "neuron"), labeled),
            "dt": ("worm", np.array([_median_dt(r.time_s) for r, _ in kept])),
            "n_timesteps": ("worm", lengths.astype(np.int32)),
            "n_recorded": ("worm", np.array([m.n_recorded for _, m in kept], np.int32)),
            "dataset": ("worm", np.array([dataset] * n_w, dtype=object)),
            "source_file": ("worm", np.array([r.source_file for r, _ in kept], dtype=object)),
            "original_worm_id": ("worm", np.array([r.worm_id for r, _ in kept], dtype=object)),
        },
        coords={
            "worm": [f"{dataset}_{r.worm_id}" for r, _ in kept],
            "time": np.arange(t_max, dtype=np.int32),
            "neuron": list(names),
        },
    )
    if states is not None:
        ds["behavior"] = (("worm", "time"), behavior)
        ds = ds.assign_coords(state=list(states))
    ds.attrs.update(
        schema=SCHEMA,
        title=f"{dataset} whole-brain calcium activity",
        dataset=dataset,
        synthetic="true" if synthetic else "false",
        references=references,
        unknown_states=",".join(unknown_states),
        preprocessing=json.dumps({"stage": "raw"}),
        neurodyn_version=__version__,
        Conventions="CF-1.10",
    )
    ds.attrs.update({k: str(v) for k, v in (attrs or {}).items()})
    _describe(ds)
    return ds


def _check_record(rec: WormRecord, states: Sequence[str] | None, policy: str,
                  complete_lr: bool):
    src = rec.source_file
    traces = np.asarray(rec.traces, dtype=np.float64)
    if traces.ndim != 2:
        raise InputError(src, f"traces[{rec.worm_id}]", f"expected T×N, got shape {traces.shape}")
    t, n = traces.shape
    if len(rec.ids) != n:
        raise InputError(src, f"ids[{rec.worm_id}]",
                         f"{len(rec.ids)} neuron IDs for {n} trace columns")
    if np.asarray(rec.time_s).shape != (t,):
        raise InputError(src, f"time[{rec.worm_id}]",
                         f"time vector has shape {np.shape(rec.time_s)}, traces have T={t}")
    if not np.all(np.diff(rec.time_s) > 0):
        raise InputError(src, f"time[{rec.worm_id}]", "time stamps are not strictly increasing")
    mapping = canonicalize(rec.ids, complete_lr=complete_lr)
    check_known(mapping, src, f"ids[{rec.worm_id}]", policy)
    sub = traces[:, list(mapping.columns)]
    nan_cols = [mapping.names[i] for i in np.flatnonzero(np.all(np.isnan(sub), axis=0))]
    if nan_cols:
        raise InputError(src, f"traces[{rec.worm_id}]",
                         f"columns with only NaN: {', '.join(nan_cols[:10])}")
    if np.isnan(sub).any():
        raise InputError(src, f"traces[{rec.worm_id}]",
                         "contains NaN values (readers must impute or drop them)")
    if rec.behavior is not None:
        beh = np.asarray(rec.behavior)
        if beh.shape != (t,):
            raise InputError(src, f"behavior[{rec.worm_id}]",
                             f"{beh.size} labels for {t} time points")
        if states is None or beh.min() < -1 or beh.max() >= len(states):
            raise InputError(src, f"behavior[{rec.worm_id}]",
                             f"label codes outside 0..{len(states or []) - 1}")
    rec.traces = traces
    return rec, mapping


def _median_dt(time_s: np.ndarray) -> float:
    return float(np.median(np.diff(time_s)))


def _describe(ds: xr.Dataset) -> None:
    meta = {
        "activity": ("calcium activity", "1"),
        "time_s": ("time since recording start", "s"),
        "valid": ("sample exists (not padding)", "1"),
        "labeled": ("neuron identified in this worm", "1"),
        "dt": ("median sampling interval", "s"),
        "n_timesteps": ("number of valid samples", "1"),
        "n_recorded": ("number of recorded traces, labeled or not", "1"),
        "behavior": ("behavioural state code (index into state), -1 = none", "1"),
    }
    for var, (long_name, units) in meta.items():
        if var in ds:
            ds[var].attrs.update(long_name=long_name, units=units)


def write_calcium(ds: xr.Dataset, path: str | Path) -> None:
    """Validate and write ``ds`` atomically with compression, chunked per worm."""
    validate_calcium(ds, path)
    n_t, n_n = ds.sizes["time"], ds.sizes["neuron"]
    enc: dict[str, dict[str, Any]] = {
        "activity": {"zlib": True, "complevel": 4, "shuffle": True,
                     "chunksizes": (1, max(n_t, 1), n_n), "dtype": "float32"},
        "time_s": {"zlib": True, "complevel": 4},
        "valid": {"zlib": True},
        "labeled": {"zlib": True},
    }
    for name in ("derivative", "activity_unit"):
        if name in ds:
            enc[name] = dict(enc["activity"])
    if "behavior" in ds:
        enc["behavior"] = {"zlib": True, "complevel": 4, "dtype": "int16"}
    for coord in ds.coords:
        enc[str(coord)] = {"_FillValue": None}
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine=ENGINE, encoding=enc)


def open_calcium(path: str | Path, *, load: bool = True) -> xr.Dataset:
    """Open a schema file (lazily unless ``load``) and validate it; errors name the file."""
    ds = open_netcdf(path, load=load)
    validate_calcium(ds, path)
    return ds


def validate_calcium(ds: xr.Dataset, path: str | Path) -> None:
    """Check the schema: required variables, dims, masks; raise :class:`InputError`."""
    if ds.attrs.get("schema") != SCHEMA:
        raise InputError(path, "attrs.schema", f"expected '{SCHEMA}', got "
                         f"{ds.attrs.get('schema')!r}")
    for var in REQUIRED_VARS:
        if var not in ds:
            raise InputError(path, var, "required variable is missing")
    if ds["activity"].dims != ("worm", "time", "neuron"):
        raise InputError(path, "activity", f"dims {ds['activity'].dims} != (worm, time, neuron)")
    if ds.sizes["neuron"] != 302 or tuple(ds["neuron"].values) != neurons_302():
        raise InputError(path, "neuron", "coordinate is not the 302 canonical names in order")
    if "behavior" in ds and "state" not in ds.coords:
        raise InputError(path, "state", "behavior present without a state coordinate")
