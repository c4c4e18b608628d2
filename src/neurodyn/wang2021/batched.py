"""Batched ensembles of small models: E independent fits trained in one process.

Every parameter and buffer has a leading member dimension E; members never interact, so
member e of an ensemble trained together follows the same trajectory as the same model
trained alone (E = 1) from the same seed, up to floating-point summation order. Pieces:

- :class:`BLinear`, :class:`BNodeLinear` (own weights per node), :class:`BBatchNorm` (batch
  statistics per member over the samples it trains on, given as weights; per worm in
  evaluation too with :func:`set_norm`), :class:`BMLP` (NRI-style 2-layer ELU MLP +
  BatchNorm) and :class:`NodeMLP` (the same block per node);
- :func:`init_members` — member e initialised from its own seed;
- :class:`MemberAdam` — Adam with a learning rate per member;
- :class:`MemberPlateau` — reduce-on-plateau per member;
- :func:`member_state` / :func:`stack_states` — split and join per-member state dicts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class BLinear(nn.Module):
    """y[e] = x[e] @ W[e] + b[e]; x (E, ..., in)."""

    def __init__(self, members: int, d_in: int, d_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(members, d_in, d_out))
        self.bias = nn.Parameter(torch.empty(members, d_out))
        self.d_in, self.d_out = d_in, d_out

    def reset_member(self, e: int, gen: torch.Generator) -> None:
        bound = 1.0 / math.sqrt(self.d_in)  # nn.Linear's default range
        with torch.no_grad():
            self.weight[e].uniform_(-bound, bound, generator=gen)
            self.bias[e].uniform_(-bound, bound, generator=gen)

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape
        flat = x.reshape(shape[0], -1, shape[-1])
        out = torch.baddbmm(self.bias[:, None, :], flat, self.weight)
        return out.reshape(*shape[:-1], self.d_out)

    def pairs(self, h: Tensor) -> Tensor:
        """The layer on every concatenated pair [h_i, h_j] of h (E, B, N, D) without
        building the pairs: h_i W[:D] + h_j W[D:] + b, (E, B, N, N, out) (i: axis 2)."""
        d = h.shape[-1]
        flat = h.reshape(h.shape[0], -1, d)
        own = torch.bmm(flat, self.weight[:, :d]).reshape(*h.shape[:-1], self.d_out)
        other = torch.baddbmm(self.bias[:, None, :], flat, self.weight[:, d:])
        other = other.reshape(*h.shape[:-1], self.d_out)
        return own[:, :, :, None] + other[:, :, None, :]


def _expand_weight(weight: Tensor | None, x: Tensor) -> Tensor:
    """Sample weights broadcast to x without its feature axis: (E, ...)."""
    if weight is None:
        return torch.ones(x.shape[:-1], dtype=x.dtype, device=x.device)
    while weight.dim() < x.dim() - 1:
        weight = weight.unsqueeze(-1)
    return weight.expand(x.shape[:-1]).to(x.dtype)


class BNodeLinear(nn.Module):
    """A linear layer of its own per node: y[e, ..., n] = x[e, ..., n] @ W[e, n] + b[e, n];
    x (E, B, N, in)."""

    def __init__(self, members: int, nodes: int, d_in: int, d_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(members, nodes, d_in, d_out))
        self.bias = nn.Parameter(torch.empty(members, nodes, d_out))
        self.d_in, self.d_out = d_in, d_out

    def reset_member(self, e: int, gen: torch.Generator) -> None:
        bound = 1.0 / math.sqrt(self.d_in)
        with torch.no_grad():
            self.weight[e].uniform_(-bound, bound, generator=gen)
            self.bias[e].uniform_(-bound, bound, generator=gen)

    def forward(self, x: Tensor) -> Tensor:
        return torch.einsum("ebni,enio->ebno", x, self.weight) + self.bias[:, None]


class BBatchNorm(nn.Module):
    """BatchNorm over features (last axis) per member; statistics are weighted by the
    member's sample weights (0 = sample not in this member's batch). ``per_batch``: in
    evaluation too, normalise with the statistics of the batch at hand (one worm: per-worm
    normalisation) instead of the running statistics."""

    per_batch = False

    def __init__(self, members: int, features: int, momentum: float = 0.1,
                 eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(members, features))
        self.bias = nn.Parameter(torch.zeros(members, features))
        self.register_buffer("running_mean", torch.zeros(members, features))
        self.register_buffer("running_var", torch.ones(members, features))
        self.momentum, self.eps = momentum, eps

    def reset_member(self, e: int, gen: torch.Generator) -> None:
        with torch.no_grad():
            self.weight[e].fill_(1.0)
            self.bias[e].zero_()
            self.running_mean[e].zero_()
            self.running_var[e].fill_(1.0)

    def forward(self, x: Tensor, weight: Tensor | None = None) -> Tensor:
        E, C = x.shape[0], x.shape[-1]
        view = (E,) + (1,) * (x.dim() - 2) + (C,)
        mean = var = count = None
        if self.training or self.per_batch:
            # weighted statistics over the samples as (E, 1, R) @ (E, R, C) products
            w = _expand_weight(weight, x).reshape(E, 1, -1)
            flat = x.reshape(E, -1, C)
            count = w.sum(2)  # (E, 1)
            n = count.clamp_min(1.0)
            mean = torch.bmm(w, flat)[:, 0] / n
            var = torch.bmm(w, (flat - mean[:, None]).square())[:, 0] / n
        scale, shift = self.scale_shift(mean, var, count)  # (E, C): one pass over x
        return torch.addcmul(shift.reshape(view), x, scale.reshape(view))

    def scale_shift(self, mean: Tensor | None, var: Tensor | None,
                    count: Tensor | None) -> tuple[Tensor, Tensor]:
        """The normalisation as an affine map per member and feature, (E, C) each, from the
        batch's weighted mean and (biased) variance over ``count`` (E, 1) weighted samples;
        in training also updates the running statistics (members without samples keep
        theirs). In evaluation without ``per_batch`` the running statistics are used."""
        if self.training:
            with torch.no_grad():
                n = count.clamp_min(1.0)
                unbiased = var * n / (n - 1).clamp_min(1.0)
                rate = self.momentum * (count > 0).to(var.dtype)
                self.running_mean.lerp_(mean.detach(), rate)
                self.running_var.lerp_(unbiased.detach(), rate)
        elif not self.per_batch:
            mean, var = self.running_mean, self.running_var
        scale = self.weight * torch.rsqrt(var + self.eps)
        return scale, self.bias - mean * scale


class BMLP(nn.Module):
    """Linear → ELU → Linear → ELU → BatchNorm (the NRI MLP block), per member."""

    def __init__(self, members: int, d_in: int, hidden: int, d_out: int) -> None:
        super().__init__()
        self.fc1 = BLinear(members, d_in, hidden)
        self.fc2 = BLinear(members, hidden, d_out)
        self.bn = BBatchNorm(members, d_out)

    def forward(self, x: Tensor, weight: Tensor | None = None) -> Tensor:
        return self.after_first(self.fc1(x), weight)

    def after_first(self, pre: Tensor, weight: Tensor | None = None) -> Tensor:
        """The block from the first layer's output on (``pre`` = fc1(x))."""
        return self.bn(F.elu(self.fc2(F.elu(pre))), weight)


