"""Node features and labels for Wang 2021 from the processed calcium files.

Per worm and neuron, from Wang's own product (:mod:`neurodyn.wang2021.prepare`, native frame
rate): the trace (``activity_unit``, already [0, 1] per worm) and its time derivative
(``derivative``, scaled here to [0, 1] over the worm's whole recording). Neurons
not identified in a worm (e.g. VB1 in real Kato worm 5) are **masked nodes**: features 0,
node mask False; models drop their edges and embeddings, accuracy is unaffected.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from neurodyn.data.celegans.names import neurons_302, strip_zero_padding
from neurodyn.errors import InputError
from neurodyn.wang2021 import states as st

FEATURES = ("activity_unit", "derivative")


@dataclass
class Worms:
    """Worms of one dataset restricted to the task's neurons."""

    x: np.ndarray  # (W, T, N, F) float32, 0 where masked or padded
    node_mask: np.ndarray  # (W, N) bool
    n_steps: np.ndarray  # (W,) valid samples (valid samples come first)
    labels: np.ndarray  # (W, T) class index or -1 (ignored / padded / no task)
    neurons: tuple[str, ...]
    worm_ids: tuple[str, ...]
    synthetic: bool
    path: str

    def subset(self, idx: Sequence[int]) -> Worms:
        idx = list(idx)
        return Worms(self.x[idx], self.node_mask[idx], self.n_steps[idx], self.labels[idx],
                     self.neurons, tuple(self.worm_ids[i] for i in idx), self.synthetic,
                     self.path)

    def masked_nodes(self) -> dict[str, list[str]]:
        """Neurons missing per worm (only worms with any)."""
        return {w: [n for n, m in zip(self.neurons, mask, strict=True) if not m]
                for w, mask in zip(self.worm_ids, self.node_mask, strict=True) if not mask.all()}


def canonical_neurons(names: Sequence[str], where: str) -> tuple[str, ...]:
    """Canonical spelling (VB01 -> VB1); unknown names are an error naming ``where``."""
    known = set(neurons_302())
    out = tuple(strip_zero_padding(str(n)) for n in names)
    bad = [n for n, c in zip(names, out, strict=True) if c not in known]
    if bad:
        raise InputError(where, "neurons", f"unknown neuron names {bad}")
    if len(set(out)) != len(out):
        raise InputError(where, "neurons", f"duplicate neuron names in {list(names)}")
    return out


def _unit_scale(a: np.ndarray, n_steps: np.ndarray) -> np.ndarray:
    """Scale (W, T, N) to [0, 1] per worm and neuron over valid samples."""
    out = np.zeros_like(a, dtype=np.float32)
    for w, n in enumerate(n_steps):
        seg = a[w, :n]
        with warnings.catch_warnings():  # all-NaN columns: neurons missing in this worm
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, hi = np.nanmin(seg, axis=0), np.nanmax(seg, axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        out[w, :n] = np.nan_to_num((seg - lo) / span)
    return out


def load_worms(ds: xr.Dataset, path: str | Path, neurons: Sequence[str],
               n_states: int | None, max_worms: int | None = None) -> Worms:
    """Features, node mask and task labels of ``ds`` (a processed calcium dataset)."""
    path = str(path)
    neurons = canonical_neurons(neurons, path)
    for var in (*FEATURES, "labeled", "n_timesteps"):
        if var not in ds:
            raise InputError(path, var, "missing (is this a processed calcium file?)")
    if max_worms is not None:
        ds = ds.isel(worm=slice(0, max_worms))
    sub = ds.sel(neuron=list(neurons))
    n_steps = sub["n_timesteps"].values.astype(np.int64)
    mask = sub["labeled"].values.astype(bool)
    feats = []
    for var in FEATURES:
        vals = sub[var].transpose("worm", "time", "neuron").values.astype(np.float64)
        feats.append(vals if var == "activity_unit" else _unit_scale(vals, n_steps))
    x = np.nan_to_num(np.stack(feats, axis=-1)).astype(np.float32)
    x *= mask[:, None, :, None]
    labels = np.full(x.shape[:2], -1, np.int64)
    if n_states is not None:
        if "behavior" not in ds:
            raise InputError(path, "behavior", "no behaviour labels for a classification task")
        codes = ds["behavior"].values.astype(np.int64)
        n_codes = ds.sizes["state"]
        if codes.max() >= n_codes or codes.min() < -1:
            raise InputError(path, "behavior", f"codes outside [-1, {n_codes - 1}]")
        try:
            table = st.code_map(ds["state"].values, n_states)
        except ValueError as exc:
            raise InputError(path, "state", str(exc)) from exc
        labels = table[codes]  # -1 indexes the last entry (= -1)
        for w, n in enumerate(n_steps):
            labels[w, n:] = -1
    return Worms(x, mask, n_steps, labels, neurons,
                 tuple(str(v) for v in ds["worm"].values),
                 str(ds.attrs.get("synthetic", "false")) == "true", path)
