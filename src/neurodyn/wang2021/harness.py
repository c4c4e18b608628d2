"""The training harness of Wang 2021: one LightningModule trains a batched ensemble of fits
(E = 1 for one fit per job) of a classifier or a trajectory model.

Per-worm optimisation: an epoch visits the training worms in a seeded order, one Adam step
per worm on all its training samples, so BatchNorm statistics are per worm (and per member:
only the member's training samples count). Adam lr 1e-3, reduce-on-plateau ×0.25 after
``lr_patience`` epochs, per member; the best-validation weights of each member are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import lightning as L
import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from neurodyn.train.batched import MemberAdam, MemberPlateau, member_state


@dataclass
class WormBatch:
    """One training worm as the ensemble sees it."""

    x: Tensor  # classification (T, N, F); trajectory (B, S, N, F) windows
    node_mask: Tensor  # (N,)
    target: Tensor | None  # classification labels (T,), else None
    train: Tensor  # (E, T or B) member sample weights
    val: Tensor  # (E, T or B)


def scheduled_p(epoch: int, ss_epochs: int) -> float:
    """Teacher-forcing probability: 1 at epoch 0, decaying linearly to 0 at ``ss_epochs``."""
    if ss_epochs <= 0:
        return 0.0
    return max(0.0, 1.0 - epoch / ss_epochs)


def rollout(model: nn.Module, windows: Tensor, m: Tensor, w: Tensor | None, members: int,
            teacher: Tensor | None, burn_in: int, steps: int) -> Tensor:
    """Predict ``steps`` outputs from windows (B, S, N, F): output s predicts x[s + 1].

    Input s is the true x[s] for s = 0 and, for recurrent models, for s < ``burn_in``;
    afterwards the true x[s] where ``teacher[b, s]`` is True, else the previous prediction.
    Returns (E, B, steps, N, F)."""
    E = members
    true = windows.unsqueeze(0).expand(E, *windows.shape)
    mm = m.expand(windows.shape[0], -1) if m.dim() == 1 else m
    state, prev, preds = None, None, []
    forced = burn_in if getattr(model, "recurrent", False) else 1
    for s in range(steps):
        inp = true[:, :, s]
        if s >= forced and prev is not None:
            keep = (teacher[:, s][None, :, None, None] if teacher is not None
                    else torch.zeros(1, 1, 1, 1, dtype=torch.bool, device=inp.device))
            inp = torch.where(keep, inp, prev)
        delta, state = model(inp, mm, w, state)
        prev = inp + delta
        preds.append(prev)
    return torch.stack(preds, 2)


class EnsembleModule(L.LightningModule):
    """Trains the members of a batched model on per-worm batches (manual optimisation)."""

    def __init__(self, model: nn.Module, worms: Sequence[WormBatch], kind: str, lr: float,
                 lr_factor: float, lr_patience: int, ss_epochs: int = 0, burn_in: int = 1,
                 seed: int = 0, batch_size: int | None = None) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.model, self.worms, self.kind = model, list(worms), kind
        self.members = worms[0].train.shape[0]
        self.lr, self.lr_factor, self.lr_patience = lr, lr_factor, lr_patience
        self.ss_epochs, self.burn_in, self.batch_size = ss_epochs, burn_in, batch_size
        self.gen = torch.Generator().manual_seed(int(seed))
        self.best_loss = torch.full((self.members,), float("inf"))
        self.best_epoch = torch.zeros(self.members, dtype=torch.long)
        self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.val_history: list[list[float]] = []

    def on_fit_start(self) -> None:
        dev = self.device
        for wb in self.worms:
            for name in ("x", "node_mask", "target", "train", "val"):
                value = getattr(wb, name)
                if value is not None:
                    setattr(wb, name, value.to(dev))
        self.best_state = {k: v.to(dev) for k, v in self.best_state.items()}
        self.best_loss = self.best_loss.to(dev)

    def member_losses(self, wb: WormBatch, weights: Tensor, training: bool) -> Tensor:
        """Loss per member (E,) on the samples ``weights`` selects (mean over them)."""
        E = self.members
        if self.kind == "classify":
            x = wb.x.unsqueeze(0).expand(E, *wb.x.shape)
            m = wb.node_mask.expand(wb.x.shape[0], -1)
            logits = self.model(x, m, weights if training else None)
            tgt = wb.target.clamp_min(0).expand(E, -1)
            ce = nn.functional.cross_entropy(logits.transpose(1, 2), tgt, reduction="none")
            per = ce
        else:
            steps = wb.x.shape[1] - 1
            teacher = None
            if training:
                p = scheduled_p(self.current_epoch, self.ss_epochs)
                teacher = (torch.rand(wb.x.shape[0], steps, generator=self.gen) < p).to(wb.x.device)
            pred = rollout(self.model, wb.x, wb.node_mask, weights if training else None,
                           E, teacher, self.burn_in, steps)
            err = (pred - wb.x[:, 1:].unsqueeze(0)) ** 2 * wb.node_mask[None, None, None, :,
                                                                         None]
            n_obs = wb.node_mask.sum() * wb.x.shape[-1] * steps
            per = err.sum((2, 3, 4)) / n_obs
        return (per * weights).sum(1), weights.sum(1)

    def train_dataloader(self) -> DataLoader:
        """This epoch's steps: worms in a seeded order; within a worm, its samples in
        shuffled minibatches of ``batch_size`` (None = the whole worm in one step)."""
        steps = []
        for w in torch.randperm(len(self.worms), generator=self.gen).tolist():
            n = self.worms[w].x.shape[0]
            size = n if self.batch_size is None else self.batch_size
            order = torch.randperm(n, generator=self.gen)
            steps += [(w, order[s:s + size]) for s in range(0, n, size)]
        return DataLoader(steps, batch_size=None)

    def val_dataloader(self) -> DataLoader:
        return DataLoader([0], batch_size=None)

    def training_step(self, batch: tuple[int, Tensor], batch_idx: int) -> None:
        w, idx = batch
        full = self.worms[int(w)]
        idx = idx.to(full.x.device)
        wb = WormBatch(full.x[idx], full.node_mask,
                       None if full.target is None else full.target[idx],
                       full.train[:, idx], full.val[:, idx])
        total, n = self.member_losses(wb, wb.train, training=True)
        loss = (total / n.clamp_min(1.0)).sum()
        opt = self.optimizers()
        opt.zero_grad()
        self.manual_backward(loss)
        opt.step()

    def validation_step(self, batch: Tensor, batch_idx: int) -> None:
        totals = torch.zeros(self.members, device=self.device)
        counts = torch.zeros(self.members, device=self.device)
        for wb in self.worms:
            t, n = self.member_losses(wb, wb.val, training=False)
            totals += t.detach()
            counts += n
        val = totals / counts.clamp_min(1.0)
        self.val_history.append(val.tolist())
        self.plateau.step(val)
        better = val < self.best_loss
        if better.any():
            state = self.model.state_dict()
            for k, v in state.items():
                self.best_state[k][better] = v.detach()[better]
            self.best_loss = torch.where(better, val, self.best_loss)
            self.best_epoch[better.cpu()] = self.current_epoch
        self.log("val_loss", val.mean(), on_epoch=True, batch_size=1)

    def configure_optimizers(self) -> MemberAdam:
        opt = MemberAdam(self.model.parameters(), torch.full((self.members,), self.lr))
        self.plateau = MemberPlateau(opt, self.lr_factor, self.lr_patience)
        return opt


def train_ensemble(module: EnsembleModule, epochs: int, accelerator: str = "cpu"
                   ) -> list[dict[str, Tensor]]:
    """Fit ``module`` for ``epochs`` and return each member's best-validation state."""
    trainer = L.Trainer(max_epochs=epochs, accelerator=accelerator, devices=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0,
                        deterministic=True, reload_dataloaders_every_n_epochs=1)
    trainer.fit(module)
    module.model.cpu()
    best = {k: v.cpu() for k, v in module.best_state.items()}
    module.best_loss = module.best_loss.cpu()
    return [member_state(best, e) for e in range(module.members)]


def evaluate_in_chunks(fn: Callable[[slice], Tensor], n: int, chunk: int) -> np.ndarray:
    """Concatenate ``fn`` over slices of ``range(n)`` along axis 1 (memory bound)."""
    with torch.no_grad():
        return torch.cat([fn(slice(s, s + chunk)) for s in range(0, n, chunk)], 1).numpy()
