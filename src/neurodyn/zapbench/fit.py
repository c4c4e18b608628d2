"""The training loop shared by trace models and the UNet (plain PyTorch, step-based).

AdamW on an MAE loss; validation every ``val_every`` steps (and before the first step);
early stopping on the validation loss (patience in validations, minimum improvement);
the best-validation weights are returned. After each validation the full state is written
to ``checkpoint`` (atomically), so a killed job resumes where it stopped.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from neurodyn.train.runtime import load_weights


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
    schedule: str = "constant"  # or "cosine" (decay to lr * final_lr_factor over max_steps)
    final_lr_factor: float = 1e-3

    @classmethod
    def from_dict(cls, cfg: dict[str, Any]) -> FitConfig:
        return cls(**cfg)

    def lr_at(self, step: int) -> float:
        if self.schedule == "constant":
            return self.lr
        progress = min(step / max(self.max_steps, 1), 1.0)
        low = self.lr * self.final_lr_factor
        return low + 0.5 * (self.lr - low) * (1 + math.cos(math.pi * progress))


@dataclass
class FitResult:
    best_val: float
    best_step: int
    steps: int
    stopped_early: bool
    history: list[tuple[int, float]]


def _save(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def fit(model: nn.Module, train_loss: Callable[[nn.Module, torch.Generator], Tensor],
        val_loss: Callable[[nn.Module], float], cfg: FitConfig, seed: int,
        checkpoint: Path | None = None) -> FitResult:
    """Train ``model`` in place; on return it holds the best-validation weights."""
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, bad, history = 0, 0, []
    best_val, best_step, best_state = math.inf, 0, None
    if checkpoint is not None and checkpoint.exists():
        state = load_weights(checkpoint)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        step, bad = int(state["step"]), int(state["bad"])
        best_val, best_step = float(state["best_val"]), int(state["best_step"])
        best_state = state["best_model"]
        history = [tuple(h) for h in state["history"]]
    while True:
        due = step % cfg.val_every == 0 or step >= cfg.max_steps
        if due and (not history or history[-1][0] != step):  # not yet validated (resume)
            model.eval()
            with torch.no_grad():
                val = float(val_loss(model))
            model.train()
            history.append((step, val))
            if val < best_val - cfg.min_delta:
                best_val, best_step, bad = val, step, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                bad += 1
            if checkpoint is not None:
                _save(checkpoint, {"model": model.state_dict(), "optimizer": opt.state_dict(),
                                   "generator": gen.get_state(), "step": step, "bad": bad,
                                   "best_val": best_val, "best_step": best_step,
                                   "best_model": best_state, "history": history})
        if bad >= cfg.patience or step >= cfg.max_steps:
            break
        for group in opt.param_groups:
            group["lr"] = cfg.lr_at(step)
        loss = train_loss(model, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return FitResult(best_val=best_val, best_step=best_step, steps=step,
                     stopped_early=bad >= cfg.patience and step < cfg.max_steps,
                     history=history)
