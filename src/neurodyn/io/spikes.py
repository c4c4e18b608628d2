"""The trial-aligned spiking NetCDF schema (``neurodyn-spikes/1``), shared by LFADS studies.

One file per dataset. Dimensions ``trial`` × ``time`` × ``neuron`` (binned spike counts of
equal-length, aligned trials). Written by the synthetic generators in
:mod:`neurodyn.data.spikes` and by the NLB/NWB reader; read by LFADS (issue 5) and AutoLFADS
(issue 6).

===================  =========================  ==============================================
variable             dims                       meaning
===================  =========================  ==============================================
spikes               trial, time, neuron        int16 spike counts per bin
condition            trial                      int32 condition id (-1 = unknown)
split                trial                      str: ``train`` | ``valid`` | ``test``
heldout              neuron                     bool, held-out neuron (NLB co-smoothing); the
                                                encoder sees only held-in neurons
sv_mask (optional)   trial, time, neuron        bool, sample-validation keep mask (True = SV
                                                held-in sample); fixed, seeded, stored once so
                                                every run/worker uses the same mask. All True
                                                on held-out neurons and forward bins.
rates_hz (optional)  trial, time, neuron        float32 ground-truth firing rates (spikes/s)
behavior (optional)  trial, time, behavior_dim  float32 behaviour, e.g. hand velocity (vx, vy)
inputs (optional)    trial, time, input_dim     float32 ground-truth inputs (synthetic RNN)
===================  =========================  ==============================================

Coordinates: ``trial`` (int), ``time`` (float, seconds from the alignment event, bin starts),
``neuron`` (str names), ``behavior_dim`` / ``input_dim`` (str names) when present.

Global attributes: ``schema``, ``title``, ``dataset``, ``synthetic`` ("true"/"false"),
``references``, ``bin_width_s``, ``align`` (event the time axis is relative to),
``n_forward_bins`` (trailing bins used only as forward-prediction targets, never shown to the
encoder; 0 for the synthetic data), ``sv_rate`` and ``sv_seed`` (when ``sv_mask`` exists),
``behavior_units``, ``neurodyn_version`` and provenance keys.

Functions: :func:`assemble_spikes` (arrays → validated dataset), :func:`add_sv_mask`,
:func:`make_sv_mask`, :func:`write_spikes`, :func:`open_spikes`, :func:`validate_spikes`,
:func:`split_arrays` (numpy arrays of one split, the input of LFADS).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurodyn import __version__
from neurodyn.errors import InputError
from neurodyn.io.atomic import atomic_path
from neurodyn.io.netcdf import ENGINE, open_netcdf

SCHEMA = "neurodyn-spikes/1"
SPLITS = ("train", "valid", "test")
REQUIRED_VARS = ("spikes", "condition", "split", "heldout")
REQUIRED_ATTRS = ("dataset", "synthetic", "bin_width_s", "align", "n_forward_bins")


def assemble_spikes(
    spikes: np.ndarray,
    *,
    dataset: str,
    bin_width_s: float,
    condition: np.ndarray,
    split: Sequence[str] | np.ndarray,
    time_s: np.ndarray | None = None,
    neuron_names: Sequence[str] | None = None,
    heldout: np.ndarray | None = None,
    rates_hz: np.ndarray | None = None,
    behavior: np.ndarray | None = None,
    behavior_names: Sequence[str] = ("vx", "vy"),
    behavior_units: str = "1",
    inputs: np.ndarray | None = None,
    synthetic: bool,
    align: str = "trial_start",
    n_forward_bins: int = 0,
    references: str = "",
    title: str = "",
    attrs: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Pack arrays (trials × time × neurons) into a validated schema dataset."""
    counts = np.asarray(spikes)
    if counts.ndim != 3:
        raise InputError(dataset, "spikes", f"expected trial × time × neuron, got {counts.shape}")
    n_trial, n_time, n_neuron = counts.shape
    if time_s is None:
        time_s = np.arange(n_time) * bin_width_s
    if neuron_names is None:
        neuron_names = [f"n{i:03d}" for i in range(n_neuron)]
    if heldout is None:
        heldout = np.zeros(n_neuron, bool)
    data: dict[str, Any] = {
        "spikes": (("trial", "time", "neuron"), counts.astype(np.int16)),
        "condition": ("trial", np.asarray(condition, np.int32)),
        "split": ("trial", np.asarray(split, dtype=object)),
        "heldout": ("neuron", np.asarray(heldout, bool)),
    }
    if rates_hz is not None:
        data["rates_hz"] = (("trial", "time", "neuron"), np.asarray(rates_hz, np.float32))
    coords: dict[str, Any] = {
        "trial": np.arange(n_trial, dtype=np.int32),
        "time": np.asarray(time_s, np.float64),
        "neuron": list(neuron_names),
    }
    if behavior is not None:
        data["behavior"] = (("trial", "time", "behavior_dim"), np.asarray(behavior, np.float32))
        coords["behavior_dim"] = list(behavior_names)
    if inputs is not None:
        data["inputs"] = (("trial", "time", "input_dim"), np.asarray(inputs, np.float32))
        coords["input_dim"] = [f"u{i}" for i in range(np.shape(inputs)[-1])]
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(
        schema=SCHEMA,
        title=title or f"{dataset} binned spike counts",
        dataset=dataset,
        synthetic="true" if synthetic else "false",
        references=references,
        bin_width_s=float(bin_width_s),
        align=align,
        n_forward_bins=int(n_forward_bins),
        behavior_units=behavior_units,
        neurodyn_version=__version__,
        Conventions="CF-1.10",
    )
    ds.attrs.update({k: str(v) for k, v in (attrs or {}).items()})
    _describe(ds)
    validate_spikes(ds, dataset)
    return ds


