"""Train one PBT member of LFADS for one generation; shared by the Snakemake and Ray backends.

A member's generation starts from (a) its own mid-generation checkpoint when a killed run left
one, else (b) the checkpoint of the parent chosen by the previous selection (itself or the
tournament winner it clones: weights, optimiser state, LFADS smoothing history and epoch
counters), else (c) a fresh model (generation 0). After restoring, the member's own
hyperparameters are applied again (``LFADS.set_hparams``, which also pushes the learning rate
into the restored optimiser). Every training batch reseeds torch from (seed, epoch, batch),
trials are shuffled from (seed, epoch), and a checkpoint is written at every epoch end, so a
killed member resumes with the same result as an uninterrupted one. Checkpoints hold tensors
and plain types only and are read with ``weights_only=True``.
"""

from __future__ import annotations

import logging
import math
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from torch.utils.data import DataLoader, Dataset, Sampler

from neurodyn.io.atomic import atomic_path
from neurodyn.train.runtime import load_weights

log = logging.getLogger("neurodyn")

BATCH_KEYS = ("encod_data", "recon_data", "sv_mask", "ext_input")
TAG_KEY = "autolfads_member"


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

    def tag(self) -> dict[str, int]:
        return {"member": self.member, "generation": self.generation,
                "parent": -1 if self.parent is None else self.parent}


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
    resumed_from: str  # "own" | "parent" | "scratch"
    history: list[dict[str, float]] = field(default_factory=list)
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["score"] = None if not math.isfinite(self.score) else self.score
        return out


def epoch_seed(seed: int, *step: int) -> int:
    return int(np.random.SeedSequence([int(seed), *map(int, step)]).generate_state(1)[0])


class EpochShuffle(Sampler[list[int]]):
    """Batches of trial indices, shuffled from (seed, epoch) so a resumed epoch matches."""

    def __init__(self, n: int, batch_size: int, seed: int) -> None:
        self.n, self.batch_size, self.seed, self.epoch = n, batch_size, seed, 0

    def set_epoch(self, epoch: int) -> None:  # called by Lightning at every epoch start
        self.epoch = epoch

    def __iter__(self) -> Iterator[list[int]]:
        order = np.random.default_rng(epoch_seed(self.seed, self.epoch)).permutation(self.n)
        for start in range(0, self.n, self.batch_size):
            yield order[start:start + self.batch_size].tolist()

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)


class _DictBatches(Dataset):
    """Dict batches (the LFADS batch layout) of a list of trial indices."""

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.tensors = {k: torch.as_tensor(np.asarray(arrays[k])) for k in BATCH_KEYS
                        if k in arrays}
        self.n = int(self.tensors["encod_data"].shape[0])

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, idx: list[int]) -> dict[str, torch.Tensor]:
        return {k: v[idx] for k, v in self.tensors.items()}


def loader(arrays: Mapping[str, np.ndarray], batch_size: int, seed: int | None) -> DataLoader:
    """Shuffled (seed given) or sequential dict batches of ``arrays``."""
    data = _DictBatches(arrays)
    if seed is None:
        batches: Any = [list(range(s, min(s + batch_size, data.n)))
                        for s in range(0, data.n, batch_size)]
    else:
        batches = EpochShuffle(data.n, batch_size, seed)
    return DataLoader(data, sampler=batches, batch_size=None)


class MemberHooks(Callback):
    """Re-apply the member's HPs after any restore, reseed every batch, tag checkpoints."""

    def __init__(self, task: MemberTask) -> None:
        self.task = task

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        pl_module.set_hparams(**self.task.hps)  # after the restore: also sets the optimiser lr

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any,
                             batch_idx: int) -> None:
        torch.manual_seed(epoch_seed(self.task.seed, trainer.current_epoch, batch_idx))

    def on_validation_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        torch.manual_seed(epoch_seed(self.task.seed, trainer.current_epoch, 1 << 30))

    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict) -> None:
        checkpoint[TAG_KEY] = self.task.tag()


