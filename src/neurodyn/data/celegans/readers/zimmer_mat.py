"""Zimmer-lab MATLAB v7.3 (HDF5) files, read with h5py (never mat73, never scipy).

One top-level struct per file (key = file stem; Kaplan2020: ``Neuron2019_Data_X`` →
``X_Neuron2019``) whose fields are cells with one entry per worm:

=============  ===============================================================
role           field names tried, in order
=============  ===============================================================
neuron IDs     ``IDs`` | ``NeuronNames`` | ``neuron_ID``
traces (T×N)   ``traces`` | ``deltaFOverF_bc`` | ``traces_bleach_corrected``
time (s)       ``timeVectorSeconds`` | ``tv`` | ``time_vector``
behaviour      ``States`` (Kato, 8 binary vectors) or ``FourStates`` (Nichols)
=============  ===============================================================

MATLAB v7.3 layout handled by the generic helpers below: cells are datasets of object
references into ``#refs#``; char arrays are uint16 code units; structs are groups; empty
values carry ``MATLAB_empty``; every array is stored transposed (column-major), so a MATLAB
T×N matrix reads as N×T and is turned back (orientation checked against the time vector).
Ambiguous IDs are nested cells: the first non-empty candidate is taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from neurodyn.data.celegans.dataset_facts import KATO_STATES, NICHOLS_STATES
from neurodyn.errors import InputError
from neurodyn.io.calcium import WormRecord
from neurodyn.io.hdf5 import open_h5

ID_FIELDS = ("IDs", "NeuronNames", "neuron_ID")
TRACE_FIELDS = ("traces", "deltaFOverF_bc", "traces_bleach_corrected")
TIME_FIELDS = ("timeVectorSeconds", "tv", "time_vector")


# --- generic h5py / MATLAB v7.3 helpers -------------------------------------------------


def h5_array(f: h5py.File, name: str) -> np.ndarray:
    """Read dataset ``name`` as stored (no transposition); errors name file and field."""
    if name not in f:
        raise InputError(f.filename, name, "missing field")
    try:
        return np.asarray(f[name][()])
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f.filename, name, f"unreadable, corrupt or truncated ({exc})") from exc


def _matlab_class(node: h5py.HLObject) -> str:
    cls = node.attrs.get("MATLAB_class", b"")
    return cls.decode() if isinstance(cls, bytes) else str(cls)


def mat_value(f: h5py.File, node: h5py.HLObject, where: str) -> Any:
    """Convert a v7.3 node: struct → dict, cell → object array, char → str, else ndarray.

    Arrays are returned in MATLAB orientation (the stored array transposed).
    """
    try:
        if isinstance(node, h5py.Group):
            return {k: mat_value(f, node[k], f"{where}.{k}") for k in node if not k.startswith("#")}
        cls = _matlab_class(node)
        if int(np.asarray(node.attrs.get("MATLAB_empty", 0)).ravel()[0]):
            return "" if cls == "char" else np.empty((0, 0), object if cls == "cell" else float)
        data = node[()]
        if h5py.check_dtype(ref=node.dtype) is not None:
            cells = np.empty(data.shape, dtype=object)
            for k, ref in enumerate(data.flat):  # stored C order = MATLAB linear order
                cells.flat[k] = mat_value(f, f[ref], f"{where}{{{k + 1}}}") if ref else None
            return cells.T
        if cls == "char":
            rows = np.atleast_2d(np.asarray(data, dtype=np.uint32).T)
            text = ["".join(map(chr, row)).rstrip("\x00 ") for row in rows]
            return text[0] if len(text) == 1 else text
        return np.asarray(data).T
    except InputError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f.filename, where, f"unreadable, corrupt or truncated ({exc})") from exc


def mat_cells(value: Any) -> list[Any]:
    """Elements of a MATLAB cell (or struct-array field) in MATLAB linear order."""
    if isinstance(value, np.ndarray) and value.dtype == object:
        return list(value.ravel(order="F"))
    return [value]


def first_name(value: Any) -> str | None:
    """A neuron ID from a cell entry: text, the first non-empty candidate, or a number."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        return next((n for n in map(first_name, value) if n), None)
    arr = np.asarray(value)
    if arr.dtype == object:
        return next((n for n in map(first_name, arr.ravel(order="F")) if n), None)
    if arr.size == 1 and np.issubdtype(arr.dtype, np.number) and np.isfinite(arr).all():
        v = float(arr.ravel()[0])
        return str(int(v)) if v.is_integer() else str(v)
    return None


def orient_tn(arr: np.ndarray, n_time: int, path: str | Path, field: str) -> np.ndarray:
    """Return ``arr`` as T×N, transposing when its second axis matches the time length."""
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(path, field, f"expected a T×N matrix, got shape {arr.shape}")
    if arr.shape[0] == n_time:
        return arr
    if arr.shape[1] == n_time:
        return arr.T
    raise InputError(path, field, f"shape {arr.shape} does not match {n_time} time points")


