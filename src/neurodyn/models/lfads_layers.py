"""Building blocks of :class:`neurodyn.models.lfads.LFADS`: clipped GRUs, the bidirectional
encoder, the IC and AR(1) prior KL terms, the penalty ramps and the coordinated-dropout /
sample-validation masks (spec §1, §2.5) and the learning-rate decay on plateau."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


# --------------------------------------------------------------------------- recurrent cells
class ClippedGRU(nn.Module):
    """``n_dir`` independent TF-style GRUs (reset gate before the hidden matmul, state clipped).

    Input projections of a whole sequence are computed in one matmul; the directions are
    stepped together with batched matmuls. Hidden-side biases are zero (frozen) and omitted;
    input biases are 1 for the update/reset gates and 0 for the candidate.
    """

    def __init__(self, input_size: int, hidden_size: int, n_dir: int = 1, clip: float = 5.0,
                 encoder_init: bool = True) -> None:
        super().__init__()
        self.hidden_size, self.n_dir, self.clip = hidden_size, n_dir, clip
        fan_ih = input_size + hidden_size if encoder_init else input_size
        fan_hh = input_size + hidden_size if encoder_init else hidden_size
        self.weight_ih = nn.Parameter(torch.randn(n_dir, input_size, 3 * hidden_size)
                                      / math.sqrt(fan_ih))
        self.weight_hh = nn.Parameter(torch.randn(n_dir, hidden_size, 3 * hidden_size)
                                      / math.sqrt(fan_hh))
        bias = torch.zeros(n_dir, 1, 3 * hidden_size)
        bias[..., : 2 * hidden_size] = 1.0
        self.bias_ih = nn.Parameter(bias)

    def project(self, x: Tensor) -> Tensor:
        """(n_dir, B, T, I) → input projections (n_dir, B, T, 3H)."""
        return torch.einsum("dbti,dih->dbth", x, self.weight_ih) + self.bias_ih[:, :, None]

    def split_hh(self) -> tuple[Tensor, Tensor]:
        """Hidden weights of the gates and of the candidate (split once per sequence)."""
        hsz = self.hidden_size
        return self.weight_hh[..., : 2 * hsz], self.weight_hh[..., 2 * hsz:]

    def split_proj(self, proj: Tensor, dim: int) -> list[tuple[Tensor, Tensor]]:
        """Per-step (gate, candidate) input projections, unbound along time ``dim``.

        Splitting and unbinding once keeps the backward pass linear in the sequence length.
        """
        hsz = self.hidden_size
        return list(zip(proj[..., : 2 * hsz].unbind(dim), proj[..., 2 * hsz:].unbind(dim),
                        strict=True))

    def step(self, x_zr: Tensor, x_n: Tensor, h: Tensor, w_hh: tuple[Tensor, Tensor]) -> Tensor:
        """One step for all directions: inputs (n_dir, B, 2H) and (n_dir, B, H), h (n_dir, B, H)."""
        hsz = self.hidden_size
        zr = torch.sigmoid(x_zr + torch.bmm(h, w_hh[0]))
        z, r = zr[..., :hsz], zr[..., hsz:]
        n = torch.tanh(x_n + torch.bmm(r * h, w_hh[1]))
        return torch.clamp(n + z * (h - n), -self.clip, self.clip)

    def recurrent_weights(self) -> list[Tensor]:
        return [self.weight_hh[d] for d in range(self.n_dir)]


class BidirectionalEncoder(nn.Module):
    """Forward and time-reversed clipped GRUs with learned initial states."""

    def __init__(self, input_size: int, hidden_size: int, clip: float) -> None:
        super().__init__()
        self.gru = ClippedGRU(input_size, hidden_size, n_dir=2, clip=clip)
        self.h0 = nn.Parameter(torch.zeros(2, 1, hidden_size))

    def forward(self, x: Tensor, outputs: bool) -> tuple[Tensor, Tensor | None]:
        """x (B, T, I) → final states (B, 2H) and, if ``outputs``, per-step (B, T, 2, H)."""
        proj = self.gru.project(torch.stack([x, x.flip(1)]))
        h = self.h0.expand(-1, x.shape[0], -1)
        seq = []
        w_hh = self.gru.split_hh()
        for x_zr, x_n in self.gru.split_proj(proj, 2):
            h = self.gru.step(x_zr, x_n, h, w_hh)
            if outputs:
                seq.append(h)
        final = torch.cat([h[0], h[1]], dim=-1)
        if not outputs:
            return final, None
        out = torch.stack(seq, dim=2)  # (2, B, T, H)
        return final, torch.stack([out[0], out[1].flip(1)], dim=2)


# ------------------------------------------------------------------------------- priors
def kl_ic(mean: Tensor, std: Tensor, prior_mean: Tensor, prior_logvar: float) -> Tensor:
    """Analytic KL(N(mean, std²) ‖ N(prior_mean, exp(prior_logvar))), summed over dims,
    averaged over the batch."""
    var_p = math.exp(prior_logvar)
    kl = (0.5 * prior_logvar - torch.log(std)
          + (std ** 2 + (mean - prior_mean) ** 2) / (2 * var_p) - 0.5)
    return kl.sum(-1).mean()


def kl_ar1(mean: Tensor, std: Tensor, log_tau: Tensor, log_nvar: Tensor) -> Tensor:
    """One-sample Monte-Carlo KL of a diagonal Gaussian over (B, T, D) against an AR(1) prior
    per dimension (τ in bins, stationary first step), summed over time and dims, averaged
    over the batch."""
    z = mean + std * torch.randn_like(mean)
    log_q = (-0.5 * ((z - mean) / std) ** 2 - torch.log(std) - 0.5 * math.log(2 * math.pi))
    alpha = torch.exp(-1.0 / torch.exp(log_tau))
    nvar = torch.exp(log_nvar)
    var0 = nvar / (1 - alpha ** 2)
    resid = torch.cat([z[:, :1], z[:, 1:] - alpha * z[:, :-1]], dim=1)
    var = torch.cat([var0.expand_as(z[:, :1]), nvar.expand_as(z[:, 1:])], dim=1)
    log_p = -0.5 * resid ** 2 / var - 0.5 * torch.log(var) - 0.5 * math.log(2 * math.pi)
    return (log_q - log_p).sum((1, 2)).mean()


def ramp(epoch: int, start: float, increase: float) -> float:
    """clamp((epoch + 1 − start) / (increase + 1), 0, 1) (lfads-torch convention)."""
    return float(min(max((epoch + 1 - start) / (increase + 1), 0.0), 1.0))


# ---------------------------------------------------------------------------- CD and SV
def plateau_step(state: dict[str, float], value: float, decay: float, patience: int,
                 stop: float) -> None:
    """One epoch of ReduceLROnPlateau (mode min, threshold 0, no cooldown) on ``state``
    (``lr``, ``best``, ``bad_epochs``): after more than ``patience`` epochs without a new
    best, ``lr`` is multiplied by ``decay`` (floored at ``stop``). Non-finite values are
    skipped."""
    if not math.isfinite(value):
        return
    if value < state["best"]:
        state.update(best=value, bad_epochs=0)
        return
    state["bad_epochs"] += 1
    if state["bad_epochs"] > patience and decay < 1:
        state.update(lr=max(state["lr"] * decay, stop), bad_epochs=0)


def cd_masks(shape: torch.Size, cd_rate: float, pass_rate: float, device: torch.device,
             generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Fresh coordinated-dropout keep mask K and pass mask P (bool)."""
    if cd_rate <= 0:
        ones = torch.ones(shape, dtype=torch.bool, device=device)
        return ones, torch.zeros_like(ones)
    keep = torch.rand(shape, device=device, generator=generator) >= cd_rate
    pas = torch.rand(shape, device=device, generator=generator) < pass_rate
    return keep, pas


