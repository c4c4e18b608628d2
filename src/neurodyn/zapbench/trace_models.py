"""Trace forecasting models (spec §4), PyTorch: (B, C, N) context → (B, H, N) forecast.

Every model is global over neurons (one set of weights for all of them) except TSMixer's
neuron-mixing bottleneck. ``future_covariates`` (B, H, K) is used by TiDE only.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn


class MeanBaseline(nn.Module):
    """Mean of the last ``window`` context frames, repeated H times (window 1 = last value)."""

    trainable = False

    def __init__(self, window: int, horizon: int) -> None:
        super().__init__()
        self.window, self.horizon = window, horizon

    def forward(self, x: Tensor, future_covariates: Tensor | None = None) -> Tensor:
        return x[:, -self.window:].mean(dim=1, keepdim=True).expand(-1, self.horizon, -1)


class RevIN(nn.Module):
    """Reversible instance norm over the context frames, learned per-neuron affine."""

    def __init__(self, n_neurons: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(n_neurons))
        self.bias = nn.Parameter(torch.zeros(n_neurons))
        self.eps = eps

    def normalise(self, x: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        mu = x.mean(dim=1, keepdim=True)
        sd = torch.sqrt(x.var(dim=1, keepdim=True, unbiased=False) + self.eps)
        return (x - mu) / sd * self.scale + self.bias, (mu, sd)

    def denormalise(self, y: Tensor, stats: tuple[Tensor, Tensor]) -> Tensor:
        mu, sd = stats
        return (y - self.bias) / (self.scale + self.eps) * sd + mu


def _time_projection(context: int, horizon: int, mean_init: bool) -> nn.Linear:
    """Dense(C → H) along time; ``mean_init`` starts it as the mean baseline (W = 1/C)."""
    proj = nn.Linear(context, horizon)
    if mean_init:
        nn.init.constant_(proj.weight, 1.0 / context)
        nn.init.zeros_(proj.bias)
    return proj


class Linear(nn.Module):
    """y[h, n] = Σ_t W[h, t] x[t, n] + b[h], W initialised to 1/C (the mean baseline)."""

    trainable = True

    def __init__(self, context: int, horizon: int) -> None:
        super().__init__()
        self.proj = _time_projection(context, horizon, mean_init=True)

    def forward(self, x: Tensor, future_covariates: Tensor | None = None) -> Tensor:
        return self.proj(x.transpose(1, 2)).transpose(1, 2)


class TSMixer(nn.Module):
    """TSMixer: residual time-mix and (optionally) neuron-mix blocks, then Dense(C → H).

    ``time_mix_only`` gives Time-Mix, the univariate MLP of the benchmark.
    """

    trainable = True

    def __init__(self, context: int, horizon: int, n_neurons: int, n_blocks: int,
                 mix_dim: int = 0, time_mix_only: bool = False, revin: bool = False,
                 dropout: float = 0.0, mean_init_projection: bool = False) -> None:
        super().__init__()
        self.time_mix = nn.ModuleList(nn.Linear(context, context) for _ in range(n_blocks))
        self.feature_mix = nn.ModuleList() if time_mix_only else nn.ModuleList(
            nn.Sequential(nn.Linear(n_neurons, mix_dim), nn.ReLU(), nn.Dropout(dropout),
                          nn.Linear(mix_dim, n_neurons), nn.Dropout(dropout))
            for _ in range(n_blocks))
        self.dropout = nn.Dropout(dropout)
        self.revin = RevIN(n_neurons) if revin else None
        self.proj = _time_projection(context, horizon, mean_init_projection)

    def forward(self, x: Tensor, future_covariates: Tensor | None = None) -> Tensor:
        stats = None
        if self.revin is not None:
            x, stats = self.revin.normalise(x)
        for i, layer in enumerate(self.time_mix):
            h = torch.relu(layer(x.transpose(1, 2))).transpose(1, 2)
            x = x + self.dropout(h)
            if self.feature_mix:
                x = x + self.feature_mix[i](x)
        y = self.proj(x.transpose(1, 2)).transpose(1, 2)
        return self.revin.denormalise(y, stats) if stats is not None else y


class MLPRes(nn.Module):
    """TiDE residual block: Dense(hidden) → ReLU → Dense(out) → dropout, plus a linear skip."""

    def __init__(self, n_in: int, n_out: int, hidden: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out),
                                  nn.Dropout(dropout))
        self.skip = nn.Linear(n_in, n_out)

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + self.skip(x)


class TiDE(nn.Module):
    """TiDE with future stimulus covariates (past/static covariates ablated, as released)."""

    trainable = True

    def __init__(self, context: int, horizon: int, n_covariates: int, hidden: int = 64,
                 decoder_dim: int = 16, covariate_dim: int = 8, dropout: float = 0.0) -> None:
        super().__init__()
        self.horizon, self.decoder_dim = horizon, decoder_dim
        self.covariate_proj = MLPRes(n_covariates, covariate_dim, hidden, dropout)
        self.encoder = MLPRes(context + horizon * covariate_dim, hidden, hidden, dropout)
        self.decoder = MLPRes(hidden, horizon * decoder_dim, hidden, dropout)
        self.temporal = MLPRes(decoder_dim + covariate_dim, 1, hidden, dropout)
        self.skip = nn.Linear(context, horizon)

    def forward(self, x: Tensor, future_covariates: Tensor | None = None) -> Tensor:
        if future_covariates is None:
            raise ValueError("TiDE needs future covariates")
        b, c, n = x.shape
        series = x.transpose(1, 2)  # (B, N, C)
        cov = self.covariate_proj(future_covariates)  # (B, H, p), shared by all neurons
        cov_n = cov.unsqueeze(1).expand(b, n, -1, -1)  # (B, N, H, p)
        enc = self.encoder(torch.cat([series, cov_n.flatten(2)], dim=-1))
        dec = self.decoder(enc).view(b, n, self.horizon, self.decoder_dim)
        out = self.temporal(torch.cat([dec, cov_n], dim=-1)).squeeze(-1)  # (B, N, H)
        return (out + self.skip(series)).transpose(1, 2)


TRACE_MODELS = ("mean", "last", "stimulus", "linear", "timemix", "tsmixer", "tide")


def build_trace_model(name: str, context: int, horizon: int, n_neurons: int,
                      n_covariates: int, long_context: bool, cfg: dict[str, Any]) -> nn.Module:
    """A trace model by name with the miniature's hyperparameters (``zapbench.trace.models``).

    RevIN is on for long contexts only (as in the released configs).
    """
    if name == "mean":
        return MeanBaseline(context, horizon)
    if name == "last":
        return MeanBaseline(1, horizon)
    if name == "linear":
        return Linear(context, horizon)
    mean_init = bool(cfg.get("mean_init_projection", True))
    if name == "timemix":
        return TSMixer(context, horizon, n_neurons, cfg["timemix_blocks"], time_mix_only=True,
                       revin=long_context, mean_init_projection=mean_init)
    if name == "tsmixer":
        return TSMixer(context, horizon, n_neurons, cfg["tsmixer_blocks"],
                       mix_dim=cfg["tsmixer_dim"], revin=long_context,
                       mean_init_projection=mean_init)
    if name == "tide":
        return TiDE(context, horizon, n_covariates, hidden=cfg["tide_hidden"],
                    decoder_dim=cfg["tide_decoder_dim"], covariate_dim=cfg["tide_covariate_dim"])
    raise ValueError(f"unknown trace model {name!r}; expected one of {TRACE_MODELS}")
