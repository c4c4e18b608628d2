"""Kato 2015 ``WT_NoStim`` as re-exported to npz traces + csv names/labels.

Layout (see ``shared/data/real/kato2015_wt_nostim/PROVENANCE.md``)::

    traces_nc-mcm/raw_full_data_worm_{1..5}.npz        arr_0: (T, N) deltaFOverF_bc
    labels_nc-mcm-visualizer/worm_{0..4}_neurons.csv   one line, N names
    labels_nc-mcm-visualizer/worm_{0..4}_y.csv         one line, T integer state codes
    labels_nc-mcm-visualizer/worm_{0..4}_states.csv    one line, the 8 state names

No time vector is exported: recordings are 1080 s long, so time = arange(T) · 1080 / T.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np

from neurodyn.data.celegans.dataset_facts import KATO_STATES
from neurodyn.errors import InputError
from neurodyn.io.calcium import WormRecord

RECORDING_S = 1080.0


def read_kato_export(root: str | Path) -> tuple[list[WormRecord], tuple[str, ...]]:
    """Read every worm of the export under ``root``; return records and the state names."""
    root = Path(root)
    trace_files = sorted((root / "traces_nc-mcm").glob("raw_full_data_worm_*.npz"),
                         key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    if not trace_files:
        raise InputError(root / "traces_nc-mcm", "raw_full_data_worm_*.npz", "no trace files")
    records, states = [], None
    for trace_file in trace_files:
        k = int(trace_file.stem.rsplit("_", 1)[1]) - 1  # label files count from 0
        labels = root / "labels_nc-mcm-visualizer"
        traces = _load_npz_array(trace_file)
        names = _one_csv_row(labels / f"worm_{k}_neurons.csv")
        worm_states = tuple(_one_csv_row(labels / f"worm_{k}_states.csv"))
        if states is None:
            states = worm_states
        if worm_states != states:
            raise InputError(labels / f"worm_{k}_states.csv", "states",
                             f"{worm_states} differs from {states}")
        y_file = labels / f"worm_{k}_y.csv"
        codes = _int_row(y_file)
        if codes.size != traces.shape[0]:
            raise InputError(y_file, "labels", f"{codes.size} labels for {traces.shape[0]} "
                             f"frames in {trace_file.name}")
        t = traces.shape[0]
        records.append(WormRecord(
            traces=traces, ids=names, time_s=np.arange(t) * RECORDING_S / t,
            source_file=str(trace_file), worm_id=f"worm{k + 1}", behavior=codes,
        ))
    return records, states or KATO_STATES


def _load_npz_array(path: Path) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as z:
            if "arr_0" not in z.files:
                raise InputError(path, "arr_0", f"missing; found {z.files}")
            arr = np.asarray(z["arr_0"], dtype=np.float64)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(path, "(file)", f"corrupt or truncated npz ({exc})") from exc
    if arr.ndim != 2:
        raise InputError(path, "arr_0", f"expected a T×N matrix, got shape {arr.shape}")
    return arr


def _one_csv_row(path: Path) -> list[str]:
    if not path.exists():
        raise InputError(path, "(file)", "file does not exist")
    with path.open(newline="") as fh:
        row = next(csv.reader(fh), None)
    if not row:
        raise InputError(path, "(row 1)", "empty file")
    return [c.strip() for c in row]


def _int_row(path: Path) -> np.ndarray:
    values = _one_csv_row(path)
    try:
        return np.array([int(v) for v in values], dtype=np.int16)
    except ValueError as exc:
        raise InputError(path, "labels", f"non-integer label ({exc})") from exc
