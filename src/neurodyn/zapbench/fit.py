"""The step-based training of trace models and the UNet, on the shared Lightning trainer.

AdamW on an MAE loss; the learning rate follows ``FitConfig.lr_at`` (constant, cosine, or
decayed on validation plateaus); validation before the first step and every ``val_every``
steps (and at ``max_steps``); early stopping on the validation loss (patience in
validations, minimum improvement); the best-validation weights (the initial ones included)
are returned, or the last ones with ``select_best=False`` (validation data that is also
trained on). With ``ema_decay`` > 0 an exponential moving average of the weights (updated
after every step) is what is validated, selected and returned; training itself is unchanged.

One Lightning "epoch" is one validation round of ``val_every`` steps, so the shared trainer's
``last.ckpt`` (the resume point), ``metrics.csv`` row and progress line come once per round.
Window sampling uses a seeded ``torch.Generator`` whose state travels in the checkpoint, so a
resumed fit draws the same batches as an uninterrupted one. The best weights are kept by the
module (and its checkpoint), not by a ``best.ckpt``: the initial weights can be the best.
"""

from __future__ import annotations

import copy
import logging
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn

from neurodyn.train.device import TrainSettings
from neurodyn.train.trainer import fit_resumable, make_trainer

log = logging.getLogger("neurodyn")
STATE = "zapbench_fit"


