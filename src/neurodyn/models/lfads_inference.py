"""Evaluation passes of an LFADS model: posterior-averaged rates, factors and inferred
inputs of a trained model, and the sample-validation (SV) metric of every training epoch."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from neurodyn.models.lfads import LFADS
from neurodyn.models.lfads_data import VALID_BATCH, trial_loader

SV_SEED = 7919  # seeds the SV pass's posterior samples (+ epoch)


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


@torch.no_grad()
def sample_validation(model: LFADS, batches: Iterable[Mapping[str, Tensor]]) -> float:
    """The SV metric (Keshtkaran & Pandarinath 2019): the reconstruction cost on the
    SV-held-out samples of ``batches`` (the training trials) in one evaluation pass at the
    current weights, in eval mode (no dropout, no CD), with the SV-masked input of validation.

    Posterior samples are seeded from the epoch; the global RNG is left as it was. NaN when
    SV is off."""
    if float(model.hparams.sv_rate) <= 0:
        return math.nan
    was_training = model.training
    model.eval()
    total, n = 0.0, 0
    cuda = [model.device.index or 0] if model.device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        # a DataLoader draws its base seed when iterated: start it before seeding, so the
        # posterior samples come from SV_SEED + epoch alone (as a population member's)
        batch_iter = iter(batches)
        torch.manual_seed(SV_SEED + int(model.current_epoch))
        for batch in batch_iter:
            batch = {k: v.to(model.device) for k, v in batch.items()}
            _, metrics, _ = model.shared_step(batch, "sv")
            size = int(batch["encod_data"].shape[0])
            total, n = total + float(metrics["recon_sv"]) * size, n + size
    model.train(was_training)
    return total / n if n else math.nan


def training_batches(trainer: Any) -> Iterable[Mapping[str, Tensor]]:
    """The training trials of a fit in order and in large batches (the data module's
    ``train`` arrays), else the trainer's training loader."""
    arrays = getattr(getattr(trainer, "datamodule", None), "train", None)
    if isinstance(arrays, Mapping):
        return trial_loader(arrays, VALID_BATCH, seed=None)
    return trainer.train_dataloader
