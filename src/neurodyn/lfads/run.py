"""Train and evaluate a job (a group) of LFADS models through the shared fit runner.

Each model is one fit of :class:`neurodyn.train.runner.FitRunner`, keyed by its spec, the
config values it depends on (:func:`fit_config`), the code it runs (:data:`FIT_CODE`) and the
content of the dataset file; a finished fit with the same key is reused, an unfinished one
resumes from its ``last.ckpt`` (written every epoch by the shared trainer). A model is
evaluated from its best epoch under its arm's selection metric (:func:`selection_metric`, kept
as ``best.ckpt``), and its record gives that ``best_epoch`` and the metrics of that epoch.

On the CPU, a search job trains its unfinished models together as one population
(:func:`fit_population`, :mod:`neurodyn.models.lfads_population_fit`): per model the same
training as a lone fit (its seed, batches, random draws, LR decay and best epoch), batched for
speed; each model is still its own keyed fit of the runner (same keys as lone fits), but a
killed population job retrains its unfinished models from the first epoch (no ``last.ckpt``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurodyn.digest import code_digest
from neurodyn.eval.decoding import cv_decoding_r2, rate_r2
from neurodyn.io.spikes import open_spikes, split_arrays
from neurodyn.lfads.analysis import N_EXAMPLE_NEURONS, decoding_setup
from neurodyn.lfads.grid import ModelSpec, elements_per_trial
from neurodyn.models import use_lfads_population as use_population
from neurodyn.train.device import TrainSettings
from neurodyn.train.runner import FitRunner, PlannedFit

log = logging.getLogger("neurodyn")
FINAL_METRICS = ("train/recon_heldin_smth", "train/recon_sv_smth", "valid/recon_heldin_smth",
                 "valid/recon_sv_smth", "train/recon_heldin", "valid/recon_heldin")
# package code a fit runs (figures and tables are not in it: editing them retrains nothing)
FIT_CODE = ("lfads/run.py", "lfads/grid.py", "lfads/analysis.py", "lfads/pbt.py",
            "models", "train", "io/spikes.py", "eval/decoding.py",
            "autolfads/pbt.py", "autolfads/generations.py", "autolfads/member.py",
            "autolfads/member_population.py", "autolfads/plan.py", "autolfads/space.py")
PROGRESS_KEYS = ("train/recon_heldin", "valid/recon_heldin")
# lfads.train keys of the learning-rate decay on plateau (LFADS hyperparameters of that name)
LR_KEYS = ("lr_decay", "lr_patience", "lr_stop")


def selection_metric(spec: ModelSpec) -> str:
    """The metric that selects a model's best epoch: the SV metric for the SV arm, the
    standard validation loss otherwise (the arms' model-selection metrics)."""
    return "train/recon_sv_smth" if spec.arm == "sv" else "valid/recon_heldin_smth"


def settings_key(settings: TrainSettings) -> dict[str, Any]:
    """The shared training settings a fit's numbers depend on (not ``progress``)."""
    return {"device": settings.device, "precision": settings.effective_precision,
            "deterministic": settings.deterministic}


def fit_config(cfg: Mapping[str, Any], settings: TrainSettings, experiment: str,
               seed: int) -> dict[str, Any]:
    """Exactly the config values an LFADS fit of ``experiment`` depends on (its spec and the
    dataset file are keyed separately; ``models_per_job`` only groups fits into jobs)."""
    out: dict[str, Any] = {
        "train": {k: v for k, v in cfg["train"].items() if k != "models_per_job"},
        "harness": settings_key(settings)}
    if experiment == "datasize":
        d = cfg["dataset_size"]
        out.update(seed=int(seed), dataset_size={"valid_fraction": d["valid_fraction"],
                                                 "decoding": d["decoding"]})
    elif experiment != "search":
        raise ValueError(f"unknown LFADS experiment {experiment!r}")
    return out


def training_epochs(train_cfg: Mapping[str, Any], n_trials: int) -> int:
    """``max_epochs``, raised so that small training sets still get ``min_steps`` steps."""
    per_epoch = -(-n_trials // int(train_cfg["batch_size"]))
    return max(int(train_cfg["max_epochs"]), -(-int(train_cfg.get("min_steps", 0)) // per_epoch))


def fit_lfads(spec: ModelSpec, train: Mapping[str, np.ndarray], valid: Mapping[str, np.ndarray],
              train_cfg: Mapping[str, Any], settings: TrainSettings, workdir: Path,
              label: str = "") -> tuple[Any, int]:
    """Train one model with the shared trainer (resuming from ``workdir/last.ckpt``); return
    it on the CPU with the weights of its best epoch under :func:`selection_metric` (its
    ``history`` still covers every epoch), and that epoch."""
    from neurodyn.models.lfads import GRAD_CLIP, LFADS
    from neurodyn.models.lfads_data import LFADSDataModule, SeedPerBatch
    from neurodyn.train.runtime import load_weights, seed_all
    from neurodyn.train.trainer import fit_resumable, make_trainer

    seed_all(spec.seed)
    lr = {key: train_cfg[key] for key in LR_KEYS if key in train_cfg}
    model = LFADS(LFADS.hparams_for_data(train, **{**spec.hparams, **lr}))
    epochs = training_epochs(train_cfg, train["encod_data"].shape[0])
    trainer, ckpts = make_trainer(settings, max_epochs=epochs, workdir=workdir,
                                  label=label or spec.model_id, monitor=selection_metric(spec),
                                  mode="min", callbacks=[SeedPerBatch(spec.seed)],
                                  progress_keys=PROGRESS_KEYS, gradient_clip_val=GRAD_CLIP)
    data = LFADSDataModule(train, valid, int(train_cfg["batch_size"]), seed=spec.seed)
    fit_resumable(trainer, model, workdir, datamodule=data)
    model = model.cpu()
    best = ckpts.best_path()
    if best is None or not best.exists():
        raise RuntimeError(f"{spec.model_id}: no best checkpoint under "
                           f"{selection_metric(spec)} (metric never finite?)")
    state = load_weights(best)
    model.load_state_dict(state["state_dict"])
    return model, int(state["lfads_history"][-1]["epoch"])


def fit_population(specs: Sequence[ModelSpec], train: Mapping[str, np.ndarray],
                   valid: Mapping[str, np.ndarray], train_cfg: Mapping[str, Any],
                   progress: bool = False) -> list[tuple[Any, int]]:
    """Train ``specs`` as one population on the CPU; per model what :func:`fit_lfads` returns
    (the model with its best epoch's weights under :func:`selection_metric`, that epoch)."""
    from neurodyn.models.lfads import LFADS
    from neurodyn.models.lfads_population_fit import PopulationFit
    from neurodyn.train.runtime import seed_all

    lr = {key: train_cfg[key] for key in LR_KEYS if key in train_cfg}
    models = []
    for spec in specs:
        seed_all(spec.seed)  # each model's initial weights as its lone fit draws them
        models.append(LFADS(LFADS.hparams_for_data(train, **{**spec.hparams, **lr})))
    fit = PopulationFit(models, [s.seed for s in specs], [selection_metric(s) for s in specs],
                        train, valid, int(train_cfg["batch_size"]),
                        labels=[s.model_id for s in specs] if progress else None,
                        progress_keys=PROGRESS_KEYS)
    results = fit.fit(training_epochs(train_cfg, train["encod_data"].shape[0]))
    return [(r.model, r.best_epoch) for r in results]


def _final(model: Any, epoch: int) -> dict[str, float]:
    """The logged metrics of ``epoch`` (the evaluated, best one)."""
    rec = next((r for r in model.history if r["epoch"] == epoch), {})
    return {k.replace("/", "_"): float(rec.get(k, float("nan"))) for k in FINAL_METRICS}


def _curves(model: Any) -> dict[str, list[float]]:
    keys = ("valid/recon_heldin_smth", "train/recon_sv_smth", "train/recon_heldin_smth")
    return {"curve_" + k.replace("/", "_"): [float(r.get(k, float("nan"))) for r in model.history]
            for k in keys}


def _runner(workdir: Path, data_path: str | Path, cfg: Mapping[str, Any],
            settings: TrainSettings, experiment: str, seed: int) -> FitRunner:
    return FitRunner(workdir, config=fit_config(cfg, settings, experiment, seed),
                     code=code_digest(*FIT_CODE), inputs=[data_path], label=f"lfads {experiment}")


def run_search_job(data_path: str | Path, specs: Sequence[ModelSpec], cfg: Mapping[str, Any],
                   seed: int, workdir: Path, settings: TrainSettings) -> list[dict[str, Any]]:
    """Search models on the synthetic RNN data: selection metrics and rate R² vs truth."""
    ds = open_spikes(data_path)
    train, valid = split_arrays(ds, "train"), split_arrays(ds, "valid")
    if "truth" not in valid:
        raise ValueError(f"{data_path}: the search needs ground-truth rates (rates_hz)")
    samples = int(cfg["train"]["posterior_samples"])
    by_id = {s.model_id: s for s in specs}

    def record(spec: ModelSpec, model: Any, best_epoch: int) -> dict[str, Any]:
        from neurodyn.models.lfads_inference import infer_rates

        out = infer_rates(model, valid, n_samples=samples, seed=spec.seed)
        example = out["rates"][0, :, :N_EXAMPLE_NEURONS] / float(ds.attrs["bin_width_s"])
        rec = {**spec.to_dict(), **_final(model, best_epoch), **_curves(model),
               "rate_r2": rate_r2(out["rates"], valid["truth"]),
               "epochs_run": len(model.history), "best_epoch": best_epoch,
               "example_trial": int(valid["trial"][0]), "example_rates_hz": example.T.tolist()}
        log.info("%s: rate R2 %.3f", spec.model_id, rec["rate_r2"])
        return rec

    def train_one(fit: PlannedFit) -> dict[str, Any]:
        spec = by_id[fit.fit_id]
        return record(spec, *fit_lfads(spec, train, valid, cfg["train"], settings, fit.dir))

    def train_all(fits: list[PlannedFit]) -> list[dict[str, Any]]:
        group = [by_id[f.fit_id] for f in fits]
        log.info("training %d models as one population", len(group))
        return [record(spec, *fitted) for spec, fitted in
                zip(group, fit_population(group, train, valid, cfg["train"], settings.progress),
                    strict=True)]

    runner = _runner(workdir, data_path, cfg, settings, "search", seed)
    items = [(s.model_id, s.to_dict()) for s in specs]
    if use_population(settings):
        return runner.run_batched(items, train_all)
    return runner.run(items, train_one)


def subset_trials(pool: np.ndarray, fraction: float, draw: int, seed: int,
                  min_trials: int = 4) -> np.ndarray:
    """A seeded random subset (``fraction`` of ``pool``) shared by every model of a draw."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 55, int(round(fraction * 1e6)),
                                                        int(draw)]))
    n = max(min_trials, int(round(fraction * pool.size)))
    return np.sort(rng.choice(pool, size=min(n, pool.size), replace=False))


def _subset_split(ds: xr.Dataset, spec: ModelSpec, cfg: Mapping[str, Any], seed: int
                  ) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    pool = np.flatnonzero(ds["split"].values.astype(str) != "test")
    trials = subset_trials(pool, spec.fraction, spec.draw, seed)
    n_valid = max(1, int(round(cfg["dataset_size"]["valid_fraction"] * trials.size)))
    order = np.random.default_rng(spec.draw).permutation(trials)
    return (trials, split_arrays(ds, "", trials=np.sort(order[n_valid:])),
            split_arrays(ds, "", trials=np.sort(order[:n_valid])))


def pbt_key(cfg: Mapping[str, Any], n_trials: int) -> dict[str, Any]:
    """What a PBT (arm ``hpo``) depends on besides its spec: space, schedule, population."""
    from neurodyn.lfads.pbt import pbt_schedule, space_config

    epochs = training_epochs(cfg["train"], n_trials)
    return {"space": space_config(cfg), "schedule": vars(pbt_schedule(cfg, epochs))}


def _train_pbt(spec: ModelSpec, train: Mapping[str, np.ndarray],
               valid: Mapping[str, np.ndarray], cfg: Mapping[str, Any], seed: int,
               workdir: Path, settings: TrainSettings, data_path: str | Path
               ) -> tuple[Any, dict[str, float], dict[str, Any]]:
    """The PBT of one training subset: best member, its final metrics, PBT summary."""
    from neurodyn.lfads.pbt import pbt_schedule, pbt_space, run_pbt

    tc = cfg["train"]
    schedule = pbt_schedule(cfg, training_epochs(tc, train["encod_data"].shape[0]))
    model_cfg = {**spec.hparams, **{k: tc[k] for k in LR_KEYS if k in tc}}
    model, best, population = run_pbt(
        train, valid, model_cfg, int(tc["batch_size"]),
        pbt_space(cfg, elements_per_trial(cfg, "datasize")), schedule, spec.seed,
        workdir / "pbt", settings, code_digest(*FIT_CODE), data_path, label=spec.model_id)
    last = best["history"][-1] if best["history"] else {}
    final = {k.replace("/", "_"): float(last.get(k) if last.get(k) is not None else "nan")
             for k in FINAL_METRICS}
    summary = {"best_member": int(best["member"]), "best_hps": dict(best["hps"]),
               "epochs_run": schedule.total_epochs, "pbt_population": schedule.population,
               "pbt_generations": schedule.generations,
               "pbt_best_scores": [min((r["score"] for r in gen if r["score"] is not None),
                                       default=None) for gen in population]}
    return model, final, summary


def run_datasize_job(data_path: str | Path, specs: Sequence[ModelSpec], cfg: Mapping[str, Any],
                     seed: int, workdir: Path, settings: TrainSettings) -> list[dict[str, Any]]:
    """Dataset-size models: train on a subset of the train+valid pool (a fixed-HP LFADS, or a
    PBT for arm ``hpo``), decode velocity from the inferred rates of the fixed test trials."""
    ds = open_spikes(data_path)
    setup = decoding_setup(ds, cfg)
    samples = int(cfg["train"]["posterior_samples"])
    by_id = {s.model_id: s for s in specs}

    def train_one(fit: PlannedFit) -> dict[str, Any]:
        from neurodyn.models.lfads_inference import infer_rates

        spec = by_id[fit.fit_id]
        trials, train, valid = _subset_split(ds, spec, cfg, seed)
        if spec.arm == "hpo":
            model, final, extra = _train_pbt(spec, train, valid, cfg, seed, fit.dir, settings,
                                             data_path)
        else:
            model, best_epoch = fit_lfads(spec, train, valid, cfg["train"], settings, fit.dir)
            final = _final(model, best_epoch)
            extra = {"epochs_run": len(model.history), "best_epoch": best_epoch}
        rates = infer_rates(model, setup["test"], n_samples=samples, seed=spec.seed)["rates"]
        r2 = cv_decoding_r2(rates, setup["test"]["behavior"], setup["lags"], setup["alphas"],
                            setup["folds"], seed)
        log.info("%s (%d trials): velocity R2 %.3f", spec.model_id, trials.size, r2)
        return {**spec.to_dict(), **final, "n_train_trials": int(trials.size),
                "velocity_r2": r2, **extra}

    def key(spec: ModelSpec) -> dict[str, Any]:
        if spec.arm != "hpo":
            return spec.to_dict()
        n_train = _subset_split(ds, spec, cfg, seed)[1]["encod_data"].shape[0]
        return {**spec.to_dict(), "pbt": pbt_key(cfg, n_train)}

    runner = _runner(workdir, data_path, cfg, settings, "datasize", seed)
    return runner.run([(s.model_id, key(s)) for s in specs], train_one)
