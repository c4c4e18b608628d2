"""Autoregressive generation of Simeon et al. 2024 (Fig. 7): the sliding-window roll-out and
the record of one fit's generation (context, truth and generated traces of one worm)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import torch
import xarray as xr
from torch import Tensor, nn


@torch.no_grad()
def generate(model: nn.Module, context: Tensor, mask: Tensor, n_new: int,
             context_window: int = 180,
             clamp: Literal["batch", "sample", "none"] = "batch") -> Tensor:
    """Autoregressive roll-out by sliding-window one-step prediction (spec §6).

    Repeats ``n_new`` times: run the model on the last ``context_window`` steps of the running
    sequence, take the prediction at the last position, clamp it, append it. Runs in eval mode
    without gradients (the previous train/eval mode is restored). ``clamp="batch"`` is the
    paper-era reference: clip to the min/max of the whole current context window (one scalar
    pair for the batch, so batch items interact); ``"sample"`` uses each sequence's own window;
    ``"none"`` does not clip. The context is cast to the model's dtype. Returns the new steps
    only, (B, n_new, N).
    """
    was_training = model.training
    model.train(False)
    try:
        param = next(model.parameters(), None)  # run in the model's dtype (data may be fp16)
        dtype = context.dtype if param is None else param.dtype
        batch, length, neurons = context.shape
        seq = context.new_empty(batch, length + n_new, neurons, dtype=dtype)
        seq[:, :length] = context
        for end in range(length, length + n_new):
            window = seq[:, max(0, end - context_window):end]
            nxt = model(window, mask)[:, -1]
            if clamp == "batch":
                nxt = nxt.clamp(window.min(), window.max())
            elif clamp == "sample":
                nxt = torch.minimum(torch.maximum(nxt, window.amin(dim=(1, 2))[:, None]),
                                    window.amax(dim=(1, 2))[:, None])
            elif clamp != "none":
                raise ValueError(f"clamp must be 'batch', 'sample' or 'none', got {clamp!r}")
            seq[:, end] = nxt
        return seq[:, length:].clone()
    finally:
        model.train(was_training)


#: The paper seeds Fig. 7 with a Uzel 2022 worm.
PAPER_SEED_DATASET = "Uzel2022"


def generation_worm(ds: xr.Dataset, worms: Sequence[str], dataset: str | None) -> str:
    """The worm whose recording seeds generation: the first usable worm of ``dataset``
    (config ``scaling.generation.seed_dataset``, the paper's Uzel 2022 by default) when the
    cohort has one, else the cohort's first usable worm."""
    names = [str(w) for w in ds["worm"].values]
    sources = dict(zip(names, (str(d) for d in ds["dataset"].values), strict=True))
    return next((w for w in worms if sources[w] == dataset), worms[0])


def generation_record(model: nn.Module, ds: xr.Dataset, worm: str, cfg: Mapping[str, Any]
                      ) -> dict[str, Any]:
    """Seed with ``context`` validation steps of one worm and generate ``generate`` more
    (config ``scaling.generation``); the first ``neurons`` labeled neurons are kept."""
    g = cfg["generation"]
    w = list(ds["worm"].values).index(worm)
    n = int(ds["n_timesteps"].values[w])
    series = np.nan_to_num(ds["activity"].values[w, n // 2:n]).astype(np.float32)
    ctx_len = min(g["context"], series.shape[0] // 2)
    gen_len = min(g["generate"], series.shape[0] - ctx_len)
    labeled = np.flatnonzero(ds["labeled"].values[w])
    mask = torch.from_numpy(ds["labeled"].values[w][None].astype(np.float32))
    context = torch.from_numpy(series[None, :ctx_len])
    out = generate(model, context, mask, gen_len, context_window=cfg["seq_len"])[0].numpy()
    shown = labeled[: g["neurons"]]
    return {"worm": worm, "neurons": [str(ds["neuron"].values[i]) for i in shown],
            "context": series[:ctx_len, shown].T.tolist(),
            "truth": series[ctx_len:ctx_len + gen_len, shown].T.tolist(),
            "generated": out[:, shown].T.tolist()}
