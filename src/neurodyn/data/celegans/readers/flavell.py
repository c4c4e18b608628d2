"""Flavell-lab recordings: Atanas et al. 2023 (``Flavell2023``) and Dag et al. 2023 (``Dag2023``).

Flavell2023, one file per worm:

* JSON: ``timestamp_confocal`` (T s), ``trace_array`` (list of N traces of length T),
  ``labeled`` (1-based trace index as a string → ``{"label": ...}``);
* H5: ``timestamp_confocal``, ``trace_array`` (T×N, orientation checked against time),
  ``neuropal_label`` (N strings, ``"missing"`` = unlabeled).

Dag2023 (``h5/<rec>-data.h5`` + ``neuropal_ids/<rec> Neuron ID.xlsx``): ``gcamp/trace_array``
(T×N z-scored), ``timing/timestamp_confocal`` (cropped to T), ``behavior/reversal_vec``
(1 = reversing → codes into :data:`DAG_STATES`) and ``neuropal_registration/roi_match``
(NeuroPAL ROI r → 1-based trace column, 0 = unmatched). Names come from the last workbook
sheet whose name starts with ``labels`` (columns ``Neuron Class``, ``ROI ID``); trace column
= ``roi_match[ROI_ID - 1] - 1`` when positive. Columns without a name get ID None.

Which trace array: the paper-era worm-graph ``Dag2023Preprocessor`` reads
``gcamp/traces_array_F_F20`` (ΔF/F20) and z-scores every neuron over the recording. The files
also hold ``trace_array_original`` (F) and ``trace_array`` (z-scored F). F/F20 divides each
neuron by a constant, so the three arrays are per-neuron affine transforms of one another and
the pipeline's per-neuron z-score (the first preprocessing step) maps all three to the same
series: measured on the seven SWF702 recordings, the z-scored arrays agree to 3e-14
(``tests/test_readers_real.py::test_dag_trace_arrays_agree_after_zscore``). The reader reads
``trace_array`` because it is the array the Flavell lab publishes for analysis; the processed
data are those of the paper's choice.

Uncertain IDs: each ``?`` stands for one unknown letter (L/R or D/V); see
:func:`resolve_uncertain`.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from neurodyn.data.celegans.names import neurons_302, strip_zero_padding
from neurodyn.data.celegans.readers.zimmer_mat import h5_array, open_h5, orient_tn
from neurodyn.errors import InputError
from neurodyn.io.calcium import WormRecord


def resolve_uncertain(ids: Sequence[object]) -> list[object]:
    """Replace IDs containing ``?`` by the first free canonical name they match.

    Each ``?`` matches one character (``AVA?`` → AVAL, or AVAR if AVAL is taken; ``SIA?L``
    → SIADL or SIAVL); names without ``?`` are claimed first. When every match is taken the
    ID becomes None (unlabeled); IDs matching no canonical name are returned unchanged (the
    canonicaliser then strips the ``?`` and applies its own rules).
    """
    canonical = neurons_302()
    taken = {strip_zero_padding(str(i).strip().upper()) for i in ids
             if i is not None and "?" not in str(i)}
    out = list(ids)
    for col, raw in enumerate(ids):
        if raw is None or "?" not in str(raw):
            continue
        text = re.escape(str(raw).strip().upper()).replace(r"\?", "[A-Z0-9]")
        matches = [n for n in canonical if re.fullmatch(text, n)]
        if not matches:
            continue
        free = next((n for n in matches if n not in taken), None)
        out[col] = free
        if free:
            taken.add(free)
    return out


# --- Flavell2023 (Atanas et al.) --------------------------------------------------------

def read_flavell(raw_dir: str | Path) -> list[WormRecord]:
    """Read every ``*.h5`` / ``*.json`` worm file directly under ``raw_dir``."""
    raw_dir = Path(raw_dir)
    files = sorted([*raw_dir.glob("*.h5"), *raw_dir.glob("*.json")])
    if not files:
        raise InputError(raw_dir, "*.h5|*.json", "no worm files")
    return [_read_flavell_json(p) if p.suffix == ".json" else _read_flavell_h5(p)
            for p in files]


def _read_flavell_json(path: Path) -> WormRecord:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, "(file)", f"not a readable JSON file ({exc})") from exc
    for key in ("timestamp_confocal", "trace_array", "labeled"):
        if not isinstance(data, dict) or key not in data:
            raise InputError(path, key, "missing field")
    time_s = _float_array(data["timestamp_confocal"], path, "timestamp_confocal").ravel()
    traces = _float_array(data["trace_array"], path, "trace_array")
    if traces.ndim != 2:
        raise InputError(path, "trace_array", "expected a list of N traces of equal length")
    traces = traces.T  # N traces of length T → T×N
    time_s = _crop_time(time_s, traces.shape[0], path, "timestamp_confocal")
    ids: list[object] = [None] * traces.shape[1]
    if not isinstance(data["labeled"], dict):
        raise InputError(path, "labeled", "expected an object {index: {label: ...}}")
    for key, info in data["labeled"].items():
        idx = int(key) if str(key).isdigit() else 0
        if not 1 <= idx <= len(ids) or not isinstance(info, dict) or "label" not in info:
            raise InputError(path, f"labeled[{key}]", f"expected a 1-based trace index ≤ "
                             f"{len(ids)} mapping to {{'label': name}}")
        ids[idx - 1] = info["label"]
    return WormRecord(traces=traces, ids=resolve_uncertain(ids), time_s=time_s,
                      source_file=str(path), worm_id=path.stem)


def _read_flavell_h5(path: Path) -> WormRecord:
    with open_h5(path) as f:
        time_s = h5_array(f, "timestamp_confocal").astype(np.float64).ravel()
        raw = h5_array(f, "trace_array")
        labels = [_decode(v) for v in h5_array(f, "neuropal_label").ravel()]
    traces = orient_tn(raw, time_s.size, path, "trace_array")
    if len(labels) != traces.shape[1]:
        raise InputError(path, "neuropal_label", f"{len(labels)} labels for "
                         f"{traces.shape[1]} traces")
    ids = [None if lb.strip().lower() in ("", "missing") else lb for lb in labels]
    return WormRecord(traces=traces, ids=resolve_uncertain(ids), time_s=time_s,
                      source_file=str(path), worm_id=path.stem)


# --- Dag2023 ----------------------------------------------------------------------------

def read_dag(raw_dir: str | Path) -> list[WormRecord]:
    """Read every ``<rec>-data.h5`` recording with its NeuroPAL ``<rec> Neuron ID.xlsx``."""
    raw_dir = Path(raw_dir)
    h5_dir = raw_dir / "h5" if (raw_dir / "h5").is_dir() else raw_dir
    xlsx_dir = raw_dir / "neuropal_ids" if (raw_dir / "neuropal_ids").is_dir() else raw_dir
    files = sorted(h5_dir.glob("*-data.h5"))
    if not files:
        raise InputError(h5_dir, "<rec>-data.h5", "no recordings")
    return [_read_dag_one(p, xlsx_dir / f"{p.name.removesuffix('-data.h5')} Neuron ID.xlsx")
            for p in files]


def _read_dag_one(path: Path, xlsx: Path) -> WormRecord:
    with open_h5(path) as f:
        traces = h5_array(f, "gcamp/trace_array").astype(np.float64)
        time_s = h5_array(f, "timing/timestamp_confocal").astype(np.float64).ravel()
        reversal = h5_array(f, "behavior/reversal_vec").ravel()
        roi_match = h5_array(f, "neuropal_registration/roi_match").astype(np.int64).ravel()
    if traces.ndim != 2:
        raise InputError(path, "gcamp/trace_array", f"expected T×N, got shape {traces.shape}")
    t, n = traces.shape
    time_s = _crop_time(time_s, t, path, "timing/timestamp_confocal")
    if reversal.size != t:
        raise InputError(path, "behavior/reversal_vec", f"{reversal.size} labels for {t} frames")
    if not np.isin(reversal, (0, 1)).all():
        raise InputError(path, "behavior/reversal_vec", "values other than 0/1")
    ids: list[object] = [None] * n
    for row, name, roi in neuropal_labels(xlsx):
        if not 1 <= roi <= roi_match.size:
            raise InputError(xlsx, f"ROI ID (row {row})", f"ROI {roi} outside 1..{roi_match.size} "
                             f"of {path.name}:neuropal_registration/roi_match")
        col = int(roi_match[roi - 1])
        if col > n:
            raise InputError(path, "neuropal_registration/roi_match",
                             f"ROI {roi} → trace {col} > N = {n}")
        if col > 0 and ids[col - 1] is None:
            ids[col - 1] = name
    return WormRecord(traces=traces, ids=resolve_uncertain(ids), time_s=time_s,
                      source_file=str(path), worm_id=path.name.removesuffix("-data.h5"),
                      behavior=reversal.astype(np.int16), extra={"labels_file": str(xlsx)})


def neuropal_labels(xlsx: Path) -> list[tuple[int, str, int]]:
    """(row, Neuron Class, ROI ID) from the last ``labels*`` sheet; ambiguous ROIs skipped."""
    if not xlsx.exists():
        raise InputError(xlsx, "(file)", "NeuroPAL label workbook does not exist")
    try:
        wb = openpyxl.load_workbook(xlsx, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
        raise InputError(xlsx, "(file)", f"not a readable xlsx workbook ({exc})") from exc
    try:
        sheets = [s for s in wb.sheetnames if s.strip().lower().startswith("labels")]
        if not sheets:
            raise InputError(xlsx, "labels*", f"no sheet named labels*; sheets: {wb.sheetnames}")
        rows = list(wb[sheets[-1]].iter_rows(values_only=True))
    finally:
        wb.close()
    header = [str(c).strip() if c is not None else "" for c in (rows[0] if rows else ())]
    cols = {}
    for name in ("Neuron Class", "ROI ID"):
        if name not in header:
            raise InputError(xlsx, f"{sheets[-1]}!{name}", f"missing column (header: {header})")
        cols[name] = header.index(name)
    out = []
    for row, values in enumerate(rows[1:], start=2):
        name, roi = (values[cols[k]] if cols[k] < len(values) else None for k in cols)
        if name is None or str(name).strip() == "" or roi is None or str(roi).strip() == "":
            continue
        roi_id = _roi_id(roi, xlsx, f"{sheets[-1]}!ROI ID (row {row})")
        if roi_id is not None:
            out.append((row, str(name).strip(), roi_id))
    return out


def _roi_id(value: Any, xlsx: Path, field: str) -> int | None:
    if isinstance(value, str) and "/" in value:
        return None  # "25 / 167": split ROI, ambiguous → unlabeled
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not np.isfinite(number) or not number.is_integer():
        raise InputError(xlsx, field, f"not an integer ROI number: {value!r}")
    return int(number)


def _float_array(value: Any, path: Path, field: str) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(path, field, f"not a numeric array ({exc})") from exc


def _crop_time(time_s: np.ndarray, n_time: int, path: Path, field: str) -> np.ndarray:
    if time_s.size < n_time:
        raise InputError(path, field, f"{time_s.size} time stamps for {n_time} frames")
    return time_s[:n_time]


def _decode(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
