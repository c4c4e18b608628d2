"""Wang 2021's own preprocessing product, as the thesis prepared its data.

From a raw calcium file (schema ``neurodyn-calcium/1``): worms selected by their raw source
file (real recordings), kept at the **native frame rate** (no resampling, no smoothing, no
z-scoring), with two added variables per worm and labeled neuron:

- ``activity_unit``: the raw trace min-max scaled to [0, 1] over the worm's recording;
- ``derivative``: ``np.gradient`` of the raw trace over ``time_s`` (scaled to [0, 1] when the
  features are built, :mod:`neurodyn.wang2021.data`).

Behaviour labels, ``time_s``, ``dt`` and ``n_timesteps`` stay as recorded. The scaling study's
processed files (z-scored, smoothed, resampled to 0.666 s) are not used.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from fnmatch import fnmatch
from pathlib import PurePosixPath

import numpy as np
import xarray as xr

from neurodyn import __version__
from neurodyn.data.celegans.preprocess import unit_scale
from neurodyn.errors import InputError

SYNTHETIC_PREFIX = "synthetic:"


def relative_source(source_file: str, dataset: str) -> str:
    """A worm's raw file below its dataset folder ('Kato2015/WT_NoStim.mat' →
    'WT_NoStim.mat'); a path outside it (absolute) is reduced to its file name."""
    prefix = f"{dataset}/"
    if source_file.startswith(prefix):
        return source_file[len(prefix):]
    return PurePosixPath(source_file.replace("\\", "/")).name


def select_worm_indices(source_files: list[str], dataset: str,
                        files: Mapping[str, int | None] | None, where: str) -> list[int]:
    """Indices of the worms to keep, in the order of ``files`` (pattern → at most that many
    worms, ``None`` = all; patterns are alternatives, e.g. a ``.mat`` file or its export),
    worms of one file in their reading order. Synthetic worms (``synthetic:…``) and an
    empty/absent ``files`` keep every worm in reading order. No worm selected is an error
    naming ``where``."""
    if not files or all(s.startswith(SYNTHETIC_PREFIX) for s in source_files):
        return list(range(len(source_files)))
    rel = [relative_source(s, dataset) for s in source_files]
    keep: list[int] = []
    for pattern, cap in files.items():
        hits = [i for i, r in enumerate(rel) if fnmatch(r, pattern) and i not in keep]
        keep += hits if cap is None else hits[:cap]
    if not keep:
        raise InputError(where, "source_file", f"no {dataset} worm comes from a file "
                         f"matching {list(files)} (files: {sorted(set(rel))})")
    return keep


def prepare_dataset(ds: xr.Dataset, files: Mapping[str, int | None] | None,
                    where: str = "raw file") -> xr.Dataset:
    """Select worms by source file and add the thesis's features at the native rate."""
    dataset = str(ds.attrs.get("dataset", ""))
    idx = select_worm_indices([str(s) for s in ds["source_file"].values], dataset, files,
                              where)
    ds = ds.isel(worm=idx)
    n_w, n_t, n_n = ds.sizes["worm"], ds.sizes["time"], ds.sizes["neuron"]
    unit = np.full((n_w, n_t, n_n), np.nan, np.float32)
    deriv = np.full((n_w, n_t, n_n), np.nan, np.float32)
    for w in range(n_w):
        n = int(ds["n_timesteps"].values[w])
        cols = np.flatnonzero(ds["labeled"].values[w])
        x = ds["activity"].values[w, :n][:, cols].astype(np.float64)
        t = ds["time_s"].values[w, :n]
        unit[w][:n, cols] = unit_scale(x)
        deriv[w][:n, cols] = np.gradient(x, t, axis=0)
    dims = ("worm", "time", "neuron")
    out = ds.assign(
        activity_unit=(dims, unit, {"long_name": "raw activity min-max scaled per worm and "
                                    "neuron to [0, 1] (native rate)", "units": "1"}),
        derivative=(dims, deriv, {"long_name": "time derivative of the raw activity",
                                  "units": "s-1"}),
    )
    for name in ("dataset", "source_file", "original_worm_id"):
        out[name].encoding.pop("dtype", None)
    out.attrs["preprocessing"] = json.dumps({
        "stage": "wang2021", "resample_dt": None, "smooth_alpha": None, "zscore": False,
        "scaling": "min-max per worm and neuron", "derivative": "np.gradient over time_s",
        "worm_files": dict(files or {})})
    out.attrs["neurodyn_version"] = __version__
    return out
