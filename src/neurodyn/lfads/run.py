"""Train and evaluate groups of LFADS models in one process (the import cost is paid once).

Each finished model writes ``<workdir>/<model id>/result.json``; an unfinished one resumes
from its ``last.ckpt`` (saved every epoch), so a killed job continues where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from lightning.pytorch.callbacks import ModelCheckpoint

from neurodyn.eval.decoding import cv_decoding_r2, rate_r2
from neurodyn.io.atomic import write_json
from neurodyn.io.spikes import split_arrays
from neurodyn.lfads.analysis import N_EXAMPLE_NEURONS, decoding_setup
from neurodyn.lfads.grid import ModelSpec
from neurodyn.models.lfads import LFADS, LFADSDataModule, infer_rates, make_trainer
from neurodyn.train.runtime import seed_all

log = logging.getLogger("neurodyn")
FINAL_METRICS = ("train/recon_heldin_smth", "train/recon_sv_smth", "valid/recon_heldin_smth",
                 "valid/recon_sv_smth", "train/recon_heldin", "valid/recon_heldin")


def training_epochs(train_cfg: Mapping[str, Any], n_trials: int) -> int:
    """``max_epochs``, raised so that small training sets still get ``min_steps`` steps."""
    per_epoch = -(-n_trials // int(train_cfg["batch_size"]))
    return max(int(train_cfg["max_epochs"]), -(-int(train_cfg.get("min_steps", 0)) // per_epoch))


def fit_lfads(spec: ModelSpec, train: Mapping[str, np.ndarray], valid: Mapping[str, np.ndarray],
              train_cfg: Mapping[str, Any], workdir: Path, accelerator: str = "cpu") -> LFADS:
    """Train one model (resuming from ``workdir/last.ckpt``) and return it (final weights)."""
    workdir.mkdir(parents=True, exist_ok=True)
    seed_all(spec.seed)
    model = LFADS(LFADS.hparams_for_data(train, **spec.hparams))
    ckpt = ModelCheckpoint(dirpath=workdir, filename="last", save_last=False, save_top_k=-1,
                           every_n_epochs=1, enable_version_counter=False)
    trainer = make_trainer(training_epochs(train_cfg, train["encod_data"].shape[0]),
                           accelerator, callbacks=[ckpt], default_root_dir=str(workdir),
                           deterministic=False)
    last = workdir / "last.ckpt"
    data = LFADSDataModule(train, valid, int(train_cfg["batch_size"]), seed=spec.seed)
    trainer.fit(model, data, ckpt_path=last if last.exists() else None, weights_only=True)
    return model.cpu()


def _final(model: LFADS) -> dict[str, float]:
    last = model.history[-1] if model.history else {}
    return {k.replace("/", "_"): float(last.get(k, float("nan"))) for k in FINAL_METRICS}


def _curves(model: LFADS) -> dict[str, list[float]]:
    keys = ("valid/recon_heldin_smth", "train/recon_sv_smth", "train/recon_heldin_smth")
    return {"curve_" + k.replace("/", "_"): [float(r.get(k, float("nan"))) for r in model.history]
            for k in keys}


def model_dir(workdir: Path, spec: ModelSpec, cfg: Mapping[str, Any], ds: xr.Dataset,
              code: str = "") -> Path:
    """Resume folder of a model, keyed by everything its result depends on (spec, training
    settings, data generator, code version), so stale results are never reused."""
    key = json.dumps([spec.to_dict(), dict(cfg["train"]), cfg.get("dataset_size", {}),
                      {k: str(v) for k, v in ds.attrs.items() if k in
                       ("generator", "generator_seed", "sv_rate", "sv_seed", "dataset")}, code],
                     sort_keys=True, default=str)
    return workdir / f"{spec.model_id}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def _finish(path: Path, record: dict[str, Any]) -> dict[str, Any]:
    record = {k: (float(v) if isinstance(v, np.floating) else v) for k, v in record.items()}
    write_json(path, record)
    return record


def run_search_job(ds: xr.Dataset, specs: Sequence[ModelSpec], cfg: Mapping[str, Any],
                   workdir: Path, accelerator: str = "cpu", code: str = ""
                   ) -> list[dict[str, Any]]:
    """Search models on the synthetic RNN data: selection metrics and rate R² vs truth."""
    train, valid = split_arrays(ds, "train"), split_arrays(ds, "valid")
    if "truth" not in valid:
        raise ValueError("the search needs ground-truth rates (rates_hz) in the dataset")
    records = []
    for spec in specs:
        mdir = model_dir(workdir, spec, cfg, ds, code)
        done = mdir / "result.json"
        if done.exists():
            records.append(json.loads(done.read_text()))
            continue
        model = fit_lfads(spec, train, valid, cfg["train"], mdir,
                          accelerator)
        out = infer_rates(model, valid, n_samples=int(cfg["train"]["posterior_samples"]),
                          seed=spec.seed)
        example = out["rates"][0, :, :N_EXAMPLE_NEURONS] / float(ds.attrs["bin_width_s"])
        record = {**spec.to_dict(), **_final(model), **_curves(model),
                  "rate_r2": rate_r2(out["rates"], valid["truth"]),
                  "epochs_run": len(model.history), "example_trial": int(valid["trial"][0]),
                  "example_rates_hz": example.T.tolist()}
        records.append(_finish(done, record))
        log.info("%s: rate R2 %.3f", spec.model_id, record["rate_r2"])
    return records


def subset_trials(pool: np.ndarray, fraction: float, draw: int, seed: int,
                  min_trials: int = 4) -> np.ndarray:
    """A seeded random subset (``fraction`` of ``pool``) shared by every model of a draw."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 55, int(round(fraction * 1e6)),
                                                        int(draw)]))
    n = max(min_trials, int(round(fraction * pool.size)))
    return np.sort(rng.choice(pool, size=min(n, pool.size), replace=False))


