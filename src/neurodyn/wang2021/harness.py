"""The training harness of Wang 2021: one LightningModule trains a batched ensemble of fits
(E = 1 for one fit per job) of a classifier or a trajectory model.

Per-worm optimisation: an epoch visits the training worms in a seeded order, one Adam step
per worm on all its training samples (``batch_size`` None; an integer gives minibatches
within a worm), so BatchNorm statistics are per worm (and per member: only the member's
training samples count). Trajectory windows hold ``burn_in`` true inputs (the burn-in of
recurrent models, 1 for Markovian ones) before their predicted steps; the loss covers the
predicted steps only. Adam lr 1e-3, reduce-on-plateau ×0.25 after
``lr_patience`` epochs, per member; the best-validation weights of each member are kept.
It trains with the shared trainer (``neurodyn.train.trainer``): device and precision from the
job's settings, a checkpoint every epoch that holds the per-member state too, so a killed
ensemble resumes to the numbers of an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, IterableDataset

from neurodyn.train.device import TrainSettings
from neurodyn.train.trainer import fit_resumable, make_trainer
from neurodyn.wang2021.batched import MemberAdam, MemberPlateau, member_state
from neurodyn.wang2021.grid import stable_seed

ENSEMBLE_STATE = "wang2021_ensemble"


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


class _EpochSteps(IterableDataset):
    """The module's steps of the current epoch, drawn when the epoch iterates them."""

    def __init__(self, module: EnsembleModule) -> None:
        self.module = module

    def __iter__(self) -> Iterator[tuple[int, Tensor]]:
        return iter(self.module.epoch_steps())


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
        self.seed = int(seed)
        self.gen = torch.Generator().manual_seed(self.seed)
        self.best_loss = torch.full((self.members,), float("inf"))
        self.best_epoch = torch.zeros(self.members, dtype=torch.long)
        self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.val_history: list[list[float]] = []
        self._resumed: dict[str, Any] | None = None

    @property
    def epoch(self) -> int:
        """Index of the epoch being trained: the number of validated epochs, which lives in
        the checkpoint (Lightning's ``current_epoch`` lags by one in the first epoch after
        resuming from an end-of-epoch checkpoint)."""
        return len(self.val_history)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Everything besides the weights that a resumed ensemble needs to continue exactly:
        best weights and losses per member, per-member learning rates and plateau counters
        (tensors and plain lists: loadable with weights_only)."""
        checkpoint[ENSEMBLE_STATE] = {
            "best_state": {k: v.detach().cpu() for k, v in self.best_state.items()},
            "best_loss": self.best_loss.detach().cpu(), "best_epoch": self.best_epoch.clone(),
            "val_history": [list(h) for h in self.val_history],
            "member_lr": self.plateau.opt.lr.clone(),
            "plateau_best": self.plateau.best.clone(), "plateau_bad": self.plateau.bad.clone()}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get(ENSEMBLE_STATE)
        if state is None:
            raise KeyError(f"checkpoint has no '{ENSEMBLE_STATE}' (not a Wang 2021 ensemble)")
        self.best_state = {k: v.clone() for k, v in state["best_state"].items()}
        self.best_loss, self.best_epoch = state["best_loss"].clone(), state["best_epoch"].clone()
        self.val_history = [list(h) for h in state["val_history"]]
        self._resumed = state  # learning rates and plateau: applied in configure_optimizers

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
                p = scheduled_p(self.epoch, self.ss_epochs)
                teacher = (torch.rand(wb.x.shape[0], steps, generator=self.gen) < p).to(wb.x.device)
            pred = rollout(self.model, wb.x, wb.node_mask, weights if training else None,
                           E, teacher, self.burn_in, steps)
            # loss on the predicted steps only: outputs from the last burn-in input on
            first = self.burn_in - 1
            err = (pred[:, :, first:] - wb.x[:, 1 + first:].unsqueeze(0)) ** 2 * \
                wb.node_mask[None, None, None, :, None]
            n_obs = wb.node_mask.sum() * wb.x.shape[-1] * (steps - first)
            per = err.sum((2, 3, 4)) / n_obs
        return (per * weights).sum(1), weights.sum(1)

    def epoch_steps(self) -> list[tuple[int, Tensor]]:
        """This epoch's steps: worms in a seeded order; within a worm, its samples in
        shuffled minibatches of ``batch_size`` (None = the whole worm in one step). The
        epoch's generator (also used for teacher forcing) is seeded by the epoch, so a
        resumed fit draws what an uninterrupted one would."""
        self.gen = torch.Generator().manual_seed(stable_seed(self.seed, "epoch", self.epoch))
        steps = []
        for w in torch.randperm(len(self.worms), generator=self.gen).tolist():
            n = self.worms[w].x.shape[0]
            size = n if self.batch_size is None else self.batch_size
            order = torch.randperm(n, generator=self.gen)
            steps += [(w, order[s:s + size]) for s in range(0, n, size)]
        return steps

    def train_dataloader(self) -> DataLoader:
        return DataLoader(_EpochSteps(self), batch_size=None)

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
        per_member = total / n.clamp_min(1.0)
        loss = per_member.sum()
        self.log("train_loss", per_member.detach().mean(), on_step=False, on_epoch=True,
                 batch_size=1)
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
        epoch = self.epoch
        self.val_history.append(val.tolist())
        self.plateau.step(val)
        better = val < self.best_loss
        if better.any():
            state = self.model.state_dict()
            for k, v in state.items():
                self.best_state[k][better] = v.detach()[better]
            self.best_loss = torch.where(better, val, self.best_loss)
            self.best_epoch[better.cpu()] = epoch
        self.log("val_loss", val.mean(), on_epoch=True, batch_size=1)

    def configure_optimizers(self) -> MemberAdam:
        opt = MemberAdam(self.model.parameters(), torch.full((self.members,), self.lr))
        self.plateau = MemberPlateau(opt, self.lr_factor, self.lr_patience)
        if self._resumed is not None:
            opt.lr = self._resumed["member_lr"].clone()
            self.plateau.best = self._resumed["plateau_best"].clone()
            self.plateau.bad = self._resumed["plateau_bad"].clone()
        return opt


def train_ensemble(module: EnsembleModule, epochs: int, settings: TrainSettings,
                   workdir: Path | None = None, label: str = "") -> list[dict[str, Tensor]]:
    """Fit ``module`` for ``epochs`` with the shared trainer (checkpoint every epoch in
    ``workdir``: a killed ensemble resumes from its ``last.ckpt``) and return each member's
    best-validation state."""
    trainer, _ = make_trainer(settings, max_epochs=epochs, workdir=workdir, label=label)
    fit_resumable(trainer, module, workdir)
    module.model.cpu()
    best = {k: v.cpu() for k, v in module.best_state.items()}
    module.best_loss = module.best_loss.cpu()
    return [member_state(best, e) for e in range(module.members)]


def evaluate_in_chunks(fn: Callable[[slice], Tensor], n: int, chunk: int) -> np.ndarray:
    """Concatenate ``fn`` over slices of ``range(n)`` along axis 1 (memory bound)."""
    with torch.no_grad():
        return torch.cat([fn(slice(s, s + chunk)) for s in range(0, n, chunk)], 1).numpy()
