"""NetCDF schema ``neurodyn-zapbench/1``: video, segmentation, traces, covariates, conditions.

The same file shape holds the synthetic miniature and a real ZAPBench sub-crop, so every
downstream rule reads one format. Benchmark constants travel as global attributes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
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
VIDEO_ATTRS = {"long_name": "dF/F volumetric video", "units": "1"}


@dataclass(frozen=True)
class VideoData:
    """One recording in memory, with its benchmark rules."""

    video: np.ndarray | LazyVideo  # (T, Z, X, Y) float32, or read on demand
    segmentation: np.ndarray  # (Z, X, Y) int32, 0 = unsegmented
    traces: np.ndarray  # (T, N) float32; column k = label k+1
    covariates: np.ndarray  # (T, n_covariates) float32
    benchmark: Benchmark
    synthetic: bool
    attrs: dict[str, Any]
    covariate_names: tuple[str, ...] = ()
    evoked: np.ndarray | None = None  # (T, N) released stimulus-evoked response (real data)

    @property
    def n_neurons(self) -> int:
        return self.traces.shape[1]


def to_dataset(video: np.ndarray | None, segmentation: np.ndarray, traces: np.ndarray,
               covariates: np.ndarray, covariate_names: tuple[str, ...], bench: Benchmark,
               synthetic: bool, attrs: dict[str, Any],
               evoked: np.ndarray | None = None) -> xr.Dataset:
    """Assemble the schema's dataset (checks shapes); ``evoked``: optional (time, neuron)
    stimulus-evoked response, stored as ``evoked``. ``video=None``: the video is streamed in
    by ``write_video_dataset(..., blocks=...)``."""
    if traces.shape[1] != int(segmentation.max()):
        raise ValueError("traces need one column per segmentation label 1..N")
    if evoked is not None and evoked.shape != traces.shape:
        raise ValueError(f"evoked response {evoked.shape} differs from traces {traces.shape}")
    ds = xr.Dataset(
        {**({} if video is None else {"video": (REQUIRED["video"], video.astype(np.float32),
                                                 VIDEO_ATTRS)}),
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
    if evoked is not None:
        ds["evoked"] = (REQUIRED["traces"], evoked.astype(np.float32),
                        {"long_name": "released stimulus-evoked response", "units": "1"})
    return ds


def write_video_dataset(ds: xr.Dataset, path: str | Path,
                        blocks: Iterable[tuple[int, dict[str, np.ndarray]]] | None = None,
                        ) -> None:
    """Write atomically, compressed, the video chunked per frame.

    ``blocks`` streams time-major rows in after ``ds`` is written: (first frame,
    {variable: rows}); a ``video`` absent from ``ds`` is created from the first block, so the
    whole video never has to be in memory.
    """
    enc: dict[str, dict[str, Any]] = {}
    for name, var in ds.data_vars.items():
        chunks = tuple(1 if d == "time" else n for d, n in zip(var.dims, var.shape,
                                                                 strict=True))
        if name in ("traces", "covariates", "evoked"):
            chunks = var.shape
        enc[name] = {"zlib": True, "complevel": 4, "shuffle": True, "chunksizes": chunks}
    for name in ds.coords:
        enc[name] = {"_FillValue": None} if ds[name].dtype.kind != "U" else {}
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine=ENGINE, encoding=enc)
        if blocks is not None:
            _append_blocks(tmp, blocks)


def _append_blocks(path: Path, blocks: Iterable[tuple[int, dict[str, np.ndarray]]]) -> None:
    import netCDF4

    with netCDF4.Dataset(path, "a") as nc:
        for t0, rows in blocks:
            for name, values in rows.items():
                if name == "video" and name not in nc.variables:
                    var = nc.createVariable("video", "f4", REQUIRED["video"], zlib=True,
                                            complevel=4, shuffle=True,
                                            chunksizes=(1, *values.shape[1:]))
                    var.setncatts(VIDEO_ATTRS)
                nc.variables[name][t0 : t0 + len(values)] = values


class LazyVideo:
    """The ``video`` of a recording file, read on demand (its chunks are single frames)."""

    def __init__(self, path: str | Path) -> None:
        import netCDF4

        self.path = Path(path)
        self._nc = netCDF4.Dataset(self.path, "r")
        self._var = self._nc.variables["video"]
        self._var.set_auto_mask(False)
        self.shape = tuple(int(n) for n in self._var.shape)
        self.frames_read = 0  # distinct frames read, over all calls

    def read(self, index: np.ndarray) -> np.ndarray:
        """Frames ``index`` (integer array) → index.shape + (Z, X, Y); every distinct frame
        is read once, runs of consecutive frames in one call."""
        index = np.asarray(index, dtype=np.int64)
        uniq, inverse = np.unique(index, return_inverse=True)
        out = np.empty((len(uniq), *self.shape[1:]), dtype=np.float32)
        for run in np.split(np.arange(len(uniq)), np.flatnonzero(np.diff(uniq) != 1) + 1):
            if len(run):
                out[run[0] : run[-1] + 1] = self._var[uniq[run[0]] : uniq[run[-1]] + 1]
        self.frames_read += len(uniq)
        return out[inverse.reshape(-1)].reshape(*index.shape, *self.shape[1:])

    def __getitem__(self, key: slice | np.ndarray) -> np.ndarray:
        if isinstance(key, slice):
            return np.asarray(self._var[key], dtype=np.float32)
        return self.read(np.asarray(key))

    def close(self) -> None:
        self._nc.close()


def _attr(ds: xr.Dataset, path: Path, name: str) -> Any:
    if name not in ds.attrs:
        raise InputError(path, name, "missing global attribute")
    return ds.attrs[name]


def open_video_dataset(path: str | Path, lazy: bool = False) -> VideoData:
    """Read and validate a ``neurodyn-zapbench/1`` file into memory; ``lazy``: all but the
    video, which is read frame by frame on demand (``LazyVideo``)."""
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
        if lazy:
            ds = ds.drop_vars("video")
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
        video = LazyVideo(path) if lazy else ds["video"].values.astype(np.float32)
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
        evoked = None
        if "evoked" in ds:
            if ds["evoked"].shape != traces.shape:
                raise InputError(path, "evoked", f"shape {ds['evoked'].shape} differs from "
                                 f"the traces {traces.shape}")
            evoked = ds["evoked"].values.astype(np.float32)
        return VideoData(video=video, segmentation=seg,
                         traces=traces.astype(np.float32),
                         covariates=ds["covariates"].values.astype(np.float32),
                         benchmark=bench, synthetic=ds.attrs.get("synthetic") == "true",
                         attrs=dict(ds.attrs),
                         covariate_names=tuple(str(c) for c in ds["covariate"].values),
                         evoked=evoked)
