"""Training and evaluation losses shared by the studies."""

from __future__ import annotations

import torch
from torch import Tensor


def masked_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """MSE over all valid (batch, time, labeled-neuron) entries (Simeon et al. 2024, eq. 4).

    ``pred``/``target`` (..., L, N), ``mask`` (..., N) boolean or 0/1. Unlabeled entries are
    selected out before squaring, so their values (even NaN/inf) affect neither the loss nor
    its gradient. Computed in float32.
    """
    valid = mask.bool().unsqueeze(-2)  # (..., 1, N), broadcast over time (and leading dims)
    diff = torch.where(valid, pred.float() - target.float(), 0.0)
    n_valid = valid.sum() * (diff.numel() // valid.numel())
    return diff.square().sum() / n_valid.clamp(min=1)
