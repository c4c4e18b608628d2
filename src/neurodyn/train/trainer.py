"""The one Lightning trainer factory of every study: device, precision, determinism,
checkpoint and resume, a progress line per epoch and a per-fit metrics CSV.

    trainer, ckpts = make_trainer(settings, max_epochs=50, workdir=fit_dir, monitor="val_loss")
    fit_resumable(trainer, module, fit_dir, train_loader, val_loader)
    best = ckpts.best_path()   # None without ``monitor``
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback, ModelCheckpoint

from neurodyn.train.callbacks import MetricsCSV, ProgressLine
from neurodyn.train.device import TrainSettings
from neurodyn.train.runtime import load_weights, quiet_lightning

log = logging.getLogger("neurodyn")
LAST = "last.ckpt"
BEST = "best.ckpt"
METRICS = "metrics.csv"


@dataclass
class Checkpoints:
    """Where a trainer keeps its checkpoints."""

    workdir: Path | None
    best: ModelCheckpoint | None = None

    @property
    def last_path(self) -> Path | None:
        return self.workdir / LAST if self.workdir else None

    def best_path(self) -> Path | None:
        if self.best is None or not self.best.best_model_path:
            return None
        return Path(self.best.best_model_path)


def make_trainer(settings: TrainSettings, *, max_epochs: int, workdir: Path | None = None,
                 monitor: str | None = None, mode: str = "min", label: str = "",
                 callbacks: Sequence[Callback] = (), progress_keys: tuple[str, str] = (
                     "train_loss", "val_loss"), **kwargs: Any) -> tuple[L.Trainer, Checkpoints]:
    """A Lightning trainer for one fit.

    With ``workdir``: ``last.ckpt`` after every epoch (the resume point), ``metrics.csv``
    (one row per epoch) and, with ``monitor``, ``best.ckpt`` (the best epoch by ``monitor``).
    ``kwargs`` go to ``L.Trainer`` (e.g. ``gradient_clip_val``,
    ``reload_dataloaders_every_n_epochs``)."""
    if "max_steps" in kwargs:
        # Lightning counts a resumed step-limited fit one epoch short: express step budgets
        # as epochs of a fixed number of batches instead (as the ZAPBench fits do).
        raise ValueError("make_trainer: pass max_epochs, not max_steps (resume would lose "
                         "an epoch)")
    quiet_lightning()
    extra: list[Callback] = []
    ckpts = Checkpoints(Path(workdir) if workdir else None)
    if ckpts.workdir is not None:
        ckpts.workdir.mkdir(parents=True, exist_ok=True)
        extra.append(ModelCheckpoint(dirpath=ckpts.workdir, filename=Path(LAST).stem,
                                     save_top_k=-1, every_n_epochs=1, save_last=False,
                                     enable_version_counter=False))
        if monitor is not None:
            ckpts.best = ModelCheckpoint(dirpath=ckpts.workdir, filename=Path(BEST).stem,
                                         monitor=monitor, mode=mode, save_top_k=1,
                                         save_last=False, enable_version_counter=False)
            extra.append(ckpts.best)
        extra.append(MetricsCSV(ckpts.workdir / METRICS))
    if settings.progress:
        extra.append(ProgressLine(label, *progress_keys))
    options = {"logger": False, "enable_progress_bar": False, "enable_model_summary": False,
               "num_sanity_val_steps": 0, **kwargs}
    trainer = L.Trainer(max_epochs=max_epochs, accelerator=settings.accelerator, devices=1,
                        precision=settings.effective_precision,
                        deterministic=settings.deterministic,
                        enable_checkpointing=ckpts.workdir is not None,
                        callbacks=[*callbacks, *extra], **options)
    return trainer, ckpts


def resume_point(workdir: Path | None) -> Path | None:
    """``workdir/last.ckpt`` when it exists and loads; a truncated one (a killed job) is
    removed so the fit starts over."""
    if workdir is None:
        return None
    last = Path(workdir) / LAST
    if not last.exists():
        return None
    try:
        load_weights(last)
    except Exception as exc:  # noqa: BLE001  (any unreadable file means: start over)
        log.warning("ignoring unreadable checkpoint %s (%s); training from scratch", last, exc)
        last.unlink()
        return None
    log.info("resuming from %s", last)
    return last


def fit_resumable(trainer: L.Trainer, module: L.LightningModule, workdir: Path | None,
                  *loaders: Any, datamodule: Any = None,
                  ckpt_path: str | Path | None = None) -> None:
    """``trainer.fit`` from ``workdir/last.ckpt`` when present (else from ``ckpt_path``, e.g.
    a PBT parent), loading checkpoints with ``weights_only=True``."""
    start = resume_point(workdir) or ckpt_path
    trainer.fit(module, *loaders, datamodule=datamodule,
                ckpt_path=str(start) if start else None, weights_only=True)