def pad_mask(mask: Tensor, shape: torch.Size, value: float = 1.0) -> Tensor:
    """Pad an encoder-region (B, T_enc, N_in) mask to the recon shape with ``value``."""
    out = torch.full(shape, value, dtype=mask.dtype if mask.dtype != torch.bool else
                     torch.float32, device=mask.device)
    out[:, : mask.shape[1], : mask.shape[2]] = mask
    return out


def block_gradients(values: Tensor, grad_mask: Tensor) -> Tensor:
    """Same values; gradients flow only where ``grad_mask`` is 1 (value-preserving)."""
    return values * grad_mask + (values * (1 - grad_mask)).detach()


def smooth_costs(out: dict[str, float], state: dict[str, float], coef: float
                 ) -> dict[str, float]:
    """Add ``<name>_smth`` for every ``*/recon_heldin`` / ``*/recon_sv`` of ``out``:
    ``coef``·current + (1 − ``coef``)·previous (``state``, updated; NaN restarts it)."""
    for name in [k for k in out if k.endswith(("/recon_heldin", "/recon_sv"))]:
        prev, cur = state.get(name), out[name]
        state[name] = cur if prev is None or math.isnan(prev) else coef * cur + (1 - coef) * prev
        out[f"{name}_smth"] = state[name]
    return out
