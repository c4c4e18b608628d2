"""Full-rank linear autoencoder trained with and without coordinated dropout (paper Fig. 3).

x̂ = W x + b with W M × M. Plain training: MSE over all entries; the identity is optimal, so
the model also reproduces the noise. CD (keep ratio p): the input is x ⊙ K / p with a fresh
Bernoulli(p) mask K per step, and the loss is taken only on the dropped entries (¬K), so an
entry can never be used to predict itself: the diagonal of W receives no gradient and stays
at its (small) initial values, and W learns to predict each channel from the others, i.e. a
low-rank denoiser. Tracked per epoch: training loss and loss against the noise-free data
(validation samples, full input).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class AEConfig:
    """Training settings of the demo."""

    keep_ratio: float = 0.8
    epochs: int = 300
    batch_size: int = 100
    lr: float = 0.01
    momentum: float = 0.9
    init_sd: float = 0.01


def train_linear_ae(x_train: np.ndarray, x_valid: np.ndarray, clean_valid: np.ndarray,
                    cd: bool, cfg: AEConfig, seed: int) -> dict[str, np.ndarray]:
    """Train by minibatch SGD; return weight, bias and per-epoch loss curves."""
    gen = torch.Generator().manual_seed(int(seed))
    xt = torch.as_tensor(x_train, dtype=torch.float32)
    xv = torch.as_tensor(x_valid, dtype=torch.float32)
    cv = torch.as_tensor(clean_valid, dtype=torch.float32)
    m = xt.shape[1]
    weight = (cfg.init_sd * torch.randn(m, m, generator=gen)).requires_grad_()
    bias = torch.zeros(m, requires_grad=True)
    opt = torch.optim.SGD([weight, bias], lr=cfg.lr, momentum=cfg.momentum)
    curves: dict[str, list[float]] = {"train_loss": [], "valid_loss": [], "clean_loss": []}
    for _ in range(cfg.epochs):
        order = torch.randperm(xt.shape[0], generator=gen)
        total, count = 0.0, 0.0
        for start in range(0, xt.shape[0], cfg.batch_size):
            xb = xt[order[start:start + cfg.batch_size]]
            if cd:
                keep = torch.rand(xb.shape, generator=gen) < cfg.keep_ratio
                pred = (xb * keep / cfg.keep_ratio) @ weight.T + bias
                target_mask = (~keep).float()
            else:
                pred = xb @ weight.T + bias
                target_mask = torch.ones_like(xb)
            err = ((pred - xb) ** 2 * target_mask).sum() / target_mask.sum().clamp(min=1)
            opt.zero_grad()
            err.backward()
            opt.step()
            total += float(err.detach()) * len(xb)
            count += len(xb)
        with torch.no_grad():
            pred_v = xv @ weight.T + bias
            curves["train_loss"].append(total / count)
            curves["valid_loss"].append(float(((pred_v - xv) ** 2).mean()))
            curves["clean_loss"].append(float(((pred_v - cv) ** 2).mean()))
    return {"weight": weight.detach().numpy(), "bias": bias.detach().numpy(),
            **{k: np.asarray(v) for k, v in curves.items()}}
