"""The real ZAPBench data through ``tensorstore`` (spec §1.2, §6.6), and its published results.

Array paths, drivers and axis orders follow google-research/zapbench (``constants.py``,
``video_forecasting/config.py``): traces (t, f) zarr3, segmentation XYZ zarr3 at s0, the
multiscale dF/F video ``df_over_f_xyz_chunked/s{0,1,2}`` XYZT zarr3, stimulus features (t, 26)
zarr v2. ``base`` is ``gs://zapbench-release/volumes/20240930`` online, or a local folder
with the same layout (the tests write one). A spatial sub-crop at the video's scale makes
the real benchmark fit one machine: the segmentation is subsampled to that scale (every
ds-th voxel from offset ds // 2, as the reference loader does) and cropped identically.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurodyn.errors import InputError
from neurodyn.zapbench.benchmark import ZAPBENCH, Benchmark

RELEASE = "gs://zapbench-release/volumes/20240930"
PUBLISHED_URL = ("https://storage.googleapis.com/zapbench-release/dataframes/20250131/"
                 "combined.json")
ARRAYS = {  # name → (path under base, driver)
    "traces": ("traces", "zarr3"),
    "segmentation": ("segmentation", "zarr3"),
    "video_s0": ("df_over_f_xyz_chunked/s0", "zarr3"),
    "video_s1": ("df_over_f_xyz_chunked/s1", "zarr3"),
    "video_s2": ("df_over_f_xyz_chunked/s2", "zarr3"),
    "stimuli_features": ("stimuli_features", "zarr"),
    "stimulus_evoked_response": ("stimulus_evoked_response", "zarr3"),
}
PUBLISHED_COLUMNS = ("method", "context", "condition", "steps_ahead", "MAE")


def kvstore_url(base: str | Path, sub: str) -> str:
    """``gs://``/``http(s)://`` URLs stay as they are; local folders become ``file://``."""
    base = str(base)
    if "://" not in base:
        base = "file://" + str(Path(base).resolve())
    return base.rstrip("/") + "/" + sub.strip("/") + "/"


def open_array(base: str | Path, name: str) -> Any:
    """Open one release array read-only (lazy: nothing is read yet)."""
    import tensorstore as ts

    sub, driver = ARRAYS[name]
    url = kvstore_url(base, sub)
    try:
        return ts.open({"driver": driver, "kvstore": url}, read=True).result()
    except Exception as exc:  # tensorstore raises ValueError/OSError subclasses
        raise InputError(url, name, f"cannot open {driver} array ({exc})") from exc


@dataclass(frozen=True)
class Crop:
    """Half-open XYZ box at the video's scale; ``None`` = the whole axis."""

    x: tuple[int, int] | None = None
    y: tuple[int, int] | None = None
    z: tuple[int, int] | None = None

    def slices(self, shape: tuple[int, int, int]) -> tuple[slice, slice, slice]:
        out = []
        for rng, n, axis in zip((self.x, self.y, self.z), shape, "xyz", strict=True):
            lo, hi = rng if rng is not None else (0, n)
            if not 0 <= lo < hi <= n:
                raise ValueError(f"crop {axis}={rng} outside 0..{n}")
            out.append(slice(lo, hi))
        return tuple(out)  # type: ignore[return-value]


@dataclass(frozen=True)
class RealCrop:
    """A cropped real recording: arrays in the miniature's layout."""

    video: np.ndarray  # (T, Z, X, Y)
    segmentation: np.ndarray  # (Z, X, Y), labels renumbered 1..N
    neuron_ids: np.ndarray  # original label of each new label (trace column = id - 1)
    traces: np.ndarray  # (T, N) published traces of those neurons
    covariates: np.ndarray  # (T, n_features)
    evoked: np.ndarray  # (T, N) released stimulus-evoked response of those neurons


def real_frames(base: str | Path, scale: int, n_frames: int | None = None) -> Benchmark:
    """The benchmark of the recording's first ``n_frames`` frames (all when ``None``), cut
    at the last condition boundary they reach (only array shapes are read)."""
    vt = int(open_array(base, f"video_s{scale}").shape[3])
    vt = min(vt, int(open_array(base, "traces").shape[0]))
    return real_benchmark(vt if n_frames is None else min(int(n_frames), vt))


BLOCK_BYTES = 256 << 20  # largest block of video frames read at once


