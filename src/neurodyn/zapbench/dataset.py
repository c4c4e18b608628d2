"""NetCDF schema ``neurodyn-zapbench/1``: video, segmentation, traces, covariates, conditions.

The same file shape holds the synthetic miniature and a real ZAPBench sub-crop, so every
downstream rule reads one format. Benchmark constants travel as global attributes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurodyn.errors import InputError
from neurodyn.io.atomic import atomic_path
from neurodyn.zapbench.benchmark import Benchmark

SCHEMA = "neurodyn-zapbench/1"
ENGINE = "netcdf4"
REQUIRED = {"video": ("time", "z", "x", "y"), "segmentation": ("z", "x", "y"),
            "traces": ("time", "neuron"), "covariates": ("time", "covariate"),
            "condition_offsets": ("condition_edge",)}


@dataclass(frozen=True)
class VideoData:
    """One recording in memory, with its benchmark rules."""

    video: np.ndarray  # (T, Z, X, Y) float32
    segmentation: np.ndarray  # (Z, X, Y) int32, 0 = unsegmented
    traces: np.ndarray  # (T, N) float32; column k = label k+1
    covariates: np.ndarray  # (T, n_covariates) float32
    benchmark: Benchmark
    synthetic: bool
    attrs: dict[str, Any]

    @property
    def n_neurons(self) -> int:
        return self.traces.shape[1]


def to_dataset(video: np.ndarray, segmentation: np.ndarray, traces: np.ndarray,
               covariates: np.ndarray, covariate_names: tuple[str, ...], bench: Benchmark,
               synthetic: bool, attrs: dict[str, Any]) -> xr.Dataset:
    """Assemble the schema's dataset (checks shapes)."""
    if traces.shape[1] != int(segmentation.max()):
        raise ValueError("traces need one column per segmentation label 1..N")
    ds = xr.Dataset(
        {"video": (REQUIRED["video"], video.astype(np.float32),
                   {"long_name": "dF/F volumetric video", "units": "1"}),
         "segmentation": (REQUIRED["segmentation"], segmentation.astype(np.int32),
                          {"long_name": "segment label per voxel (0 = unsegmented)"}),
         "traces": (REQUIRED["traces"], traces.astype(np.float32),
                    {"long_name": "segment-mean dF/F", "units": "1",
                     "comment": "column k is segment label k+1"}),
         "covariates": (REQUIRED["covariates"], covariates.astype(np.float32),
                        {"long_name": "stimulus covariates"}),
         "condition_offsets": (REQUIRED["condition_offsets"],
                               np.asarray(bench.condition_offsets, dtype=np.int64),
                               {"long_name": "first frame of each condition, then the end"})},
        coords={"covariate": list(covariate_names),
                "condition": list(bench.condition_names),
                "neuron": np.arange(1, traces.shape[1] + 1, dtype=np.int32)})
    ds.attrs.update({
        "schema": SCHEMA, "synthetic": "true" if synthetic else "false",
        "train_conditions": json.dumps(list(bench.train_conditions)),
        "holdout_conditions": json.dumps(list(bench.holdout_conditions)),
        "padding": bench.padding, "val_fraction": bench.val_fraction,
        "test_fraction": bench.test_fraction, "max_context": bench.max_context,
        "horizon": bench.horizon,
        **{k: v if isinstance(v, str | int | float) else json.dumps(v)
           for k, v in attrs.items()}})
    return ds


def write_video_dataset(ds: xr.Dataset, path: str | Path) -> None:
    """Write atomically, compressed, chunked per frame."""
    enc: dict[str, dict[str, Any]] = {}
    for name, var in ds.data_vars.items():
        chunks = tuple(1 if d == "time" else n for d, n in zip(var.dims, var.shape,
                                                                 strict=True))
        if name == "traces" or name == "covariates":
            chunks = var.shape
        enc[name] = {"zlib": True, "complevel": 4, "shuffle": True, "chunksizes": chunks}
    for name in ds.coords:
        enc[name] = {"_FillValue": None} if ds[name].dtype.kind != "U" else {}
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine=ENGINE, encoding=enc)


def _attr(ds: xr.Dataset, path: Path, name: str) -> Any:
    if name not in ds.attrs:
        raise InputError(path, name, "missing global attribute")
    return ds.attrs[name]


def open_video_dataset(path: str | Path) -> VideoData:
    """Read and validate a ``neurodyn-zapbench/1`` file into memory."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file", "does not exist")
    with xr.open_dataset(path, engine=ENGINE) as ds:
        if ds.attrs.get("schema") != SCHEMA:
            raise InputError(path, "schema", f"expected {SCHEMA!r}, got "
                                             f"{ds.attrs.get('schema')!r}")
        for name, dims in REQUIRED.items():
            if name not in ds:
                raise InputError(path, name, "missing variable")
            if tuple(ds[name].dims) != dims:
                raise InputError(path, name, f"dims {ds[name].dims}, expected {dims}")
        ds = ds.load()
        offsets = tuple(int(v) for v in ds["condition_offsets"].values)
        try:
            bench = Benchmark(
                condition_offsets=offsets,
                condition_names=tuple(str(c) for c in ds["condition"].values),
                train_conditions=tuple(json.loads(_attr(ds, path, "train_conditions"))),
                holdout_conditions=tuple(json.loads(_attr(ds, path, "holdout_conditions"))),
                padding=int(_attr(ds, path, "padding")),
                val_fraction=float(_attr(ds, path, "val_fraction")),
                test_fraction=float(_attr(ds, path, "test_fraction")),
                max_context=int(_attr(ds, path, "max_context")),
                horizon=int(_attr(ds, path, "horizon")))
        except ValueError as exc:
            raise InputError(path, "condition_offsets", str(exc)) from exc
        video = ds["video"].values
        seg = ds["segmentation"].values.astype(np.int32)
        traces = ds["traces"].values
        if offsets[-1] != video.shape[0] or traces.shape[0] != video.shape[0]:
            raise InputError(path, "condition_offsets", f"end {offsets[-1]} does not match "
                             f"{video.shape[0]} video frames / {traces.shape[0]} trace rows")
        if video.shape[1:] != seg.shape:
            raise InputError(path, "segmentation", f"shape {seg.shape} differs from the "
                             f"video frame shape {video.shape[1:]}")
        if int(seg.max()) != traces.shape[1]:
            raise InputError(path, "traces", f"{traces.shape[1]} columns but segmentation "
                             f"labels go to {int(seg.max())}")
        return VideoData(video=video.astype(np.float32), segmentation=seg,
                         traces=traces.astype(np.float32),
                         covariates=ds["covariates"].values.astype(np.float32),
                         benchmark=bench, synthetic=ds.attrs.get("synthetic") == "true",
                         attrs=dict(ds.attrs))
