"""AutoLFADS datasets in NLB layout: the synthetic maze-like reaching stand-in (offline
default) with held-out neurons and a forward-prediction window, and the split of a
``neurodyn-spikes/1`` file into the arrays LFADS trains on and the arrays NLB scores."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurodyn.errors import InputError
from neurodyn.eval.nlb import LAG_MS, PSTH_SD_MS, lag_bins
from neurodyn.io.spikes import split_arrays

LFADS_TRAIN, LFADS_VALID, NLB_EVAL = "train", "valid", "test"


def synthetic_reaching(cfg: Mapping[str, Any], seed: int) -> xr.Dataset:
    """The reaching stand-in with ``n_heldout`` held-out neurons, the last ``n_forward_bins``
    bins as the forward-prediction window and ``n_context_bins`` bins recorded before the
    observed window (config ``autolfads.synthetic``): the context is only smoothed into the
    PSTHs and the smoothing baseline (NLB smooths the continuous recording), never modelled."""
    from neurodyn.data.spikes.reaching import ReachingSpec, make_reaching_dataset

    extra = ("n_forward_bins", "n_context_bins")
    spec_keys = {k: v for k, v in cfg.items() if k not in extra}
    n_ctx = int(cfg.get("n_context_bins", 0))
    spec = ReachingSpec(**spec_keys)
    spec_keys["window_s"] = (spec.window_s[0] - n_ctx * spec.bin_width_s, spec.window_s[1])
    ds = make_reaching_dataset(ReachingSpec(**spec_keys), seed=seed,
                               attrs={"study": "autolfads"})
    ds.attrs["n_forward_bins"] = int(cfg["n_forward_bins"])
    ds.attrs["n_context_bins"] = n_ctx
    return ds


def _drop_context(arrays: dict[str, np.ndarray], n_ctx: int) -> np.ndarray:
    """Remove the first ``n_ctx`` bins from every time-resolved array (in place); return
    the spikes of those bins (``recon_data`` neuron order)."""
    context = arrays["recon_data"][:, :n_ctx].copy()
    for key in ("recon_data", "encod_data", "sv_mask", "truth", "behavior", "inputs"):
        if key in arrays:
            arrays[key] = arrays[key][:, n_ctx:].copy()
    return context


def nlb_val_phase(ds: xr.Dataset, valid_fraction: float, seed: int) -> xr.Dataset:
    """NLB's "val" phase for a real NLB file: the NLB ``val`` trials (read as ``valid``)
    become our evaluation trials (``test``), a seeded ``valid_fraction`` of the NLB ``train``
    trials becomes LFADS validation, and NLB ``test`` trials (targets hidden) are dropped."""
    split = ds["split"].values.astype(str)
    keep = np.flatnonzero(split != "test")
    ds = ds.isel(trial=keep)
    split = split[keep]
    new = np.where(split == "valid", "test", "train").astype(object)
    train = np.flatnonzero(split == "train")
    rng = np.random.default_rng([int(seed), 0xA1F])
    n_valid = int(round(valid_fraction * train.size))
    new[rng.choice(train, n_valid, replace=False)] = "valid"
    out = ds.copy()
    out["split"] = ("trial", new.astype(str))
    out.attrs["split_note"] = ("NLB val phase: NLB val trials = evaluation (test); "
                               f"{valid_fraction:g} of NLB train trials = LFADS validation")
    return out


def real_nlb_dataset(ds: xr.Dataset, path: str | Path, cfg: Mapping[str, Any],
                     seed: int) -> xr.Dataset:
    """A converted NLB file (``results/data/nlb/<name>_<bin>ms.nc``, the shared NWB conversion)
    in AutoLFADS's layout: NLB's "val" phase (config ``autolfads.real``)."""
    for var in ("split", "heldout"):
        if var not in ds:
            raise InputError(path, var, "not a converted NLB file (no NLB trial splits or "
                             "held-out neurons)")
    out = nlb_val_phase(ds, float(cfg["valid_fraction"]), seed)
    out.attrs["study"] = "autolfads"
    return out


@dataclass(frozen=True)
class NLBSplit:
    """LFADS training arrays (NLB train trials) and NLB evaluation arrays of one dataset."""

    train: dict[str, np.ndarray]  # LFADS fits these trials
    valid: dict[str, np.ndarray]  # LFADS validation (PBT selection metric)
    test: dict[str, np.ndarray]  # NLB evaluation trials
    n_heldin: int
    n_obs: int
    bin_ms: float
    lag_ms: float
    psth_sd_ms: float
    dataset: str
    synthetic: bool
    t_start_ms: float = 0.0
    align: str = ""
    # spikes recorded before the observed window, per trial part (train/valid/test), smoothed
    # into PSTHs and the smoothing baseline only; absent parts: no context stored
    context: dict[str, np.ndarray] = field(default_factory=dict)

    def recording(self, part: str) -> np.ndarray:
        """Stored spikes of a trial part: context (if any), observed and forward window."""
        arrays = getattr(self, part)["recon_data"]
        ctx = self.context.get(part)
        return arrays if ctx is None else np.concatenate([ctx, arrays], axis=1)

    def n_context(self, part: str) -> int:
        ctx = self.context.get(part)
        return 0 if ctx is None else int(ctx.shape[1])

    @property
    def elements_per_trial(self) -> int:
        rec = self.train["recon_data"]
        return int(rec.shape[1] * rec.shape[2])


def nlb_split(ds: xr.Dataset, path: str, eval_cfg: Mapping[str, Any]) -> NLBSplit:
    """Split a spikes dataset: LFADS trains on ``train``, selects on ``valid``; NLB scores
    the ``test`` trials. Needs held-out neurons and a forward window."""
    name = str(ds.attrs["dataset"])
    if int(ds["heldout"].values.sum()) == 0:
        raise InputError(path, "heldout", "AutoLFADS/NLB needs held-out neurons")
    if int(ds.attrs["n_forward_bins"]) <= 0:
        raise InputError(path, "n_forward_bins", "NLB fp-bps needs a forward window")
    splits = {s: split_arrays(ds, s) for s in (LFADS_TRAIN, LFADS_VALID, NLB_EVAL)}
    n_ctx = int(ds.attrs.get("n_context_bins", 0))
    context = {s: _drop_context(arr, n_ctx) for s, arr in splits.items()} if n_ctx else {}
    for s, arr in splits.items():
        if arr["encod_data"].shape[0] == 0:
            raise InputError(path, "split", f"no '{s}' trials")
        if "behavior" not in arr:
            raise InputError(path, "behavior", "hand velocity is needed for vel R²")
    lag = LAG_MS.get(name, float(ds.attrs.get("lag_s", eval_cfg["lag_ms"] / 1000)) * 1000)
    sd = PSTH_SD_MS.get(name, float(eval_cfg["psth_sd_ms"]))
    bin_ms = float(ds.attrs["bin_width_s"]) * 1000
    if lag_bins(lag, bin_ms) > int(ds.attrs["n_forward_bins"]):
        raise InputError(path, "n_forward_bins", f"vel R² reads behaviour {lag:g} ms past "
                         "the observed window (nlb_tools); the forward window is shorter")
    return NLBSplit(splits[LFADS_TRAIN], splits[LFADS_VALID], splits[NLB_EVAL],
                    n_heldin=int((~ds["heldout"].values.astype(bool)).sum()),
                    n_obs=splits[LFADS_TRAIN]["encod_data"].shape[1],
                    bin_ms=bin_ms, lag_ms=float(lag),
                    psth_sd_ms=float(sd), dataset=name,
                    synthetic=str(ds.attrs["synthetic"]) == "true",
                    t_start_ms=float(ds["time"].values[n_ctx]) * 1000,
                    align=str(ds.attrs.get("align", "")), context=context)