def make_sv_mask(shape: tuple[int, int, int], sv_rate: float, seed: int) -> np.ndarray:
    """Elementwise Bernoulli keep mask (True = SV held-in) with P(keep) = 1 − ``sv_rate``.

    The same ``shape``, ``sv_rate`` and ``seed`` always give the same mask.
    """
    if not 0.0 <= sv_rate < 1.0:
        raise ValueError(f"sv_rate must be in [0, 1), got {sv_rate}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5F5]))
    return rng.random(shape) >= sv_rate


def add_sv_mask(ds: xr.Dataset, sv_rate: float, seed: int) -> xr.Dataset:
    """Return ``ds`` with a fixed seeded SV mask over the encoder region.

    The encoder region is held-in neurons × observed (non-forward) bins; elsewhere the mask
    is True (those elements are always trained on). The mask of a trial depends only on the
    seed and the array shape, so it is identical across runs and workers.
    """
    n_trial, n_time, n_neuron = ds["spikes"].shape
    mask = make_sv_mask((n_trial, n_time, n_neuron), sv_rate, seed)
    mask[:, n_time - int(ds.attrs["n_forward_bins"]):, :] = True
    mask[:, :, np.asarray(ds["heldout"].values, bool)] = True
    out = ds.copy()
    out["sv_mask"] = (("trial", "time", "neuron"), mask)
    out["sv_mask"].attrs.update(long_name="sample-validation keep mask (True = SV held-in)",
                                units="1")
    out.attrs.update(sv_rate=float(sv_rate), sv_seed=int(seed))
    return out


def _describe(ds: xr.Dataset) -> None:
    meta = {
        "spikes": ("spike counts per bin", "1"),
        "condition": ("condition id", "1"),
        "split": ("trial split (train, valid, test)", "1"),
        "heldout": ("held-out neuron (not shown to the encoder)", "1"),
        "rates_hz": ("ground-truth firing rate", "Hz"),
        "behavior": ("behaviour (e.g. hand velocity)", ds.attrs.get("behavior_units", "1")),
        "inputs": ("ground-truth input", "1"),
        "time": ("time from alignment event (bin start)", "s"),
    }
    for var, (long_name, units) in meta.items():
        if var in ds.variables:
            ds[var].attrs.update(long_name=long_name, units=units)


def write_spikes(ds: xr.Dataset, path: str | Path) -> None:
    """Validate and write ``ds`` atomically (compressed, chunked per trial)."""
    validate_spikes(ds, path)
    n_t, n_n = ds.sizes["time"], ds.sizes["neuron"]
    chunk3 = {"zlib": True, "complevel": 4, "shuffle": True, "chunksizes": (1, n_t, n_n)}
    enc: dict[str, dict[str, Any]] = {"spikes": {**chunk3, "dtype": "int16"}}
    if "rates_hz" in ds:
        enc["rates_hz"] = {**chunk3, "dtype": "float32"}
    if "sv_mask" in ds:
        enc["sv_mask"] = {**chunk3}
    for name in ("behavior", "inputs"):
        if name in ds:
            enc[name] = {"zlib": True, "complevel": 4, "dtype": "float32"}
    for coord in ds.coords:
        enc[str(coord)] = {"_FillValue": None}
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine=ENGINE, encoding=enc)