# --- Zimmer-family reader ---------------------------------------------------------------

def struct_key(path: Path, f: h5py.File) -> str:
    """The top-level struct: file stem, the Kaplan2020 key, or the only top-level group."""
    stem = path.stem
    candidates = [stem, stem.removeprefix("Neuron2019_Data_") + "_Neuron2019"]
    for key in candidates:
        if key in f and isinstance(f[key], h5py.Group):
            return key
    groups = [k for k in f if not k.startswith("#") and isinstance(f[k], h5py.Group)]
    if len(groups) == 1:
        return groups[0]
    raise InputError(path, stem, f"top-level struct not found; variables: {sorted(f)}")


def _field(f: h5py.File, key: str, names: Sequence[str]) -> tuple[str, h5py.HLObject]:
    group = f[key]
    for name in names:
        if name in group:
            return name, group[name]
    raise InputError(f.filename, f"{key}.{'|'.join(names)}",
                     f"missing field (found {', '.join(sorted(group))})")


def read_zimmer_mat(path: str | Path, states_field: str | None = None) -> list[WormRecord]:
    """Read every worm of one Zimmer-lab v7.3 file.

    ``states_field``: ``"States"`` (Kato 8-state struct → codes into :data:`KATO_STATES`;
    frames with no active field → ``nostate``) or ``"FourStates"`` (Nichols codes into
    :data:`NICHOLS_STATES`); worms without the field get ``behavior=None``.
    """
    path = Path(path)
    with open_h5(path, "HDF5 / MATLAB v7.3") as f:
        key = struct_key(path, f)
        per_field: dict[str, tuple[str, list[Any]]] = {}
        for role, names in (("ids", ID_FIELDS), ("traces", TRACE_FIELDS), ("time", TIME_FIELDS)):
            name, node = _field(f, key, names)
            per_field[role] = (name, mat_cells(mat_value(f, node, f"{key}.{name}")))
        behaviour: list[Any] | None = None
        if states_field and states_field in f[key]:
            behaviour = mat_cells(mat_value(f, f[key][states_field], f"{key}.{states_field}"))
    counts = {role: len(cells) for role, (_, cells) in per_field.items()}
    if behaviour is not None:
        counts["behaviour"] = len(behaviour)
    if len(set(counts.values())) != 1:
        raise InputError(path, key, f"fields hold different numbers of worms: {counts}")
    records = []
    for w in range(counts["ids"]):
        fields = {role: (name, cells[w]) for role, (name, cells) in per_field.items()}
        time_s = np.asarray(fields["time"][1], dtype=np.float64).ravel()
        tfield = f"{key}.{fields['traces'][0]}{{{w + 1}}}"
        traces = orient_tn(fields["traces"][1], time_s.size, path, tfield)
        ids = [first_name(v) for v in mat_cells(fields["ids"][1])]
        codes = None
        if behaviour is not None and states_field is not None:
            where = f"{key}.{states_field}{{{w + 1}}}"
            codes = _state_codes(behaviour[w], states_field, time_s.size, path, where)
        records.append(WormRecord(traces=traces, ids=ids, time_s=time_s, source_file=str(path),
                                  worm_id=f"{path.stem}_worm{w + 1}", behavior=codes))
    return records


def _state_codes(value: Any, kind: str, n_time: int, path: Path, where: str) -> np.ndarray:
    if kind == "FourStates" and isinstance(value, np.ndarray) and value.dtype != object:
        value = {"codes": value}  # tolerate a bare code vector instead of a 1-field struct
    if not isinstance(value, dict):
        raise InputError(path, where, "expected a struct")
    if kind == "States":
        missing = [s for s in KATO_STATES if s not in value]
        if missing:
            raise InputError(path, where, f"missing state fields {missing}")
        vectors = [_vector(value[s], n_time, path, f"{where}.{s}") for s in KATO_STATES]
        active = np.stack(vectors) > 0
        return np.where(active.any(axis=0), active.argmax(axis=0),
                        KATO_STATES.index("nostate")).astype(np.int16)
    if len(value) != 1:
        raise InputError(path, where, f"expected one field, found {sorted(value)}")
    (name, vec), = value.items()
    codes = _vector(vec, n_time, path, f"{where}.{name}")
    bad = ~np.isnan(codes) & ~np.isin(codes, np.arange(len(NICHOLS_STATES)))
    if bad.any():
        raise InputError(path, f"{where}.{name}", f"codes outside 0..{len(NICHOLS_STATES) - 1}")
    return np.where(np.isnan(codes), -1, codes).astype(np.int16)


def _vector(value: Any, n_time: int, path: Path, where: str) -> np.ndarray:
    vec = np.asarray(value, dtype=np.float64).ravel()
    if vec.size != n_time:
        raise InputError(path, where, f"{vec.size} labels for {n_time} time points")
    return vec
