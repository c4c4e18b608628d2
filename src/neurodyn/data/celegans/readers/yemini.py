"""Yemini et al. 2021 (NeuroPAL) activity files, MATLAB v5 read with ``scipy.io.loadmat``.

Files ``Head_Activity_OH15500.mat``, ``Head_Activity_OH16230.mat``, ``Tail_Activity_OH16230.mat``
hold ``fps``, ``files`` (one entry per worm), ``neurons`` (C neuron classes), ``is_L`` and
``norm_traces`` (one cell per class, with one entry per worm, or two: first half left, second
half right). An entry's ``is_L`` value names its side (1 → class+"L", 0 → class+"R"); NaN
means non-bilateral (class alone) for single entries and falls back to the half for pairs.
Empty traces were not recorded: the column is dropped. Time = arange(T) / fps.

NaNs: all-NaN columns are dropped; the remaining gaps are imputed with scikit-learn's
``IterativeImputer(random_state=0, n_nearest_features=10)`` (as the later pipeline; the
paper-era default of all features took ~80 s per 1000×180 worm; the later pipeline's dropping
of the first 4 frames is not done here).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer

from neurodyn.errors import InputError
from neurodyn.io.calcium import WormRecord

YEMINI_FILES = ("Head_Activity_OH15500.mat", "Head_Activity_OH16230.mat",
                "Tail_Activity_OH16230.mat")
REQUIRED = ("fps", "files", "neurons", "is_L", "norm_traces")


def impute_nan(traces: np.ndarray, ids: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """Drop all-NaN columns, then fill NaN gaps with ``IterativeImputer(random_state=0)``."""
    keep = ~np.all(np.isnan(traces), axis=0)
    traces, ids = traces[:, keep], [i for i, k in zip(ids, keep, strict=True) if k]
    if np.isnan(traces).any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            traces = IterativeImputer(random_state=0, n_nearest_features=10).fit_transform(traces)
    return traces, ids


def read_yemini(path: str | Path) -> list[WormRecord]:
    """Read every worm of one Yemini 2021 activity file."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "(file)", "file does not exist")
    try:
        raw = scipy.io.loadmat(path)
    except Exception as exc:  # scipy raises ValueError/TypeError/MatReadError/NotImplementedError
        raise InputError(path, "(file)", f"not a readable MATLAB v5 file ({exc})") from exc
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise InputError(path, missing[0], f"missing field (found {sorted(raw)})")
    fps = float(np.asarray(raw["fps"], dtype=float).ravel()[0])
    files = [_text(v) for v in _cells(raw["files"])]
    classes = [_text(v) for v in _cells(raw["neurons"])]
    is_left = [np.asarray(v, dtype=float).ravel() for v in _cells(raw["is_L"])]
    traces = [_cells(v) for v in _cells(raw["norm_traces"])]
    if not len(classes) == len(is_left) == len(traces):
        raise InputError(path, "neurons", f"{len(classes)} classes, {len(is_left)} is_L and "
                         f"{len(traces)} norm_traces entries")
    columns: list[list[tuple[str, np.ndarray]]] = [[] for _ in files]
    for i, (cls, sides, cell) in enumerate(zip(classes, is_left, traces, strict=True)):
        n = len(files)
        if len(sides) not in (n, 2 * n) or len(cell) != len(sides):
            raise InputError(path, f"is_L{{{i + 1}}}", f"{cls}: {len(sides)} is_L and {len(cell)}"
                             f" norm_traces entries for {n} files (expected {n} or {2 * n})")
        for k, (side, trace) in enumerate(zip(sides, cell, strict=True)):
            act = np.asarray(trace, dtype=float).ravel()
            if act.size:
                columns[k % n].append((_name(cls, side, k, n, len(sides)), act))
    records = []
    for w, (worm_file, cols) in enumerate(zip(files, columns, strict=True)):
        if not cols:
            continue
        lengths = {a.size for _, a in cols}
        if len(lengths) != 1:
            raise InputError(path, "norm_traces", f"worm {w + 1} ({worm_file}): traces have "
                             f"different lengths {sorted(lengths)}")
        matrix, ids = impute_nan(np.stack([a for _, a in cols], axis=1), [c for c, _ in cols])
        t = matrix.shape[0]
        records.append(WormRecord(traces=matrix, ids=ids, time_s=np.arange(t) / fps,
                                  source_file=str(path), worm_id=f"{path.stem}_worm{w + 1}",
                                  extra={"file": worm_file}))
    return records


def _name(cls: str, side: float, k: int, n: int, n_entries: int) -> str:
    if np.isnan(side):
        if n_entries == n:
            return cls
        return cls + ("L" if k < n else "R")
    return cls + ("L" if side == 1 else "R")


def _cells(value: Any) -> list[Any]:
    arr = np.asarray(value)
    if arr.dtype == object:
        return list(arr.ravel(order="F"))
    return list(arr.ravel()) if arr.dtype.kind == "U" else [arr]  # char matrix: one per row


def _text(value: Any) -> str:
    arr = np.asarray(value)
    if arr.dtype == object:
        return _text(arr.ravel()[0]) if arr.size else ""
    return str(arr.ravel()[0]).strip() if arr.size else ""