@dataclass(frozen=True)
class FitConfig:
    """Optimisation settings (``zapbench.trace.train`` / ``zapbench.unet.train``)."""

    max_steps: int = 3000
    val_every: int = 100
    patience: int = 15
    min_delta: float = 1e-4
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 1e-4
    # "constant"; "cosine" (decay to lr * final_lr_factor over max_steps); or "plateau":
    # lr *= plateau_factor after every plateau_patience validations without improvement,
    # floored at lr * final_lr_factor (early stopping after `patience` of them)
    schedule: str = "constant"
    final_lr_factor: float = 1e-3
    plateau_patience: int = 2
    plateau_factor: float = 0.5
    # False: no checkpoint selection and no early stopping (the last weights are returned),
    # for fits whose validation data is part of their training data (train+val)
    select_best: bool = True
    # > 0: validate, select and return an exponential moving average of the weights,
    # ema ← decay·ema + (1 − decay)·weights after every step (0: the weights themselves)
    ema_decay: float = 0.0

    @classmethod
    def from_dict(cls, cfg: dict[str, Any]) -> FitConfig:
        return cls(**cfg)

    def lr_at(self, step: int, plateaus: int = 0) -> float:
        """The learning rate at ``step`` after ``plateaus`` plateau decays."""
        if self.schedule == "constant":
            return self.lr
        if self.schedule == "plateau":
            return self.lr * max(self.plateau_factor ** plateaus, self.final_lr_factor)
        progress = min(step / max(self.max_steps, 1), 1.0)
        low = self.lr * self.final_lr_factor
        return low + 0.5 * (self.lr - low) * (1 + math.cos(math.pi * progress))

    @property
    def rounds(self) -> int:
        """Validation rounds after the initial one (Lightning epochs)."""
        return -(-self.max_steps // self.val_every)


@dataclass
class FitResult:
    best_val: float
    best_step: int
    steps: int
    stopped_early: bool
    history: list[tuple[int, float]]

    @property
    def initial_val(self) -> float:
        """Validation loss before the first step."""
        return self.history[0][1]


class _Steps(torch.utils.data.Dataset):
    """``n`` placeholder batches: the training loss draws its own windows."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


def _loader(n: int) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(_Steps(n), batch_size=None, shuffle=False)


class StepFit(L.LightningModule):
    """Wraps ``model`` with a sampling training loss and a validation loss."""

    def __init__(self, model: nn.Module, train_loss: Callable[[nn.Module, torch.Generator],
                                                              Tensor],
                 val_loss: Callable[[nn.Module], float], cfg: FitConfig, seed: int,
                 label: str = "") -> None:
        super().__init__()
        self.model, self.cfg, self.label = model, cfg, label
        self._train_loss, self._val_loss = train_loss, val_loss
        self.gen = torch.Generator().manual_seed(int(seed))
        self.history: list[tuple[int, float]] = []
        self.best_val, self.best_step, self.bad, self.plateaus = math.inf, 0, 0, 0
        self.best_state: dict[str, Tensor] | None = None
        self.ema: dict[str, Tensor] | None = None
        self._val = math.nan

    # ---------------------------------------------------------------- data and optimiser
    def train_dataloader(self) -> torch.utils.data.DataLoader:
        """The steps of the current round (reloaded every round; the last may be short)."""
        done = self.current_epoch * self.cfg.val_every
        return _loader(max(min(self.cfg.val_every, self.cfg.max_steps - done), 1))

    def val_dataloader(self) -> torch.utils.data.DataLoader:
        return _loader(1)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        # fused: one kernel for all parameters (the per-tensor loop cost ~10 % of a
        # miniature UNet step on CPU); the same AdamW update
        return torch.optim.AdamW(self.model.parameters(), lr=self.cfg.lr,
                                 weight_decay=self.cfg.weight_decay, fused=True)

    # ---------------------------------------------------------------- steps
    def validate_initial(self) -> None:
        """Validate the initial weights (step 0) of a fresh fit."""
        if self.history:
            return
        self.model.eval()
        with torch.no_grad():
            self._record(0, float(self._val_loss(self.model)))
        self.model.train()
        log.info("%s step 0/%d val_loss %.4g", self.label, self.cfg.max_steps,
                 self.history[0][1])

    def on_train_start(self) -> None:
        self.validate_initial()
        if self.bad >= self.cfg.patience:  # resumed after it had stopped early
            self.trainer.should_stop = True

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        for group in self.trainer.optimizers[0].param_groups:
            group["lr"] = self.cfg.lr_at(self.global_step, self.plateaus)

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        loss = self._train_loss(self.model, self.gen)
        self.log("train_loss", loss.detach(), on_step=False, on_epoch=True, batch_size=1)
        return loss

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.cfg.ema_decay <= 0:
            return
        with torch.no_grad():
            state = self.model.state_dict()
            if self.ema is None:  # starts at the weights after the first step
                self.ema = {k: v.detach().clone() for k, v in state.items()}
                return
            for k, v in state.items():
                if v.is_floating_point():
                    self.ema[k].lerp_(v, 1 - self.cfg.ema_decay)
                else:
                    self.ema[k].copy_(v)

    def _weights(self) -> dict[str, Tensor]:
        """The weights that are validated, selected and returned (the average with EMA)."""
        return self.ema if self.ema is not None else self.model.state_dict()

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        if self.ema is None:
            self._val = float(self._val_loss(self.model))
        else:
            current = copy.deepcopy(self.model.state_dict())
            self.model.load_state_dict(self.ema)
            self._val = float(self._val_loss(self.model))
            self.model.load_state_dict(current)
        self.log("val_loss", self._val, batch_size=1)

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            return
        self._record(self.global_step, self._val)
        if self.bad >= self.cfg.patience:
            self.trainer.should_stop = True

    def _record(self, step: int, val: float) -> None:
        self.history.append((step, val))
        if not self.cfg.select_best:  # the last weights, whatever the validation says
            self.best_val, self.best_step, self.bad = val, step, 0
            self.best_state = None if self.ema is None else copy.deepcopy(self.ema)
        elif val < self.best_val - self.cfg.min_delta:
            self.best_val, self.best_step, self.bad = val, step, 0
            self.best_state = copy.deepcopy(self._weights())
        else:
            self.bad += 1
            if self.bad % max(self.cfg.plateau_patience, 1) == 0:
                self.plateaus += 1  # used by the "plateau" schedule only

    # ---------------------------------------------------------------- checkpoint state
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[STATE] = {"generator": self.gen.get_state(),
                             "history": [list(h) for h in self.history],
                             "best_val": self.best_val, "best_step": self.best_step,
                             "bad": self.bad, "plateaus": self.plateaus,
                             "best_model": self.best_state, "ema": self.ema}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint[STATE]
        self.gen.set_state(state["generator"])
        self.history = [(int(s), float(v)) for s, v in state["history"]]
        self.best_val, self.best_step = float(state["best_val"]), int(state["best_step"])
        self.bad, self.best_state = int(state["bad"]), state["best_model"]
        self.plateaus = int(state.get("plateaus", 0))
        self.ema = state.get("ema")

    def result(self) -> FitResult:
        steps = self.history[-1][0] if self.history else 0
        # the patience rule met, also when that happened at the last validation (at the
        # step cap): the validation loss had stopped improving either way
        return FitResult(best_val=self.best_val, best_step=self.best_step, steps=steps,
                         stopped_early=self.bad >= self.cfg.patience,
                         history=list(self.history))


def fit(model: nn.Module, train_loss: Callable[[nn.Module, torch.Generator], Tensor],
        val_loss: Callable[[nn.Module], float], cfg: FitConfig, seed: int,
        settings: TrainSettings, workdir: Path | None = None, label: str = "") -> FitResult:
    """Train ``model`` in place with the shared trainer; on return it holds the
    best-validation weights, on ``settings.device``, in eval mode. With ``workdir`` the fit
    checkpoints there every round and resumes from its ``last.ckpt``."""
    module = StepFit(model, train_loss, val_loss, cfg, seed, label)
    if cfg.max_steps == 0:  # nothing to train: the initial weights, validated once
        module.to(settings.device)
        module.validate_initial()
    else:
        trainer, _ = make_trainer(settings, max_epochs=cfg.rounds,
                                  workdir=workdir, label=label,
                                  reload_dataloaders_every_n_epochs=1, log_every_n_steps=1)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*does not have many workers.*")
            fit_resumable(trainer, module, workdir)
    if module.best_state is not None:
        model.load_state_dict(module.best_state)
    model.to(settings.device).eval()
    return module.result()