class NodeMLP(nn.Module):
    """The NRI MLP block with its own weights per node (BatchNorm per node and feature);
    x (E, B, N, in) → (E, B, N, out)."""

    def __init__(self, members: int, nodes: int, d_in: int, hidden: int, d_out: int) -> None:
        super().__init__()
        self.fc1 = BNodeLinear(members, nodes, d_in, hidden)
        self.fc2 = BNodeLinear(members, nodes, hidden, d_out)
        self.bn = BBatchNorm(members, nodes * d_out)

    def forward(self, x: Tensor, weight: Tensor | None = None) -> Tensor:
        h = F.elu(self.fc2(F.elu(self.fc1(x))))
        return self.bn(h.flatten(2), weight).reshape(h.shape)


def set_norm(model: nn.Module, norm: str) -> None:
    """``worm``: every BatchNorm normalises with the statistics of the worm it sees, in
    evaluation too; ``running``: running statistics in evaluation."""
    if norm not in ("worm", "running"):
        raise ValueError(f"norm must be worm or running, not {norm!r}")
    for mod in model.modules():
        if isinstance(mod, BBatchNorm):
            mod.per_batch = norm == "worm"


def init_members(model: nn.Module, seeds: Sequence[int]) -> None:
    """Initialise member e of every batched layer from ``seeds[e]`` (module order)."""
    for e, seed in enumerate(seeds):
        gen = torch.Generator().manual_seed(int(seed))
        for mod in model.modules():
            if hasattr(mod, "reset_member"):
                mod.reset_member(e, gen)


