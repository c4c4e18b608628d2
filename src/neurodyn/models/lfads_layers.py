"""Building blocks of :class:`neurodyn.models.lfads.LFADS`: clipped GRUs, the bidirectional
encoder, the IC and AR(1) prior KL terms, the penalty ramps and the coordinated-dropout /
sample-validation masks (spec §1, §2.5), the learning-rate decay on plateau and the random
draws of one step (:func:`noise_plan`, :func:`draw_noise`: every dropout mask, CD mask and
posterior sample, drawn up front in a fixed order so that a population member
(:mod:`neurodyn.models.lfads_population`) draws exactly what a lone model draws)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

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
        gates, cand = proj.split([2 * hsz, hsz], -1)  # split, not slices: no zero-filled grads
        return list(zip(gates.unbind(dim), cand.unbind(dim), strict=True))

    def step(self, x_zr: Tensor, x_n: Tensor, h: Tensor, w_hh: tuple[Tensor, Tensor]) -> Tensor:
        """One step for all directions: inputs (n_dir, B, 2H) and (n_dir, B, H), h (n_dir, B, H)."""
        z, r = torch.sigmoid(torch.baddbmm(x_zr, h, w_hh[0])).chunk(2, dim=-1)
        n = torch.tanh(torch.baddbmm(x_n, r * h, w_hh[1]))
        return torch.clamp(torch.addcmul(n, z, h - n), -self.clip, self.clip)

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


def kl_ar1(mean: Tensor, std: Tensor, log_tau: Tensor, log_nvar: Tensor,
           eps: Tensor | None = None) -> Tensor:
    """One-sample Monte-Carlo KL of a diagonal Gaussian over (B, T, D) against an AR(1) prior
    per dimension (τ in bins, stationary first step), summed over time and dims, averaged
    over the batch. ``eps``: the standard-normal sample (drawn here if not given)."""
    z = mean + std * (torch.randn_like(mean) if eps is None else eps)
    log_q = (-0.5 * ((z - mean) / std) ** 2 - torch.log(std) - 0.5 * math.log(2 * math.pi))
    alpha = torch.exp(-1.0 / torch.exp(log_tau))
    nvar = torch.exp(log_nvar)
    var0 = nvar / (1 - alpha ** 2)
    resid = torch.cat([z[:, :1], z[:, 1:] - alpha * z[:, :-1]], dim=1)
    var = torch.cat([var0.expand_as(z[:, :1]), nvar.expand_as(z[:, 1:])], dim=1)
    log_p = -0.5 * resid ** 2 / var - 0.5 * torch.log(var) - 0.5 * math.log(2 * math.pi)
    return (log_q - log_p).sum((1, 2)).mean()


def l2_penalty(groups: list[tuple[float, list[Tensor]]], like: Tensor) -> Tensor:
    """Σ scale·½‖W‖² / Σ numel over the matrices of the groups whose scale is > 0."""
    total, numel = like.new_zeros(()), 0
    for scale, mats in groups:
        if scale > 0:
            for w in mats:
                total = total + scale * 0.5 * (w ** 2).sum()
                numel += w.numel()
    return total / max(numel, 1)


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


# ------------------------------------------------------------------------- random draws
def noise_plan(h: Mapping[str, Any], batch: int, *, training: bool, sample: bool, cd: bool,
               kl: bool) -> list[tuple[str, tuple[int, ...], str, float]]:
    """The random draws of one LFADS step, in draw order: (name, shape, kind, rate).

    Kinds: ``keep`` (bool, rand ≥ rate: CD keep mask), ``pass`` (bool, rand < rate),
    ``drop`` (dropout mask scaled by 1/(1 − rate)), ``normal`` (posterior samples).
    ``cd``: a training step with CD; ``kl``: the AR(1) KL's Monte-Carlo sample too."""
    t_enc, n_in, t_rec = int(h["encod_seq_len"]), int(h["encod_data_dim"]), int(h["recon_seq_len"])
    use_con = h["ci_enc_dim"] > 0 and h["con_dim"] > 0 and h["co_dim"] > 0
    p = float(h["dropout_rate"]) if training else 0.0
    plan: list[tuple[str, tuple[int, ...], str, float]] = []
    if cd and float(h["cd_rate"]) > 0:
        plan.append(("cd_keep", (batch, t_enc, n_in), "keep", float(h["cd_rate"])))
        if float(h["cd_pass_rate"]) > 0:
            plan.append(("cd_pass", (batch, t_enc, n_in), "pass", float(h["cd_pass_rate"])))
    if p > 0:
        plan += [("drop_in", (batch, t_enc, n_in), "drop", p),
                 ("drop_ic", (batch, 2 * int(h["ic_enc_dim"])), "drop", p)]
    if sample:
        plan.append(("eps_ic", (batch, int(h["ic_dim"])), "normal", 0.0))
    if p > 0:
        plan.append(("drop_g0", (batch, int(h["gen_dim"])), "drop", p))
        if use_con:
            plan += [("drop_ci", (batch, t_rec, 2 * int(h["ci_enc_dim"])), "drop", p),
                     ("con_drop", (t_rec, batch, int(h["fac_dim"])), "drop", p)]
        if int(h["ext_input_dim"]) > 0:
            plan.append(("drop_ext", (batch, t_rec, int(h["ext_input_dim"])), "drop", p))
        plan.append(("gen_drop", (t_rec, batch, int(h["gen_dim"])), "drop", p))
    if use_con and sample:
        plan.append(("eps_co", (t_rec, batch, int(h["co_dim"])), "normal", 0.0))
    if use_con and kl and h["variational"]:
        plan.append(("eps_kl", (batch, t_rec, int(h["co_dim"])), "normal", 0.0))
    return plan


def draw_noise(plan: list[tuple[str, tuple[int, ...], str, float]], device: torch.device,
               dtype: torch.dtype = torch.float32, generator: torch.Generator | None = None
               ) -> dict[str, Tensor]:
    """Draw a :func:`noise_plan` in order from ``generator`` (default: torch's global RNG)."""
    out: dict[str, Tensor] = {}
    for name, shape, kind, rate in plan:
        if kind == "normal":
            out[name] = torch.randn(shape, device=device, dtype=dtype, generator=generator)
            continue
        u = torch.rand(shape, device=device, generator=generator)
        if kind == "keep":
            out[name] = u >= rate
        elif kind == "pass":
            out[name] = u < rate
        else:
            out[name] = (u >= rate).to(dtype) / (1 - rate)
    return out


def masked(x: Tensor, mask: Tensor | None) -> Tensor:
    """``x`` times a (scaled dropout) mask, or ``x`` when there is none."""
    return x if mask is None else x * mask
