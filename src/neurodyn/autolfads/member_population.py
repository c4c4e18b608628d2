"""Train a group of PBT members (one generation's chunk, a random-search chunk) as one batched
population on the CPU (:class:`neurodyn.models.lfads_population_fit.PopulationFit`).

Per member it does what :func:`neurodyn.autolfads.member.train_member` does through the
shared trainer, in one process for all: the same initial weights (``torch.manual_seed`` of the
task's seed) or the parent checkpoint's weights, AdamW moments, epoch count, history,
smoothing and LR state; the member's HPs applied after the restore; batches and random draws
seeded from (seed, epoch, batch); the last epoch's weights and optimiser state handed on in
``member.ckpt`` with the keys of a lone Lightning checkpoint that a restore reads
(``state_dict``, ``optimizer_states``, ``lfads_*``): it continues lone checkpoints too, but
Lightning does not continue its checkpoints. Member p follows its lone trajectory up to
floating-point summation order.

Differences from the lone path: a member whose training loss becomes non-finite trains on to
the end of the generation (its own weights only; members never interact) and is then marked
failed, as the lone path marks it at the failing batch; a killed job retrains its unfinished
members from their parents (the lone path resumes each from its ``last.ckpt``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neurodyn.autolfads.member import (
    MEMBER_CKPT,
    PROGRESS_KEYS,
    MemberResult,
    MemberTask,
    build_model,
    hand_on,
    plain_record,
)
from neurodyn.io.atomic import atomic_path
from neurodyn.train.runtime import load_weights

log = logging.getLogger("neurodyn")


def start_model(task: MemberTask, train: Mapping[str, np.ndarray],
                model_cfg: Mapping[str, Any]) -> tuple[Any, dict[str, Any] | None]:
    """The member's model at the start of its generation (fresh, or its parent's weights,
    HPs, history, smoothing and LR state) and the parent's AdamW state (None when fresh)."""
    torch.manual_seed(task.seed)
    model = build_model(model_cfg, train, task.hps)
    if task.parent_ckpt is None:
        return model, None
    state = load_weights(task.parent_ckpt)
    model.load_state_dict(state["state_dict"])
    model.on_load_checkpoint(state)
    optimizers = state.get("optimizer_states") or [None]
    return model, optimizers[0]


def train_population(tasks: Sequence[MemberTask], train: Mapping[str, np.ndarray],
                     valid: Mapping[str, np.ndarray], model_cfg: Mapping[str, Any],
                     batch_size: int, metric: str, workdirs: Sequence[Path],
                     progress: bool = True) -> list[MemberResult]:
    """Train ``tasks`` (all ending at the same epoch) together; write each member's
    ``workdirs[i]/member.ckpt``; return their results, in order."""
    from neurodyn.models.lfads_population_fit import PopulationFit

    targets = {t.target_epochs for t in tasks}
    if len(targets) != 1:
        raise ValueError(f"members trained together must end at one epoch, not {targets}")
    starts = [start_model(t, train, model_cfg) for t in tasks]
    labels = [f"member {t.member} gen {t.generation}" for t in tasks]
    fit = PopulationFit([m for m, _ in starts], [t.seed for t in tasks], [metric] * len(tasks),
                        train, valid, batch_size, labels=labels if progress else None,
                        progress_keys=PROGRESS_KEYS, keep="last")
    first_epoch = []
    for p, (task, (model, adam)) in enumerate(zip(tasks, starts, strict=True)):
        if task.parent_ckpt is not None:
            fit.resume(p, model, adam)
        fit.set_hparams(p, **task.hps)
        first_epoch.append(fit.members[p].epoch)
    done = fit.fit(targets.pop())
    return [_finish(task, trained, first, Path(workdir), metric)
            for task, trained, first, workdir in zip(tasks, done, first_epoch, workdirs,
                                                      strict=True)]


def _finish(task: MemberTask, trained: Any, first_epoch: int, workdir: Path,
            metric: str) -> MemberResult:
    """The member's record; its checkpoint handed on (the trained state when every training
    loss of the generation and the final metric are finite, else what it started from)."""
    model = trained.model
    start = "parent" if task.parent_ckpt is not None else "scratch"
    result = MemberResult(task.member, task.generation, task.parent, dict(task.hps), task.seed,
                          task.target_epochs, math.nan, "failed", start,
                          history=[plain_record(r) for r in model.history])
    losses = [r.get("train/loss", math.nan) for r in model.history[first_epoch:]]
    score = float(model.history[-1].get(metric, math.nan)) if model.history else math.nan
    if not all(math.isfinite(v) for v in losses):
        result.error = "NonFiniteLoss: non-finite training loss"
    elif not math.isfinite(score):
        result.error = f"non-finite {metric}"
    else:
        result.score, result.status = score, "ok"
    workdir.mkdir(parents=True, exist_ok=True)
    if result.status == "ok":
        ckpt = {"state_dict": model.state_dict(), "optimizer_states": [trained.adam],
                "epoch": int(model.history[-1]["epoch"])}
        model.on_save_checkpoint(ckpt)
        with atomic_path(workdir / MEMBER_CKPT) as tmp:
            torch.save(ckpt, tmp)
    else:
        log.warning("member %d generation %d failed: %s", task.member, task.generation,
                    result.error)
        hand_on(task, model, workdir, trained=None)
    return result
