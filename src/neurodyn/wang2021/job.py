"""One Wang 2021 job on the shared fit runner: every ensemble of the job's fits is planned by
:class:`~neurodyn.train.runner.FitRunner` (a fit is reused when its key is unchanged) and its
unfinished folds train together as one batched ensemble, checkpointed so a killed job
resumes; each fit's record is then written to its declared ``metrics.json``."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from neurodyn.digest import code_digest, json_digest
from neurodyn.io.atomic import atomic_path, write_json, write_text
from neurodyn.train.device import TrainSettings
from neurodyn.train.runner import FitRunner, PlannedFit
from neurodyn.train.runtime import load_weights
from neurodyn.train.trainer import LAST
from neurodyn.wang2021 import grid as G
from neurodyn.wang2021.batched import stack_states
from neurodyn.wang2021.run import Inputs, evaluate_ensemble, run_ensemble

log = logging.getLogger("neurodyn")
SVM_KEYS = ("svm_tol", "svm_max_iter")
NOCHANGE_KEYS = ("horizon", "burn_in", "eval_stride")
GRID_KEYS = ("archs", "k", "folds")  # a task's grid lists: which fits run, not how


def fit_id(fit: G.Fit) -> str:
    """The fit's folder name in the runner's work folder ('cls2.k1.w1.fold0.gnn')."""
    return fit.path.replace("/", ".")


def fit_config(cfg: Mapping[str, Any], task: str, arch: str, seed: int,
               settings: TrainSettings) -> dict[str, Any]:
    """Exactly the config values a fit of ``task`` × ``arch`` depends on (part of its key):
    not the grid (k, combinations, folds run), the job mode, other tasks or Table/figure
    settings."""
    spec = cfg["tasks"][task]
    kind = spec["kind"]
    opts = dict(cfg[kind])
    if arch == "svm":
        opts = {k: opts[k] for k in SVM_KEYS}
    elif arch == "nochange":
        opts = {k: opts[k] for k in NOCHANGE_KEYS}
    else:
        if kind == "classify":
            opts = {k: v for k, v in opts.items() if k not in SVM_KEYS}
        opts["epochs"] = G.task_epochs(cfg, task)
    out: dict[str, Any] = {
        "seed": int(seed), "kato_worms": cfg["kato_worms"], "n_folds": cfg["n_folds"],
        "window": cfg["window"],
        "task": {k: v for k, v in spec.items() if k not in (*GRID_KEYS, "epochs")},
        "neurons": list(cfg["neuron_sets"][spec["neurons"]]), kind: opts}
    if spec.get("evaluate_nichols", False):
        out["nichols_worms"] = cfg["nichols_worms"]
    if arch not in ("svm", "nochange"):  # numbers of trained networks depend on these
        out["train"] = {"precision": settings.effective_precision,
                        "deterministic": settings.deterministic}
    return out


def save_weights(states: Sequence[dict[str, Tensor]], paths: Sequence[Path]
                 ) -> dict[str, Tensor]:
    """Save each member's best weights and load them back safely (weights_only)."""
    loaded = []
    for state, path in zip(states, paths, strict=True):
        with atomic_path(path) as tmp:
            torch.save(state, tmp)
        loaded.append(load_weights(path))
    return stack_states(loaded)


def train_fits(inputs: Inputs, todo: Sequence[PlannedFit], cfg: Mapping[str, Any],
               seed: int, settings: TrainSettings) -> list[dict[str, Any]]:
    """Train the unfinished fits of one ensemble together; return their records. The
    ensemble checkpoints into a folder of its first fit named by the digest of all its
    fits' keys (another set of unfinished folds never resumes from it); each fit gets its
    best weights and its validation losses per epoch (``metrics.csv``)."""
    fits = [G.Fit(**p.spec) for p in todo]
    workdir = todo[0].dir / f"ensemble-{json_digest([p.key for p in todo])[:12]}"
    records, states = run_ensemble(inputs, fits, cfg, seed, settings, workdir)
    paths = [p.dir / "weights.pt" for p in todo]
    if fits[0].arch == "svm":
        save_weights(states, paths)
    elif states[0]:  # trained networks: evaluate the restored best weights
        evaluate_ensemble(inputs, fits, cfg, seed, records, save_weights(states, paths))
    for rec, path in zip(records, paths, strict=True):
        if path.exists():  # torch.save is not byte-reproducible: weights stay in work/
            rec["weights"] = str(path)
        if rec.get("val_loss_history"):
            rows = [f"{e},{v!r}" for e, v in enumerate(rec["val_loss_history"], 1)]
            write_text(path.parent / "metrics.csv", "\n".join(["epoch,val_loss", *rows, ""]))
    # the finished ensemble's resume point (optimizer state of every member) is no longer
    # needed: a changed config trains under another key, in another folder
    (workdir / LAST).unlink(missing_ok=True)
    return records


def run_job(kato_path: str, nichols_path: str, fits: Sequence[G.Fit], cfg: Mapping[str, Any],
            seed: int, settings: TrainSettings, out_root: Path, work_root: Path,
            provenance: Mapping[str, Any]) -> None:
    """Train (or reuse) every fit of a job and write ``out_root/<fit path>/metrics.json``.
    Fit folders, weights and ensemble checkpoints live under ``work_root``."""
    inputs = Inputs(kato_path, nichols_path, cfg)
    code = code_digest(*G.TRAIN_CODE)
    for ens in G.ensembles(list(fits)):
        task, arch = ens[0].task, ens[0].arch
        files = {"kato": kato_path}
        if cfg["tasks"][task].get("evaluate_nichols", False):
            files["nichols"] = nichols_path
        runner = FitRunner(work_root, config=fit_config(cfg, task, arch, seed, settings),
                           code=code, inputs=files,
                           label=f"{task} k{ens[0].k} {ens[0].combination} {arch}")
        records = runner.run_batched(
            [(fit_id(f), vars(f)) for f in ens],
            lambda todo: train_fits(inputs, todo, cfg, seed, settings))
        for f, rec in zip(ens, records, strict=True):
            write_json(out_root / f.path / "metrics.json", {**rec, "provenance": dict(provenance)})
