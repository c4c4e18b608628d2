"""Posterior-averaged rates, factors and inferred inputs of a trained LFADS model."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor

from neurodyn.models.lfads import LFADS


@torch.no_grad()
def infer_rates(model: LFADS, arrays: Mapping[str, np.ndarray], n_samples: int = 20,
                batch_size: int = 512, seed: int = 0) -> dict[str, np.ndarray]:
    """Posterior-averaged rates (counts per bin), factors and inferred-input means.

    Eval mode (no dropout, no CD); the stored SV mask is applied to the input as in
    validation. ``n_samples`` = 0 uses posterior means instead of sampling.
    """
    was_training = model.training
    model.eval()
    torch.manual_seed(seed)
    h = model.hparams
    sv_rate = float(h.sv_rate)
    keys = ("rates", "factors", "co_means")
    chunks: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    n = arrays["encod_data"].shape[0]
    device = model.device
    for start in range(0, n, batch_size):
        sl = slice(start, start + batch_size)
        encod = torch.as_tensor(arrays["encod_data"][sl], dtype=torch.float32, device=device)
        if sv_rate > 0:
            sv = torch.as_tensor(np.asarray(arrays["sv_mask"][sl], bool), device=device)
            encod = encod * sv.to(encod.dtype) / (1 - sv_rate)
        ext = (torch.as_tensor(arrays["ext_input"][sl], dtype=torch.float32, device=device)
               if "ext_input" in arrays else None)
        passes = max(n_samples, 1)
        acc: dict[str, Tensor] = {}
        for _ in range(passes):
            out = model(encod, ext, sample_posteriors=n_samples > 0)
            parts = {"rates": torch.exp(out["log_rates"]), "factors": out["factors"]}
            if "co_means" in out:
                parts["co_means"] = out["co_means"]
            for k, v in parts.items():
                acc[k] = acc.get(k, 0) + v / passes
        for k, v in acc.items():
            chunks[k].append(v.cpu().numpy())
    model.train(was_training)
    return {k: np.concatenate(v) for k, v in chunks.items() if v}
