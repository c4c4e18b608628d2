"""Preprocessing of calcium datasets (Simeon et al. 2024, paper-era order).

Per worm, on the labeled neurons at the native rate: z-score over the whole recording
(population std) → causal exponential smoothing (s₀ = x₀, sᵢ = α·xᵢ + (1−α)·sᵢ₋₁) → resampling
to ``dt``: linear interpolation when ``dt`` is finer than the native interval, otherwise
interpolation to ``dt/6`` followed by averaging blocks of 6 (down-sampling without aliasing).
Each block average is stamped at its block's start (as worm-graph's ``aggregate_data``
does), but it represents the block's centre, (6 − 1)/2 fine steps later; behaviour labels are
carried by zero-order hold at the time each output row represents (the block centre when
down-sampling, the grid point when up-sampling), so features and labels stay aligned. Added
variables: ``derivative`` (np.gradient of the processed activity over time) and
``activity_unit`` (per worm and neuron, min-max scaled to [0, 1], as used by the Wang 2021
thesis).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr
from scipy.signal import lfilter

from neurodyn import __version__

UPSAMPLE_FACTOR = 6


@dataclass(frozen=True)
class PreprocessParams:
    """Preprocessing parameters (recorded in the output's ``preprocessing`` attribute)."""

    resample_dt: float = 0.666
    smooth_alpha: float = 0.5
    zscore: bool = True


def zscore(x: np.ndarray) -> np.ndarray:
    """Per-column z-score (ddof 0); constant columns become 0."""
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def exponential_smooth(x: np.ndarray, alpha: float) -> np.ndarray:
    """Causal exponential smoothing along axis 0 with s[0] = x[0]."""
    if not 0 < alpha <= 1:
        raise ValueError(f"smooth_alpha must be in (0, 1], got {alpha}")
    zi = (1.0 - alpha) * x[:1]
    y, _ = lfilter([alpha], [1.0, alpha - 1.0], x, axis=0, zi=zi)
    return y


def _downsamples(t: np.ndarray, dt: float) -> bool:
    """Whether resampling times ``t`` to step ``dt`` averages blocks (``dt`` ≥ native step)."""
    return dt >= float(np.median(np.diff(t)))


def resample(x: np.ndarray, t: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Resample rows of ``x`` (sampled at times ``t``) onto a grid of step ``dt``.

    Returned times start at 0; a block average is stamped at its block's start.
    """
    if not _downsamples(t, dt):
        t_new = np.arange(t[0], t[-1], dt)
        return _interp(x, t, t_new), t_new - t[0]
    fine = dt / UPSAMPLE_FACTOR
    t_fine = np.arange(t[0], t[-1], fine)
    n_blocks = t_fine.size // UPSAMPLE_FACTOR
    x_fine = _interp(x, t, t_fine[: n_blocks * UPSAMPLE_FACTOR])
    x_new = x_fine.reshape(n_blocks, UPSAMPLE_FACTOR, -1).mean(axis=1)
    return x_new, dt * np.arange(n_blocks)


def _interp(x: np.ndarray, t: np.ndarray, t_new: np.ndarray) -> np.ndarray:
    """Linear interpolation of every column (vectorised over columns)."""
    idx = np.clip(np.searchsorted(t, t_new, side="right") - 1, 0, t.size - 2)
    w = ((t_new - t[idx]) / (t[idx + 1] - t[idx]))[:, None]
    return x[idx] * (1 - w) + x[idx + 1] * w


def represented_times(t: np.ndarray, t_new: np.ndarray, dt: float) -> np.ndarray:
    """Times (since ``t[0]``) that the rows of :func:`resample` represent: block centres."""
    if not _downsamples(t, dt):
        return t_new
    return t_new + 0.5 * (UPSAMPLE_FACTOR - 1) * dt / UPSAMPLE_FACTOR


def hold_labels(labels: np.ndarray, t: np.ndarray, t_new: np.ndarray) -> np.ndarray:
    """Zero-order hold: the label of the last native sample at or before each new time."""
    idx = np.clip(np.searchsorted(t - t[0], t_new, side="right") - 1, 0, t.size - 1)
    return labels[idx]


def unit_scale(x: np.ndarray) -> np.ndarray:
    """Per-column min-max scaling to [0, 1]; constant columns become 0."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    return (x - lo) / np.where(hi > lo, hi - lo, 1.0)


def process_worm(x: np.ndarray, t: np.ndarray, params: PreprocessParams
                 ) -> tuple[np.ndarray, np.ndarray]:
    """z-score → smooth → resample one worm's (T × n_labeled) matrix; return (x, times)."""
    if params.zscore:
        x = zscore(x)
    x = exponential_smooth(x, params.smooth_alpha)
    return resample(x, t, params.resample_dt)


def preprocess_dataset(ds: xr.Dataset, params: PreprocessParams) -> xr.Dataset:
    """Apply :func:`process_worm` to every worm of a raw schema dataset."""
    per_worm = []
    for w in range(ds.sizes["worm"]):
        n = int(ds["n_timesteps"][w])
        cols = np.flatnonzero(ds["labeled"].values[w])
        t = ds["time_s"].values[w, :n]
        x, t_new = process_worm(ds["activity"].values[w, :n][:, cols].astype(np.float64), t,
                                params)
        beh = None
        if "behavior" in ds:
            t_rep = represented_times(t, t_new, params.resample_dt)
            beh = hold_labels(ds["behavior"].values[w, :n], t, t_rep)
        per_worm.append((cols, x, t_new, beh))
    t_max = max(p[1].shape[0] for p in per_worm)
    shape = (ds.sizes["worm"], t_max, ds.sizes["neuron"])
    act, deriv, unit = (np.full(shape, np.nan, np.float32) for _ in range(3))
    time_s = np.full(shape[:2], np.nan)
    behavior = np.full(shape[:2], -1, np.int16)
    lengths = np.zeros(shape[0], np.int32)
    for w, (cols, x, t_new, beh) in enumerate(per_worm):
        n = x.shape[0]
        act[w][:n, cols] = x
        deriv[w][:n, cols] = np.gradient(x, t_new, axis=0)
        unit[w][:n, cols] = unit_scale(x)
        time_s[w, :n] = t_new
        lengths[w] = n
        if beh is not None:
            behavior[w, :n] = beh
    out = ds.drop_vars(["activity", "time_s", "valid", "n_timesteps", "dt", "time"]
                       + (["behavior"] if "behavior" in ds else []))
    dims3, dims2 = ("worm", "time", "neuron"), ("worm", "time")
    out = out.assign(
        activity=(dims3, act, {"long_name": "z-scored, smoothed, resampled activity",
                               "units": "1"}),
        derivative=(dims3, deriv, {"long_name": "time derivative of activity",
                                   "units": "s-1"}),
        activity_unit=(dims3, unit, {"long_name": "activity min-max scaled per worm and "
                                     "neuron to [0, 1]", "units": "1"}),
        time_s=(dims2, time_s, {"long_name": "time since recording start", "units": "s"}),
        valid=(dims2, np.arange(t_max)[None, :] < lengths[:, None]),
        n_timesteps=("worm", lengths),
        dt=("worm", np.full(shape[0], params.resample_dt), {"units": "s"}),
    ).assign_coords(time=np.arange(t_max, dtype=np.int32))
    if "behavior" in ds:
        out["behavior"] = (dims2, behavior, ds["behavior"].attrs)
    out.attrs.update(ds.attrs)
    out.attrs["preprocessing"] = json.dumps({"stage": "processed", **asdict(params),
                                             "order": "zscore>smooth>resample"})
    out.attrs["neurodyn_version"] = __version__
    return out


def combine_datasets(datasets: list[xr.Dataset]) -> xr.Dataset:
    """Concatenate processed datasets along ``worm`` (activity and masks only, no behaviour)."""
    keep = ["activity", "time_s", "valid", "labeled", "dt", "n_timesteps", "n_recorded",
            "dataset", "source_file", "original_worm_id"]
    parts = [d[keep] for d in datasets]
    out = xr.concat(parts, dim="worm", join="outer", fill_value={"valid": False},
                    combine_attrs="drop")
    out["valid"] = out["valid"].fillna(False).astype(bool)
    for name in ("dataset", "source_file", "original_worm_id"):
        out[name].encoding.pop("dtype", None)  # the first file's string width would truncate
    out.attrs.update({k: datasets[0].attrs[k] for k in ("schema", "Conventions",
                                                        "preprocessing")})
    out.attrs.update(
        title="Combined whole-brain calcium activity",
        dataset="combined:" + ",".join(d.attrs["dataset"] for d in datasets),
        synthetic=("true" if all(d.attrs["synthetic"] == "true" for d in datasets) else
                   "false" if all(d.attrs["synthetic"] == "false" for d in datasets)
                   else "mixed"),
        references=" | ".join(d.attrs["references"] for d in datasets),
        unknown_states="",
        neurodyn_version=__version__,
    )
    return out