def run_datasize_job(ds: xr.Dataset, specs: Sequence[ModelSpec], cfg: Mapping[str, Any],
                     seed: int, workdir: Path, accelerator: str = "cpu", code: str = ""
                     ) -> list[dict[str, Any]]:
    """Dataset-size models: train on a subset of the train+valid pool, decode velocity from
    the inferred rates of the fixed test trials."""
    split = ds["split"].values.astype(str)
    pool = np.flatnonzero(split != "test")
    setup = decoding_setup(ds, cfg)
    records = []
    for spec in specs:
        mdir = model_dir(workdir, spec, cfg, ds, code)
        done = mdir / "result.json"
        if done.exists():
            records.append(json.loads(done.read_text()))
            continue
        trials = subset_trials(pool, spec.fraction, spec.draw, seed)
        n_valid = max(1, int(round(cfg["dataset_size"]["valid_fraction"] * trials.size)))
        rng = np.random.default_rng(spec.draw)
        order = rng.permutation(trials)
        train = split_arrays(ds, "", trials=np.sort(order[n_valid:]))
        valid = split_arrays(ds, "", trials=np.sort(order[:n_valid]))
        model = fit_lfads(spec, train, valid, cfg["train"], mdir,
                          accelerator)
        rates = infer_rates(model, setup["test"], n_samples=int(cfg["train"]["posterior_samples"]),
                            seed=spec.seed)["rates"]
        r2 = cv_decoding_r2(rates, setup["test"]["behavior"], setup["lags"], setup["alphas"],
                            setup["folds"], seed)
        record = {**spec.to_dict(), **_final(model), "n_train_trials": int(trials.size),
                  "velocity_r2": r2, "epochs_run": len(model.history)}
        records.append(_finish(done, record))
        log.info("%s (%d trials): velocity R2 %.3f", spec.model_id, trials.size, r2)
    return records