class EpochEndCheckpoint(ModelCheckpoint):
    """Write ``path`` at every epoch end (after validation and the module's epoch hooks);
    Lightning writes it atomically. Being a ModelCheckpoint, it also stops Lightning from
    adding its default one."""

    def __init__(self, path: Path) -> None:
        super().__init__(dirpath=path.parent, save_top_k=0, save_last=False)
        self.path = path
        # Lightning notes at every save that it writes a full checkpoint: keep logs readable
        logging.getLogger("lightning.pytorch.trainer.connectors.checkpoint_connector").setLevel(
            logging.WARNING)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        trainer.save_checkpoint(self.path)  # full: weights, optimiser, loops, callbacks

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        pass

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        pass  # nothing to restore (the parent's checkpoint names another folder)


def _resume_point(task: MemberTask, workdir: Path) -> tuple[str | None, str]:
    own = workdir / "last.ckpt"
    if own.exists():
        try:
            if load_weights(own).get(TAG_KEY) == task.tag():
                return str(own), "own"
        except Exception as exc:  # a truncated file from a killed job: start the generation over
            log.warning("ignoring unreadable %s (%s)", own, exc)
        own.unlink()
    if task.parent_ckpt is not None:
        return task.parent_ckpt, "parent"
    return None, "scratch"


def build_model(model_cfg: Mapping[str, Any], train: Mapping[str, np.ndarray],
                hps: Mapping[str, float]) -> Any:
    from neurodyn.models.lfads import LFADS

    return LFADS(LFADS.hparams_for_data(train, **model_cfg, **hps))


def train_member(task: MemberTask, train: Mapping[str, np.ndarray],
                 valid: Mapping[str, np.ndarray], model_cfg: Mapping[str, Any],
                 batch_size: int, metric: str, workdir: Path, out_ckpt: Path,
                 accelerator: str = "cpu", extra_callbacks: list | None = None) -> MemberResult:
    """Run one generation of ``task``; write its final checkpoint to ``out_ckpt``.

    A training failure (an exception, or a non-finite selection metric) is recorded as
    ``status="failed"`` with a NaN score, and the starting checkpoint is passed on, so the
    selection replaces the member by a clone instead of losing it.
    """
    from neurodyn.models.lfads import make_trainer

    workdir.mkdir(parents=True, exist_ok=True)
    resume, source = _resume_point(task, workdir)
    torch.manual_seed(task.seed)
    model = build_model(model_cfg, train, task.hps)
    saver = EpochEndCheckpoint(workdir / "last.ckpt")
    trainer = make_trainer(task.target_epochs, accelerator=accelerator,
                           callbacks=[MemberHooks(task), *(extra_callbacks or []), saver],
                           default_root_dir=str(workdir),
                           deterministic=True)
    result = MemberResult(task.member, task.generation, task.parent, dict(task.hps), task.seed,
                          task.target_epochs, math.nan, "failed", source)
    try:
        trainer.fit(model, loader(train, batch_size, task.seed), loader(valid, 512, None),
                    ckpt_path=resume, weights_only=True)
        last = model.history[-1] if model.history else {}
        score = float(last.get(metric, math.nan))
        result.history = [_plain(r) for r in model.history]
        if math.isfinite(score):
            result.score, result.status = score, "ok"
        else:
            result.error = f"non-finite {metric}"
    except (RuntimeError, ValueError, FloatingPointError) as exc:
        log.exception("member %d generation %d failed", task.member, task.generation)
        result.error = f"{type(exc).__name__}: {exc}"
    final = workdir / "last.ckpt"
    start = final if result.status == "ok" and final.exists() else (
        Path(resume) if resume else None)
    with atomic_path(out_ckpt) as tmp:
        if start is not None and start.exists():
            shutil.copyfile(start, tmp)
        else:  # a failed generation-0 member: an untrained model, never selected as a parent
            torch.save({"state_dict": model.state_dict(), TAG_KEY: task.tag()}, tmp)
    return result


def _plain(record: Mapping[str, Any]) -> dict[str, float]:
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
