"""Next-step prediction training (Simeon et al. 2024, §4.1) as a LightningModule.

Masked MSE over labeled neurons; the naive baseline loss (prediction = current input) is
logged beside the validation loss; AdamW, ReduceLROnPlateau on the validation loss, early
stopping, the best-validation weights kept; per-source validation losses after the fit.

As in the paper's code, an epoch's validation loss is the mean over validation batches (of
``batch_size`` windows, in a fixed order) of each batch's masked MSE; ``min_val_loss`` is that
monitored loss at the best epoch (recomputed on the restored best weights, with the same
batches in the same order), and ``val_baseline`` the naive predictor's loss averaged the
same way. The per-source columns pool every entry of a source (a batch mixes sources).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from neurodyn.eval.losses import masked_mse
from neurodyn.scaling.models import count_parameters
from neurodyn.scaling.windows import Windows
from neurodyn.train.callbacks import RelativeEarlyStopping
from neurodyn.train.device import TrainSettings
from neurodyn.train.runtime import load_weights
from neurodyn.train.trainer import fit_resumable, make_trainer


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (config key ``scaling.train``; paper defaults)."""

    max_epochs: int = 500
    patience: int = 100
    batch_size: int = 128
    lr: float = 1e-3
    lr_factor: float = 0.1
    lr_patience: int = 10
    min_delta: float = 0.0  # relative improvement that resets early stopping (paper: 0)


class NextStepModule(L.LightningModule):
    """Wraps a scaling model: x (B, L, 302), mask (B, 302) → next-step prediction."""

    def __init__(self, model: nn.Module, cfg: TrainConfig) -> None:
        super().__init__()
        self.model = model
        self.cfg = cfg

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        return self.model(x, mask)

    def _step(self, batch: tuple[Tensor, ...], stage: str) -> Tensor:
        x, y, mask = batch
        loss = masked_mse(self(x, mask), y, mask)
        # batch_size=1: the epoch value is the plain mean over batches (the paper's metric)
        self.log(f"{stage}_loss", loss, on_epoch=True, on_step=False, batch_size=1)
        if stage == "val":  # the naive baseline beside the validation loss (no cost per step)
            self.log("val_baseline", masked_mse(x, y, mask), on_epoch=True, on_step=False,
                     batch_size=1)
        return loss

    def training_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> None:
        self._step(batch, "val")

    def configure_optimizers(self) -> dict[str, Any]:
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg.lr)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=self.cfg.lr_factor, patience=self.cfg.lr_patience)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val_loss",
                                                   "interval": "epoch"}}


def _tensors(w: Windows) -> TensorDataset:
    return TensorDataset(torch.from_numpy(w.x), torch.from_numpy(w.y),
                         torch.from_numpy(w.mask.astype(np.float32)))


def evaluate(model: nn.Module, w: Windows, batch_size: int) -> dict[str, float]:
    """Masked MSE and naive baseline on ``w``: ``val_loss``/``val_baseline`` as the mean over
    batches of ``batch_size`` windows in order (the monitored metric), and per source dataset
    pooled over all its (window, step, labeled neuron) entries.

    The model runs on the device of its parameters; the sums are taken on the CPU.
    """
    model.eval()
    device = next(model.parameters(), torch.empty(0)).device
    sums: dict[str, np.ndarray] = {}
    batch_means = []
    with torch.no_grad():
        for start in range(0, len(w), batch_size):
            sl = slice(start, start + batch_size)
            x, y = torch.from_numpy(w.x[sl]), torch.from_numpy(w.y[sl])
            mask = torch.from_numpy(w.mask[sl].astype(np.float32))
            m = mask[:, None, :].expand_as(y)
            pred = model(x.to(device), mask.to(device)).float().cpu()
            err = ((pred - y) ** 2 * m).sum((1, 2)).numpy()
            base = ((x - y) ** 2 * m).sum((1, 2)).numpy()
            n = m.sum((1, 2)).numpy()
            batch_means.append((err.sum() / n.sum(), base.sum() / n.sum()))
            for src, e, b, k in zip(w.source[sl], err, base, n, strict=True):
                acc = sums.setdefault(str(src), np.zeros(3))
                acc += (e, b, k)
    loss, baseline = np.mean(batch_means, axis=0)
    out = {"val_loss": float(loss), "val_baseline": float(baseline)}
    for src, (e, b, k) in sorted(sums.items()):
        out[f"val_loss__{src}"] = e / k
        out[f"val_baseline__{src}"] = b / k
    return out


def fit_next_step(model: nn.Module, train: Windows, val: Windows, cfg: TrainConfig,
                  workdir: Path, seed: int, settings: TrainSettings, label: str = ""
                  ) -> dict[str, Any]:
    """Train ``model`` in ``workdir`` with the shared trainer (resuming from its
    ``last.ckpt``), restore the best-validation weights and return its metrics. Models
    without trainable parameters are only evaluated."""
    record: dict[str, Any] = {"n_params": count_parameters(model), "best_epoch": 0,
                              "epochs_run": 0, "stopped_early": None}
    if any(p.requires_grad for p in model.parameters()):
        module = NextStepModule(model, cfg)
        gen = torch.Generator().manual_seed(int(seed))
        loader = DataLoader(_tensors(train), batch_size=cfg.batch_size, shuffle=True,
                            generator=gen)
        val_loader = DataLoader(_tensors(val), batch_size=cfg.batch_size)
        stop = RelativeEarlyStopping("val_loss", cfg.patience, cfg.min_delta)
        trainer, ckpts = make_trainer(settings, max_epochs=cfg.max_epochs, workdir=workdir,
                                      monitor="val_loss", label=label, callbacks=[stop])
        fit_resumable(trainer, module, workdir, loader, val_loader)
        best_path = ckpts.best_path()
        if best_path is None:
            raise RuntimeError(f"{label or workdir}: training left no best checkpoint")
        best = load_weights(best_path)
        module.load_state_dict(best["state_dict"])
        # best.ckpt stores the epoch index; epochs_run counts epochs (1-based, like best_epoch+1)
        record.update(best_epoch=int(best["epoch"]), epochs_run=int(trainer.current_epoch),
                      stopped_early=bool(stop.stopped_epoch > 0))
        model = module.model.to(settings.device)  # evaluated where it trained
    record.update(evaluate(model, val, cfg.batch_size))
    model.cpu()  # the caller's model (e.g. for generation) is on the CPU again
    record["min_val_loss"] = record.pop("val_loss")
    return record