class CropReader:
    """A sub-crop of the s``scale`` video, opened lazily: the small arrays (segmentation at
    that scale, published traces, covariates, released stimulus-evoked response) are read
    at once, the video in blocks of whole time chunks (``blocks``)."""

    def __init__(self, base: str | Path, scale: int, crop: Crop,
                 n_frames: int | None = None) -> None:
        self._video = open_array(base, f"video_s{scale}")
        seg = open_array(base, "segmentation")
        vx, vy, vz, vt = (int(n) for n in self._video.shape)
        self.n_frames = vt if n_frames is None else min(int(n_frames), vt)
        self._box = crop.slices((vx, vy, vz))
        sx, sy, sz = self._box
        ds = int(seg.shape[0]) // vx
        off = ds // 2
        seg_c = seg[off + sx.start * ds : off + sx.stop * ds : ds,
                    off + sy.start * ds : off + sy.stop * ds : ds, sz].read().result()
        ids = np.unique(seg_c[seg_c > 0]).astype(np.int64)
        relabel = np.zeros(int(seg_c.max()) + 1 if seg_c.size else 1, dtype=np.int32)
        relabel[ids] = np.arange(1, len(ids) + 1)
        self.neuron_ids = ids
        self.segmentation = np.transpose(relabel[seg_c], (2, 0, 1)).astype(np.int32)
        t = self.n_frames
        self.traces = open_traces_columns(open_array(base, "traces"), ids - 1,
                                          t).astype(np.float32)
        self.covariates = np.asarray(open_array(base, "stimuli_features")[:t].read().result(),
                                     dtype=np.float32)
        self.evoked = open_traces_columns(open_array(base, "stimulus_evoked_response"),
                                          ids - 1, t).astype(np.float32)
        self.frame_shape = tuple(int(n) for n in self.segmentation.shape)
        self.largest_read = 0  # frames in the largest block read so far

    def frames(self, start: int, stop: int) -> np.ndarray:
        """Video frames [start, stop) of the crop as (T, Z, X, Y) float32."""
        sx, sy, sz = self._box
        block = self._video[sx, sy, sz, start:stop].read().result()  # X Y Z T
        self.largest_read = max(self.largest_read, stop - start)
        return np.transpose(block, (3, 2, 0, 1)).astype(np.float32)

    def block_frames(self, max_bytes: int | None = None) -> int:
        """Frames per block: whole time chunks of the store, within ``max_bytes``."""
        frame = 4 * int(np.prod(self.frame_shape))
        budget = max(1, (BLOCK_BYTES if max_bytes is None else max_bytes) // frame)
        try:
            chunk = int(self._video.chunk_layout.read_chunk.shape[3])
        except (AttributeError, TypeError, IndexError):
            chunk = 1
        return chunk * max(1, budget // chunk) if chunk <= budget else budget

    def blocks(self, max_bytes: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """(first frame, frames) blocks covering [0, n_frames) in order."""
        step = self.block_frames(max_bytes)
        for t0 in range(0, self.n_frames, step):
            yield t0, self.frames(t0, min(t0 + step, self.n_frames))


def read_crop(base: str | Path, scale: int, crop: Crop, n_frames: int | None = None) -> RealCrop:
    """Read a sub-crop of the s``scale`` video with its segmentation, traces, covariates and
    the released stimulus-evoked response, for the first ``n_frames`` frames, into memory."""
    r = CropReader(base, scale, crop, n_frames)
    return RealCrop(video=r.frames(0, r.n_frames), segmentation=r.segmentation,
                    neuron_ids=r.neuron_ids, traces=r.traces, covariates=r.covariates,
                    evoked=r.evoked)


def open_traces_columns(traces: Any, columns: np.ndarray, n_frames: int) -> np.ndarray:
    """Trace-matrix columns (neuron = label − 1) for the first ``n_frames`` frames."""
    if len(columns) == 0:
        return np.zeros((n_frames, 0), dtype=np.float32)
    return np.asarray(traces.oindex[:n_frames, columns].read().result())


def real_benchmark(n_frames: int) -> Benchmark:
    """The real benchmark, or the conditions that fit in the first ``n_frames`` frames."""
    if n_frames >= ZAPBENCH.condition_offsets[-1]:
        return ZAPBENCH
    ends = [o for o in ZAPBENCH.condition_offsets if o <= n_frames]
    keep = len(ends) - 1
    if keep < 2:
        raise ValueError(f"{n_frames} frames hold fewer than two ZAPBench conditions")
    holdout = tuple(k for k in ZAPBENCH.holdout_conditions if k < keep) or (keep - 1,)
    return Benchmark(condition_offsets=tuple(ends),
                     condition_names=ZAPBENCH.condition_names[:keep],
                     train_conditions=tuple(k for k in range(keep) if k not in holdout),
                     holdout_conditions=holdout, max_context=ZAPBENCH.max_context,
                     horizon=ZAPBENCH.horizon)


def load_published(path: str | Path) -> pd.DataFrame:
    """The published results dataframe (``combined.json``), checked for its columns."""
    path = Path(path)
    try:
        df = pd.read_json(path)
    except (ValueError, OSError) as exc:
        raise InputError(path, "combined.json", f"cannot read as a dataframe ({exc})") from exc
    for col in PUBLISHED_COLUMNS:
        if col not in df.columns:
            raise InputError(path, col, "missing column in the published results")
    names = dict(enumerate(ZAPBENCH.condition_names))
    df["condition"] = df["condition"].map(lambda c: names.get(c, c) if isinstance(c, int)
                                          else str(c))
    holdout = {ZAPBENCH.condition_names[k] for k in ZAPBENCH.holdout_conditions}
    df["split"] = np.where(df["condition"].isin(holdout), "test_holdout", "test")
    return df


# Deterministic baselines ran once; several runs (xids) of one of them at one context are
# different settings, not seeds (the long-context mean baseline: two window lengths).
DETERMINISTIC = ("mean", "stimulus")


def published_curves(df: pd.DataFrame) -> pd.DataFrame:
    """Per (method, context, split, step): mean over runs, then over conditions (equal).

    Runs of a learned method are seeds and are averaged; runs of a deterministic baseline
    are kept apart as ``"<method> (xid <id>)"`` curves.
    """
    run = "xid" if "xid" in df.columns else None
    keys = ["method", "context", "split", "condition", "steps_ahead"]
    if run:
        df = df.copy()
        n_runs = df.groupby(["method", "context"])[run].transform("nunique")
        apart = df["method"].isin(DETERMINISTIC) & (n_runs > 1)
        df.loc[apart, "method"] = (df.loc[apart, "method"].astype(str) + " (xid "
                                   + df.loc[apart, run].astype(str) + ")")
    per_cond = df.groupby(keys, as_index=False)["MAE"].mean() if run else df[keys + ["MAE"]]
    out = per_cond.groupby(["method", "context", "split", "steps_ahead"], as_index=False)[
        "MAE"].mean()
    out.insert(0, "source", "published (combined.json)")
    return out
