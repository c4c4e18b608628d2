"""Writers for small fixtures in the real raw formats (imported by the reader tests).

``write_mat73`` writes MATLAB v7.3 files the way MATLAB does: a 512-byte user block with the
MAT header, structs as groups, cells as datasets of object references into ``#refs#``, char
arrays as uint16, empties with ``MATLAB_empty``, every array stored transposed (column-major),
and ``MATLAB_class`` attributes. Python values map as: dict → struct, list → 1×n cell,
str → char row, None → [], ndarray/number → double (given in MATLAB shape).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import openpyxl
import scipy.io

MAT73_HEADER = ("MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 "
                "HDF5 schema 1.00 .")


def write_mat73(path: Path, variables: dict[str, Any]) -> Path:
    """Write ``variables`` as a MATLAB v7.3 file."""
    with h5py.File(path, "w", userblock_size=512) as f:
        refs = f.create_group("#refs#")
        counter = itertools.count()
        for name, value in variables.items():
            _write(f, name, value, refs, counter)
    with open(path, "r+b") as fh:
        fh.write(MAT73_HEADER.ljust(116).encode() + bytes(8) + b"\x00\x02" + b"IM")
    return path


def _cls(obj: h5py.HLObject, name: str) -> None:
    obj.attrs["MATLAB_class"] = np.bytes_(name)


def _write(parent: h5py.Group, name: str, value: Any, refs: h5py.Group,
           counter: itertools.count) -> h5py.HLObject:
    if isinstance(value, dict):
        g = parent.create_group(name)
        _cls(g, "struct")
        fields = np.empty(len(value), dtype=object)
        fields[:] = [np.frombuffer(k.encode(), dtype="S1") for k in value]
        g.attrs.create("MATLAB_fields", fields, dtype=h5py.vlen_dtype(np.dtype("S1")))
        for key, item in value.items():
            _write(g, key, item, refs, counter)
        return g
    if isinstance(value, list):
        if not value:
            return _empty(parent, name, "cell")
        items = [_write(refs, f"r{next(counter)}", v, refs, counter) for v in value]
        data = np.array([obj.ref for obj in items], dtype=h5py.ref_dtype).reshape(len(items), 1)
        ds = parent.create_dataset(name, data=data)  # MATLAB 1×n → stored n×1
        _cls(ds, "cell")
        return ds
    if isinstance(value, str):
        if not value:
            return _empty(parent, name, "char")
        codes = np.array([ord(c) for c in value], dtype=np.uint16).reshape(len(value), 1)
        ds = parent.create_dataset(name, data=codes)
        _cls(ds, "char")
        ds.attrs["MATLAB_int_decode"] = np.int32(2)
        return ds
    if value is None:
        return _empty(parent, name, "double")
    arr = np.atleast_2d(np.asarray(value))
    if arr.dtype == bool:
        ds = parent.create_dataset(name, data=arr.T.astype(np.uint8))
        _cls(ds, "logical")
        return ds
    ds = parent.create_dataset(name, data=arr.astype(np.float64).T)
    _cls(ds, "double")
    return ds


def _empty(parent: h5py.Group, name: str, cls: str) -> h5py.Dataset:
    ds = parent.create_dataset(name, data=np.zeros(2, dtype=np.uint64))
    _cls(ds, cls)
    ds.attrs["MATLAB_empty"] = np.uint8(1)
    return ds


def traces(t: int, n: int, seed: int = 0) -> np.ndarray:
    """A smooth-ish T×N activity matrix."""
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(0, 0.1, (t, n)), axis=0) + np.arange(n)


def kato_states(codes: np.ndarray, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Kato ``States`` struct (8 binary 1×T vectors) from codes; code -1 = no field active."""
    return {s: (codes == i).astype(float)[None, :] for i, s in enumerate(names)}


