"""Train one PBT member of LFADS for one generation; shared by the Snakemake and Ray backends
and the fixed-HP baseline. Trains through the shared trainer (``neurodyn.train.trainer``) on the
shared LFADS data module (``neurodyn.models.lfads_data``).

A member's generation runs in its own fit folder (keyed by :mod:`neurodyn.train.runner` on
everything it depends on, see :meth:`MemberTask.spec` and :func:`member_fit_config`) and starts
from (a) that folder's ``last.ckpt`` when a killed run left one, else (b) the checkpoint of the
parent chosen by the previous selection (itself or the tournament winner it clones: weights,
optimiser state, LFADS smoothing history and epoch counters), else (c) a fresh model
(generation 0). After restoring, the member's own hyperparameters are applied again
(``LFADS.set_hparams``, which also pushes the learning rate into the restored optimiser).
Batches and model randomness are seeded from (seed, epoch, batch), so a killed member resumes
with the same result as an uninterrupted one.

Only a *numeric* failure (a non-finite training loss or selection metric) makes a member
``failed`` (the selection replaces it by a clone); anything else (CUDA out of memory, I/O
errors, bugs) is raised, so the job fails and can be rerun.
"""

from __future__ import annotations

import logging
import math
import shutil
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning.pytorch.callbacks import Callback

from neurodyn.io.atomic import atomic_path
from neurodyn.train.device import TrainSettings
from neurodyn.train.runner import FitRunner, PlannedFit
from neurodyn.train.runtime import checkpoint_digest, load_weights
from neurodyn.train.trainer import LAST, fit_resumable, make_trainer, resume_point

log = logging.getLogger("neurodyn")

MEMBER_CKPT = "member.ckpt"  # the checkpoint a member hands on to the next generation
VALID_BATCH = 512
PROGRESS_KEYS = ("train/loss", "valid/loss")
# a member restored from its parent's checkpoint starts in another folder: expected
warnings.filterwarnings("ignore", message="The dirpath has changed")


@dataclass(frozen=True)
class MemberTask:
    """One member in one generation."""

    member: int
    generation: int
    hps: dict[str, float]
    seed: int
    target_epochs: int  # epochs the member has trained in total at the end of the generation
    parent: int | None = None  # None in generation 0
    parent_ckpt: str | None = None

    @property
    def fit_id(self) -> str:
        return f"member{self.member}"

    def spec(self) -> dict[str, Any]:
        """What the member's result depends on besides config, code and data: its HPs, seed,
        epochs and the *content* of the parent checkpoint it starts from."""
        return {"member": self.member, "generation": self.generation, "hps": dict(self.hps),
                "seed": self.seed, "target_epochs": self.target_epochs, "parent": self.parent,
                "parent_ckpt_sha256": None if self.parent_ckpt is None
                else checkpoint_digest(self.parent_ckpt)}


def member_fit_config(cfg: Mapping[str, Any], settings: TrainSettings) -> dict[str, Any]:
    """The config values a member's training reads (the fit key's ``config``): the LFADS
    architecture, batch size, selection metric and device/precision/determinism. Evaluation,
    figure and schedule keys are not in it (the schedule enters through each task's epochs)."""
    return {"model": dict(cfg["model"]), "batch_size": int(cfg["batch_size"]),
            "metric": str(cfg["metric"]), "valid_batch": VALID_BATCH,
            "train": {"device": settings.device, "precision": settings.effective_precision,
                      "deterministic": settings.deterministic}}


@dataclass
class MemberResult:
    member: int
    generation: int
    parent: int | None
    hps: dict[str, float]
    seed: int
    epochs: int
    score: float  # the selection metric at the end of the generation (NaN when failed)
    status: str  # "ok" | "failed"
    start: str  # "parent" | "scratch": where the generation starts from
    history: list[dict[str, float | None]] = field(default_factory=list)
    error: str = ""
    resumed_own: bool = False  # resumed a killed run's last.ckpt (logged, not recorded)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("resumed_own")  # records stay identical whether or not a run was killed
        out["score"] = None if not math.isfinite(self.score) else self.score
        return out


