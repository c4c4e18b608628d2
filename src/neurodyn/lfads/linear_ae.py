"""Full-rank linear autoencoder trained with and without coordinated dropout (paper Fig. 3).

x̂ = W x + b with W M × M. Plain training: MSE over all entries; the identity is optimal, so
the model also reproduces the noise. CD (keep ratio p): the input is x ⊙ K / p with a fresh
Bernoulli(p) mask K per step, and the loss is taken only on the dropped entries (¬K), so an
entry can never be used to predict itself: the diagonal of W receives no gradient and stays
at its (small) initial values, and W learns to predict each channel from the others, i.e. a
low-rank denoiser. Tracked per epoch: training loss and loss against the noisy and the
noise-free validation samples (full input).

Both fits run through the shared runner and trainer (:func:`run_linear_fits`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from neurodyn.digest import code_digest
from neurodyn.models.lfads_data import EpochShuffle, SeedPerBatch
from neurodyn.train.device import TrainSettings
from neurodyn.train.runner import FitRunner, PlannedFit

FIT_CODE = ("lfads/linear_ae.py", "models/lfads_data.py", "train")
CURVES = ("train_loss", "valid_loss", "clean_loss")


@dataclass(frozen=True)
class AEConfig:
    """Training settings of the demo."""

    keep_ratio: float = 0.8
    epochs: int = 300
    batch_size: int = 100
    lr: float = 0.01
    momentum: float = 0.9
    init_sd: float = 0.01


class LinearAE(L.LightningModule):
    """x̂ = W x + b trained by SGD, with or without CD; per-epoch curves in ``history``."""

    def __init__(self, m: int, cd: bool, cfg: AEConfig, seed: int) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(int(seed))
        self.weight = torch.nn.Parameter(cfg.init_sd * torch.randn(m, m, generator=gen))
        self.bias = torch.nn.Parameter(torch.zeros(m))
        self.cd, self.cfg = cd, cfg
        self.history: dict[str, list[float]] = {k: [] for k in CURVES}
        self._sum, self._count = 0.0, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight.T + self.bias

    def training_step(self, batch: tuple[torch.Tensor], batch_idx: int) -> torch.Tensor:
        (xb,) = batch
        if self.cd:
            keep = torch.rand(xb.shape, device=xb.device) < self.cfg.keep_ratio
            pred = self(xb * keep / self.cfg.keep_ratio)
            target_mask = (~keep).float()
        else:
            pred, target_mask = self(xb), torch.ones_like(xb)
        err = ((pred - xb) ** 2 * target_mask).sum() / target_mask.sum().clamp(min=1)
        self._sum += float(err.detach()) * len(xb)
        self._count += len(xb)
        return err

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, clean = batch
        pred = self(x)
        valid, clean_loss = float(((pred - x) ** 2).mean()), float(((pred - clean) ** 2).mean())
        self.history["valid_loss"].append(valid)
        self.history["clean_loss"].append(clean_loss)
        train = self._sum / max(self._count, 1)
        self.history["train_loss"].append(train)
        self._sum, self._count = 0.0, 0
        self.log_dict({"train_loss": train, "val_loss": valid, "clean_loss": clean_loss})

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.cfg.lr, momentum=self.cfg.momentum)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["linear_ae_history"] = {k: list(v) for k, v in self.history.items()}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.history = {k: list(v) for k, v in checkpoint["linear_ae_history"].items()}


def train_linear_ae(x_train: np.ndarray, x_valid: np.ndarray, clean_valid: np.ndarray,
                    cd: bool, cfg: AEConfig, seed: int, settings: TrainSettings | None = None,
                    workdir: Path | None = None) -> dict[str, np.ndarray]:
    """Train with the shared trainer (resuming from ``workdir/last.ckpt``); return weight,
    bias and the per-epoch loss curves."""
    from neurodyn.train.trainer import fit_resumable, make_trainer

    torch.manual_seed(int(seed))
    xt = torch.as_tensor(x_train, dtype=torch.float32)
    train = DataLoader(TensorDataset(xt), batch_size=None,
                       sampler=EpochShuffle(len(xt), cfg.batch_size, seed))
    valid = DataLoader(TensorDataset(torch.as_tensor(x_valid, dtype=torch.float32)[None],
                                     torch.as_tensor(clean_valid, dtype=torch.float32)[None]),
                       batch_size=None)
    model = LinearAE(xt.shape[1], cd, cfg, seed)
    trainer, _ = make_trainer(settings or TrainSettings(), max_epochs=cfg.epochs,
                              workdir=workdir, label=f"linear AE {'cd' if cd else 'plain'}",
                              callbacks=[SeedPerBatch(seed)])
    fit_resumable(trainer, model, workdir, train, valid)
    model = model.cpu()
    return {"weight": model.weight.detach().numpy(), "bias": model.bias.detach().numpy(),
            **{k: np.asarray(v) for k, v in model.history.items()}}


def run_linear_fits(x: np.ndarray, clean: np.ndarray, is_train: np.ndarray,
                    cfg: Mapping[str, Any], seed: int, settings: TrainSettings,
                    workdir: str | Path, data_path: str | Path) -> dict[str, dict[str, Any]]:
    """The plain and the CD fit through the fit runner; arrays back as numpy."""
    ae = AEConfig(**{k: v for k, v in cfg.items() if k in AEConfig.__dataclass_fields__})
    config = {"linear_ae": asdict(ae), "seed": int(seed),
              "harness": {"device": settings.device, "deterministic": settings.deterministic,
                          "precision": settings.effective_precision}}
    runner = FitRunner(workdir, config=config, code=code_digest(*FIT_CODE), inputs=[data_path],
                       label="lfads linear AE")

    def train_one(fit: PlannedFit) -> dict[str, Any]:
        res = train_linear_ae(x[is_train], x[~is_train], clean[~is_train], fit.fit_id == "cd",
                              ae, seed, settings, fit.dir)
        return {k: np.asarray(v).tolist() for k, v in res.items()}

    records = runner.run([(name, {"cd": name == "cd"}) for name in ("plain", "cd")], train_one)
    return {r["fit_id"]: {k: np.asarray(r[k]) for k in ("weight", "bias", *CURVES)}
            for r in records}
