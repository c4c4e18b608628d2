"""Run a chunk of scaling fits in one process (the import cost is paid once per job).

A fit is (experiment, arch, seed, level): ``data_scaling`` fits use the matched model size
and the first ``level`` worms of a seeded permutation (capped at the cohort's worms);
``model_scaling`` fits use hidden size ``level`` on all worms. Every fit is evaluated on the
fixed validation set (second halves of all worms). Each finished fit writes
``<workdir>/<fit id>/result.json``, so a killed job resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr

from neurodyn.io.atomic import write_json
from neurodyn.models.scaling import build_model, generate, hidden_for_params
from neurodyn.scaling.grid import FIXED_SIZE_ARCHS, Fit, generates
from neurodyn.scaling.windows import Windows, eligible_worms, nested_worm_subsets, worm_windows
from neurodyn.train.next_step import TrainConfig, fit_next_step
from neurodyn.train.runtime import seed_all

log = logging.getLogger("neurodyn")


def _hidden(fit: Fit, matched_params: int) -> int | None:
    if fit.arch in FIXED_SIZE_ARCHS:
        return None
    if fit.experiment == "model_scaling":
        return fit.level
    return hidden_for_params(fit.arch, matched_params)


def _generation(model: torch.nn.Module, ds: xr.Dataset, worm: str, cfg: Mapping[str, Any]
                ) -> dict[str, Any]:
    """Seed with ``context`` validation steps of one worm and generate ``generate`` more."""
    g = cfg["generation"]
    w = list(ds["worm"].values).index(worm)
    n = int(ds["n_timesteps"].values[w])
    series = np.nan_to_num(ds["activity"].values[w, n // 2:n]).astype(np.float32)
    ctx_len = min(g["context"], series.shape[0] // 2)
    gen_len = min(g["generate"], series.shape[0] - ctx_len)
    labeled = np.flatnonzero(ds["labeled"].values[w])
    mask = torch.from_numpy(ds["labeled"].values[w][None].astype(np.float32))
    context = torch.from_numpy(series[None, :ctx_len])
    out = generate(model, context, mask, gen_len, context_window=cfg["seq_len"])[0].numpy()
    shown = labeled[: g["neurons"]]
    return {"worm": worm, "neurons": [str(ds["neuron"].values[i]) for i in shown],
            "context": series[:ctx_len, shown].T.tolist(),
            "truth": series[ctx_len:ctx_len + gen_len, shown].T.tolist(),
            "generated": out[:, shown].T.tolist()}


def run_fits(ds: xr.Dataset, fits: Sequence[Fit], cfg: Mapping[str, Any], workdir: Path,
             accelerator: str = "cpu") -> list[dict[str, Any]]:
    """Train and evaluate ``fits`` on the cohort ``ds``; return one record per fit."""
    worms, skipped = eligible_worms(ds, cfg["seq_len"])
    if not worms:
        raise ValueError(f"no worm is long enough for windows of {cfg['seq_len']} steps")
    if skipped:
        log.warning("skipping %d worms too short for windows of %d steps: %s", len(skipped),
                    cfg["seq_len"], ", ".join(skipped))
    train_cfg = TrainConfig(**cfg["train"])
    window = {"seq_len": cfg["seq_len"], "train_first": cfg.get("train_first", True)}
    val = worm_windows(ds, worms, n_windows=cfg["val_windows"], split="val", **window)
    train_sets: dict[tuple[int, int], Windows] = {}
    records = []
    for fit in fits:
        done = workdir / fit.fit_id / "result.json"
        if done.exists():
            records.append(json.loads(done.read_text()))
            continue
        n_worms = min(fit.level, len(worms)) if fit.experiment == "data_scaling" else len(worms)
        key = (fit.seed, n_worms)
        if key not in train_sets:
            subset = nested_worm_subsets(worms, [n_worms], fit.seed)[n_worms]
            train_sets[key] = worm_windows(ds, subset, n_windows=cfg["train_windows"],
                                           split="train", **window)
        seed_all(fit.seed)
        hidden = _hidden(fit, cfg["matched_params"])
        model = build_model(fit.arch, hidden)
        record = fit_next_step(model, train_sets[key], val, train_cfg, workdir / fit.fit_id,
                               fit.seed, accelerator)
        record.update(experiment=fit.experiment, arch=fit.arch, seed=fit.seed,
                      hidden=hidden or 0, n_worms=n_worms,
                      n_train_steps=train_sets[key].unique_steps,
                      n_worms_skipped=len(skipped))
        if generates(fit):
            record["generation"] = _generation(model, ds, worms[0], cfg)
        record = {k: (float(v) if isinstance(v, np.floating) else v) for k, v in record.items()}
        write_json(done, record)
        records.append(record)
    return records