class NonFiniteLoss(FloatingPointError):
    """The training loss became NaN or infinite (a numeric failure of the member)."""


class StopOnNonFinite(Callback):
    """Stop the member as soon as a training loss is not finite (instead of training on)."""

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        if loss is not None and not bool(torch.isfinite(torch.as_tensor(loss)).all()):
            raise NonFiniteLoss(f"non-finite training loss at epoch {trainer.current_epoch}, "
                                f"batch {batch_idx}")


class MemberHooks(Callback):
    """Re-apply the member's HPs after any restore (also sets the optimiser's lr)."""

    def __init__(self, task: MemberTask) -> None:
        self.task = task

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        pl_module.set_hparams(**self.task.hps)


def build_model(model_cfg: Mapping[str, Any], train: Mapping[str, np.ndarray],
                hps: Mapping[str, float]) -> Any:
    from neurodyn.models.lfads import LFADS

    return LFADS(LFADS.hparams_for_data(train, **model_cfg, **hps))


def train_member(task: MemberTask, train: Mapping[str, np.ndarray],
                 valid: Mapping[str, np.ndarray], model_cfg: Mapping[str, Any],
                 batch_size: int, metric: str, workdir: Path, *, settings: TrainSettings,
                 callbacks: Sequence[Callback] = ()) -> MemberResult:
    """Run one generation of ``task`` in ``workdir`` (resuming its ``last.ckpt``); write the
    checkpoint handed on to the next generation to ``workdir/member.ckpt``.

    A numeric failure (non-finite loss or selection metric) is recorded as ``status="failed"``
    with a NaN score, and the starting checkpoint is handed on, so the selection replaces the
    member by a clone instead of losing it. Other errors (out of memory, I/O) are raised."""
    from neurodyn.models.lfads import GRAD_CLIP
    from neurodyn.models.lfads_data import LFADSDataModule, SeedPerBatch

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    own = resume_point(workdir)
    start = "parent" if task.parent_ckpt is not None else "scratch"
    torch.manual_seed(task.seed)
    model = build_model(model_cfg, train, task.hps)
    trainer, _ = make_trainer(
        settings, max_epochs=task.target_epochs, workdir=workdir,
        label=f"member {task.member} gen {task.generation}", progress_keys=PROGRESS_KEYS,
        callbacks=[MemberHooks(task), SeedPerBatch(task.seed), StopOnNonFinite(), *callbacks],
        gradient_clip_val=GRAD_CLIP)
    data = LFADSDataModule(train, valid, batch_size, seed=task.seed,
                           valid_batch_size=VALID_BATCH)
    result = MemberResult(task.member, task.generation, task.parent, dict(task.hps), task.seed,
                          task.target_epochs, math.nan, "failed", start,
                          resumed_own=own is not None)
    try:
        fit_resumable(trainer, model, workdir, datamodule=data, ckpt_path=task.parent_ckpt)
        result.history = [plain_record(r) for r in model.history]
        last = model.history[-1] if model.history else {}
        score = float(last.get(metric, math.nan))
        if math.isfinite(score):
            result.score, result.status = score, "ok"
        else:
            result.error = f"non-finite {metric}"
    except FloatingPointError as exc:  # numeric failure only; OOM, OSError etc. propagate
        log.warning("member %d generation %d failed: %s", task.member, task.generation, exc)
        result.history = [plain_record(r) for r in model.history]
        result.error = f"{type(exc).__name__}: {exc}"
    hand_on(task, model, workdir, trained=workdir / LAST if result.status == "ok" else None)
    return result


def member_runner(workdir: str | Path, cfg: Mapping[str, Any], settings: TrainSettings,
                  code: str, data_path: str | Path, label: str = "") -> FitRunner:
    """The fit runner of a group of members (one generation's chunk, the fixed-HP baseline,
    a Ray trial): keyed by :meth:`MemberTask.spec`, :func:`member_fit_config`, ``code`` and
    the content of the data file."""
    return FitRunner(workdir, config=member_fit_config(cfg, settings), code=code,
                     inputs=[data_path], label=label)