def write_yemini(path: Path, fps: float, files: list[str], neurons: list[str],
                 is_l: list[list[float]], norm_traces: list[list[np.ndarray]]) -> Path:
    """Write a Yemini 2021 activity file (MATLAB v5) with cells as object arrays."""
    def cell(items: list[Any]) -> np.ndarray:
        out = np.empty((1, len(items)), dtype=object)
        for i, item in enumerate(items):
            out[0, i] = item
        return out

    scipy.io.savemat(path, {
        "fps": np.array([[fps]]),
        "files": cell(files),
        "neurons": cell(neurons),
        "is_L": cell([np.array(v, dtype=float)[:, None] for v in is_l]),
        "norm_traces": cell([cell([np.asarray(tr, float)[None, :] if np.size(tr) else
                                   np.zeros((0, 0)) for tr in per]) for per in norm_traces]),
    })
    return path


def write_flavell_json(path: Path, trace_array: np.ndarray, time_s: np.ndarray,
                       labels: dict[int, str]) -> Path:
    """Atanas-style JSON: traces as a list of N lists; labels keyed by 1-based index."""
    path.write_text(json.dumps({
        "timestamp_confocal": time_s.tolist(),
        "trace_array": trace_array.T.tolist(),
        "labeled": {str(k): {"label": v, "region": "head"} for k, v in labels.items()},
    }))
    return path


def write_flavell_h5(path: Path, trace_array: np.ndarray, time_s: np.ndarray,
                     labels: list[str], transpose: bool = False) -> Path:
    """Atanas-style H5 with ``neuropal_label`` strings (``missing`` = unlabeled)."""
    with h5py.File(path, "w") as f:
        f["timestamp_confocal"] = time_s
        f["trace_array"] = trace_array.T if transpose else trace_array
        f.create_dataset("neuropal_label", data=labels, dtype=h5py.string_dtype())
    return path


def write_dag_h5(path: Path, trace_array: np.ndarray, time_s: np.ndarray,
                 reversal: np.ndarray, roi_match: np.ndarray,
                 skip: tuple[str, ...] = ()) -> Path:
    """Dag 2023 ``<rec>-data.h5`` (datasets named in ``skip`` are left out)."""
    data = {
        "gcamp/trace_array": trace_array,
        "gcamp/traces_array_F_F20": trace_array + 1.0,
        "timing/timestamp_confocal": time_s,
        "behavior/reversal_vec": reversal.astype(np.int64),
        "behavior/velocity": np.where(reversal > 0, -0.1, 0.1),
        "neuropal_registration/roi_match": roi_match.astype(np.int64),
        "neuropal_registration/roi_match_confidence": np.ones(roi_match.size),
    }
    with h5py.File(path, "w") as f:
        for key, value in data.items():
            if key not in skip:
                f[key] = value
    return path


def write_neuropal_xlsx(path: Path, sheets: dict[str, list[tuple[Any, Any]]],
                        header: tuple[str, ...] = ("Neuron Class", "Coordinates ", "ROI ID",
                                                   "Confidence", "Notes")) -> Path:
    """NeuroPAL workbook: each sheet gets ``header`` then rows (Neuron Class, ROI ID)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        ws.append(list(header))
        for name, roi in rows:
            row: dict[str, Any] = {"Neuron Class": name, "Coordinates ": "1, 2, 3",
                                   "ROI ID": roi, "Confidence": 4.0}
            ws.append([row.get(h) for h in header])
    wb.save(path)
    return path


def write_leifer(raw_dir: Path, i: int, trace_array: np.ndarray, labels: list[str],
                 time_s: np.ndarray) -> None:
    """Leifer 2023 ``{i}_gcamp.txt`` / ``{i}_labels.txt`` / ``{i}_t.txt``."""
    rows = [" ".join("nan" if np.isnan(v) else repr(float(v)) for v in row)
            for row in trace_array]
    (raw_dir / f"{i}_gcamp.txt").write_text("\n".join(rows) + "\n")
    (raw_dir / f"{i}_labels.txt").write_text("\n".join(labels) + "\n")
    (raw_dir / f"{i}_t.txt").write_text("\n".join(f"{t:.6e}" for t in time_s) + "\n")