class MemberAdam(torch.optim.Optimizer):
    """Adam (as torch.optim.Adam, no weight decay) with a learning rate per member:
    ``lr`` is an (E,) tensor applied to the leading axis of every parameter."""

    def __init__(self, params, lr: Tensor, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        super().__init__(params, {"lr": float(lr.mean()), "betas": betas, "eps": eps})
        self.lr = lr.clone()

    @property
    def lr(self) -> Tensor:
        """Learning rate per member (E,); the groups' ``lr`` shows their mean (progress)."""
        return self._member_lr

    @lr.setter
    def lr(self, value: Tensor) -> None:
        self._member_lr = value
        for group in self.param_groups:
            group["lr"] = float(value.mean())

    @torch.no_grad()
    def step(self, closure=None):  # noqa: ANN001, ANN201
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.zeros(())
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                state["step"] += 1
                t = float(state["step"])
                m, v = state["m"], state["v"]
                m.mul_(b1).add_(p.grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                denom = (v.sqrt() / math.sqrt(1 - b2 ** t)).add_(group["eps"])
                lr = self.lr.to(p.device).reshape((-1,) + (1,) * (p.dim() - 1))
                p.addcdiv_(m * (lr / (1 - b1 ** t)), denom, value=-1.0)
        return None


class MemberPlateau:
    """ReduceLROnPlateau (mode min, relative threshold) per member of a MemberAdam."""

    def __init__(self, opt: MemberAdam, factor: float, patience: int,
                 threshold: float = 1e-4, min_lr: float = 0.0) -> None:
        self.opt, self.factor, self.patience = opt, factor, patience
        self.threshold, self.min_lr = threshold, min_lr
        e = opt.lr.numel()
        self.best = torch.full((e,), math.inf)
        self.bad = torch.zeros(e, dtype=torch.long)

    def step(self, losses: Tensor) -> None:
        losses = losses.detach().cpu()
        better = losses < self.best * (1 - self.threshold)
        self.best = torch.where(better, losses, self.best)
        self.bad = torch.where(better, torch.zeros_like(self.bad), self.bad + 1)
        cut = self.bad > self.patience
        self.opt.lr = torch.where(cut, (self.opt.lr * self.factor).clamp_min(self.min_lr),
                                  self.opt.lr)
        self.bad[cut] = 0


def member_state(state: dict[str, Tensor], e: int) -> dict[str, Tensor]:
    """Member e's slice of a batched state dict."""
    return {k: v[e].detach().clone() for k, v in state.items()}


def stack_states(states: Sequence[dict[str, Tensor]]) -> dict[str, Tensor]:
    """Stack per-member state dicts into one batched state dict."""
    return {k: torch.stack([s[k] for s in states]) for k in states[0]}