def train_members(runner: FitRunner, tasks: Sequence[MemberTask],
                  train: Mapping[str, np.ndarray], valid: Mapping[str, np.ndarray],
                  cfg: Mapping[str, Any], settings: TrainSettings,
                  callbacks: Sequence[Callback] = ()) -> list[tuple[dict[str, Any], Path]]:
    """Train each task as a keyed fit of ``runner`` (a finished fit with the same key is
    reused): on the CPU all unfinished ones as one batched population
    (:mod:`neurodyn.autolfads.member_population`), else (or with Lightning ``callbacks``) one
    by one through the shared trainer. Return every task's record and the path of the
    checkpoint it hands on."""
    from neurodyn.models import use_lfads_population

    by_id = {t.fit_id: t for t in tasks}
    if use_lfads_population(settings) and not callbacks:
        from neurodyn.autolfads.member_population import train_population

        def together(fits: list[PlannedFit]) -> list[dict[str, Any]]:
            group = [by_id[f.fit_id] for f in fits]
            log.info("training %d members as one population", len(group))
            results = train_population(group, train, valid, cfg["model"], cfg["batch_size"],
                                       cfg["metric"], [f.dir for f in fits], settings.progress)
            for result in results:
                log.info("member%d gen %d: %s, score %s", result.member, result.generation,
                         result.status, result.to_json()["score"])
            return [r.to_json() for r in results]

        records = runner.run_batched([(t.fit_id, t.spec()) for t in tasks], together)
        return [(r, runner.workdir / r["fit_id"] / r["fit_key"] / MEMBER_CKPT)
                for r in records]

    def one(fit: PlannedFit) -> dict[str, Any]:
        result = train_member(by_id[fit.fit_id], train, valid, cfg["model"], cfg["batch_size"],
                              cfg["metric"], fit.dir, settings=settings, callbacks=callbacks)
        log.info("%s gen %d: %s, score %s (from %s%s)", fit.fit_id, result.generation,
                 result.status, result.to_json()["score"], result.start,
                 ", resumed its own last.ckpt" if result.resumed_own else "")
        return result.to_json()

    records = runner.run([(t.fit_id, t.spec()) for t in tasks], one)
    return [(r, runner.workdir / r["fit_id"] / r["fit_key"] / MEMBER_CKPT) for r in records]


def hand_on(task: MemberTask, model: Any, workdir: Path, trained: Path | None) -> None:
    """``workdir/member.ckpt``: the ``trained`` checkpoint, or (None: failed) the state the
    member started from."""
    start = trained if trained is not None else (
        Path(task.parent_ckpt) if task.parent_ckpt else None)
    with atomic_path(workdir / MEMBER_CKPT) as tmp:
        if start is not None:
            shutil.copyfile(start, tmp)
        else:  # a failed generation-0 member: an untrained model, never selected as a parent
            torch.save({"state_dict": model.state_dict(),
                        "lfads_hparams": dict(model.hparams)}, tmp)


def plain_record(record: Mapping[str, Any]) -> dict[str, float | None]:
    """An epoch record as JSON values (non-finite: None)."""
    return {k: (float(v) if v is not None and math.isfinite(float(v)) else None)
            for k, v in record.items()}


def load_member(ckpt: str | Path, model_cfg: Mapping[str, Any],
                train: Mapping[str, np.ndarray]) -> Any:
    """An LFADS model with the weights and HPs of a member checkpoint (for evaluation)."""
    state = load_weights(ckpt)
    hps = {k: v for k, v in state.get("lfads_hparams", {}).items()}
    from neurodyn.models.lfads import LFADS

    model = LFADS({**LFADS.hparams_for_data(train, **model_cfg), **hps})
    model.load_state_dict(state["state_dict"])
    return model