def open_spikes(path: str | Path) -> xr.Dataset:
    """Open and load a schema file and validate it; errors name the file and field."""
    ds = open_netcdf(path)
    for name in ("heldout", "sv_mask"):  # bool round-trips as int8 for non-xarray readers
        if name in ds:
            ds[name] = ds[name].astype(bool)
    validate_spikes(ds, path)
    return ds


def validate_spikes(ds: xr.Dataset, path: str | Path) -> None:
    """Check the schema: variables, dims, splits, masks; raise :class:`InputError`."""
    if ds.attrs.get("schema") != SCHEMA:
        raise InputError(path, "attrs.schema", f"expected '{SCHEMA}', got "
                         f"{ds.attrs.get('schema')!r}")
    for key in REQUIRED_ATTRS:
        if key not in ds.attrs:
            raise InputError(path, f"attrs.{key}", "required attribute is missing")
    for var in REQUIRED_VARS:
        if var not in ds:
            raise InputError(path, var, "required variable is missing")
    if ds["spikes"].dims != ("trial", "time", "neuron"):
        raise InputError(path, "spikes", f"dims {ds['spikes'].dims} != (trial, time, neuron)")
    counts = ds["spikes"].values
    if counts.size and counts.min() < 0:
        raise InputError(path, "spikes", "negative spike counts")
    bad = sorted(set(map(str, ds["split"].values)) - set(SPLITS))
    if bad:
        raise InputError(path, "split", f"unknown split names {bad}; allowed {list(SPLITS)}")
    if not 0 <= int(ds.attrs["n_forward_bins"]) < ds.sizes["time"]:
        raise InputError(path, "attrs.n_forward_bins", "must be in [0, n_time)")
    if np.asarray(ds["heldout"].values, bool).all():
        raise InputError(path, "heldout", "every neuron is held out (no encoder input)")
    for var in ("rates_hz", "sv_mask"):
        if var in ds and ds[var].dims != ("trial", "time", "neuron"):
            raise InputError(path, var, f"dims {ds[var].dims} != (trial, time, neuron)")
    if "rates_hz" in ds:
        rates = ds["rates_hz"].values
        if not np.isfinite(rates).all() or rates.min() < 0:
            raise InputError(path, "rates_hz", "rates must be finite and non-negative")
    if "sv_mask" in ds and "sv_rate" not in ds.attrs:
        raise InputError(path, "attrs.sv_rate", "sv_mask present without sv_rate")
    if "behavior" in ds and ds["behavior"].dims[:2] != ("trial", "time"):
        raise InputError(path, "behavior", f"dims {ds['behavior'].dims} must start with "
                         "(trial, time)")


def split_arrays(ds: xr.Dataset, split: str | Sequence[str],
                 trials: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Numpy arrays of the trials in ``split`` (or of the explicit ``trials`` indices).

    Keys: ``encod_data`` (held-in neurons × observed bins, float32), ``recon_data`` (held-in
    then held-out neurons × all bins, float32), ``sv_mask`` (same shape as ``encod_data``;
    all True when the file has none), ``condition``, ``trial``, and when present ``truth``
    (rates in counts per bin, neuron order as ``recon_data``), ``behavior``, ``inputs``.
    """
    if trials is None:
        names = [split] if isinstance(split, str) else list(split)
        trials = np.flatnonzero(np.isin(ds["split"].values.astype(str), names))
    heldout = np.asarray(ds["heldout"].values, bool)
    order = np.concatenate([np.flatnonzero(~heldout), np.flatnonzero(heldout)])
    n_obs = ds.sizes["time"] - int(ds.attrs["n_forward_bins"])
    n_in = int((~heldout).sum())
    spikes = ds["spikes"].values[trials][:, :, order].astype(np.float32)
    out: dict[str, np.ndarray] = {
        "recon_data": spikes,
        "encod_data": spikes[:, :n_obs, :n_in].copy(),
        "condition": ds["condition"].values[trials],
        "trial": ds["trial"].values[trials],
    }
    if "sv_mask" in ds:
        out["sv_mask"] = np.asarray(ds["sv_mask"].values[trials][:, :n_obs][:, :, order[:n_in]],
                                    bool)
    else:
        out["sv_mask"] = np.ones(out["encod_data"].shape, bool)
    if "rates_hz" in ds:
        out["truth"] = (ds["rates_hz"].values[trials][:, :, order]
                        * float(ds.attrs["bin_width_s"])).astype(np.float32)
    for name in ("behavior", "inputs"):
        if name in ds:
            out[name] = ds[name].values[trials].astype(np.float32)
    return out
