"""Randi et al. 2023 (Leifer lab) text files, several per worm ``i`` = 0, 1, ...

* ``{i}_gcamp.txt``: space-separated floats, T rows × N columns (``nan`` allowed);
* ``{i}_labels.txt``: one label per line, N lines (empty line = unlabeled); extra trailing
  lines are ignored, as in the reference pipeline ("more labels than neurons" happens);
* ``{i}_t.txt``: T times in seconds (scientific notation).

All-NaN columns are dropped; remaining NaNs are imputed with ``IterativeImputer(random_state=0,
n_nearest_features=10)`` (see :mod:`.yemini`).
Worms with fewer than :data:`MIN_SAMPLES` samples are skipped (paper era). Labels are
canonicalised later with L/R completion; unknown names are unlabeled for this dataset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurodyn.data.celegans.readers.yemini import impute_nan
from neurodyn.errors import InputError
from neurodyn.io.calcium import WormRecord

MIN_SAMPLES = 700


def read_leifer(raw_dir: str | Path, min_samples: int = MIN_SAMPLES) -> list[WormRecord]:
    """Read every ``{i}_gcamp.txt`` worm under ``raw_dir`` (sorted by ``i``)."""
    raw_dir = Path(raw_dir)
    gcamp = sorted(raw_dir.glob("*_gcamp.txt"), key=_index)
    if not gcamp:
        raise InputError(raw_dir, "{i}_gcamp.txt", "no trace files")
    records = []
    for trace_file in gcamp:
        i = _index(trace_file)
        traces = _matrix(trace_file)
        t, n = traces.shape
        time_s = _times(raw_dir / f"{i}_t.txt", t)
        labels = _labels(raw_dir / f"{i}_labels.txt", n)
        if t < min_samples:
            continue
        traces, labels = impute_nan(traces, labels)
        if traces.shape[1]:
            records.append(WormRecord(traces=traces, ids=labels, time_s=time_s,
                                      source_file=str(trace_file), worm_id=f"worm{i}"))
    return records


def _index(path: Path) -> int:
    prefix = path.name.removesuffix("_gcamp.txt")
    if not prefix.isdigit():
        raise InputError(path, "(file name)", "expected {i}_gcamp.txt with an integer i")
    return int(prefix)


def _matrix(path: Path) -> np.ndarray:
    try:
        arr = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise InputError(path, "traces", f"not a T×N table of numbers ({exc})") from exc
    if arr.size == 0:
        raise InputError(path, "traces", "empty file")
    return arr


def _times(path: Path, n_time: int) -> np.ndarray:
    if not path.exists():
        raise InputError(path, "(file)", "time file does not exist")
    try:
        time_s = np.loadtxt(path, dtype=np.float64, ndmin=1).ravel()
    except ValueError as exc:
        raise InputError(path, "time", f"not a list of numbers ({exc})") from exc
    if time_s.size != n_time:
        raise InputError(path, "time", f"{time_s.size} times for {n_time} trace rows")
    return time_s


def _labels(path: Path, n_cols: int) -> list[str | None]:
    if not path.exists():
        raise InputError(path, "(file)", "label file does not exist")
    lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines()]
    if len(lines) < n_cols:
        raise InputError(path, "labels", f"{len(lines)} labels for {n_cols} trace columns")
    return [ln or None for ln in lines[:n_cols]]
