"""The static GNN's mean node embedding without materialising the embedding.

With static edges the node embedding H = BatchNorm(MLP(X)) only enters the model through its
per-node mean over the worm's timesteps. BatchNorm is an affine map per feature, so that mean
is the affine map of the per-node mean of the MLP output; the normalisation needs only the
weighted first and second moments of that output. :func:`mean_embedding` computes the three
sums in chunks of timesteps (:class:`_BlockSums`, a fused forward and backward that keeps the
chunk's activations small and reuses the ELU outputs for the ELU derivatives), then applies
the BatchNorm of the block to them. Same function as the plain path (``block(x, w m) * m``
averaged over timesteps), up to floating-point summation order; it computes no gradient for
``x`` (training data), so callers use it only when ``x`` needs none.
"""

from __future__ import annotations

import torch
from torch import Tensor

from neurodyn.wang2021.batched import BMLP

CHUNK_TIMESTEPS = 128  # timesteps per chunk: a chunk's activations stay in the cache
# exp(-80) - 1 is -1 in float32 and float64; below about -87 torch's exp takes a slow path
# (underflow), 15x slower per element
ELU_FLOOR = -80.0


def _elu(a: Tensor) -> Tensor:
    """ELU in place on ``a`` (a fresh activation): max(a, exp(min(a, 0)) - 1)."""
    return torch.maximum(a, a.clamp(ELU_FLOOR, 0.0).exp_().sub_(1.0), out=a)


def _elu_slope(out: Tensor) -> Tensor:
    """ELU's derivative from its output: 1 where positive, out + 1 elsewhere."""
    return out.clamp(max=0.0).add_(1.0)


class _BlockSums(torch.autograd.Function):
    """Per member e, node n, feature h of y = elu(elu(x W1 + b1) W2 + b2):
    Σ_b m y, Σ_b w m y and Σ_b w m y², each (E, N, H); x (E, B, N, F), m (B, N) in {0, 1},
    w (E, B). Gradients for the weights and biases only."""

    @staticmethod
    def forward(ctx, x: Tensor, m: Tensor, w: Tensor, w1: Tensor, b1: Tensor, w2: Tensor,
                b2: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        E, B, N, _ = x.shape
        H = w2.shape[-1]
        sums = [x.new_zeros(E, N, H) for _ in range(3)]
        saved = []
        for s in range(0, B, CHUNK_TIMESTEPS):
            xc = x[:, s:s + CHUNK_TIMESTEPS]
            b = xc.shape[1]
            z1 = _elu(torch.baddbmm(b1[:, None], xc.reshape(E, b * N, -1), w1))
            y = _elu(torch.baddbmm(b2[:, None], z1, w2)).view(E, b, N, H)
            ym = y * m[None, s:s + b, :, None]
            wc = w[:, None, s:s + b]
            sums[0] += ym.sum(1)
            sums[1] += torch.bmm(wc, ym.view(E, b, N * H)).view(E, N, H)
            sums[2] += torch.bmm(wc, ym.mul_(y).view(E, b, N * H)).view(E, N, H)
            if any(ctx.needs_input_grad[3:]):  # weights or biases
                saved.append((z1, y))
        ctx.saved = saved
        ctx.save_for_backward(x, m, w, w2)
        return tuple(sums)

    @staticmethod
    def backward(ctx, g_node: Tensor, g_w: Tensor, g_ww: Tensor):  # noqa: ANN205
        x, m, w, w2 = ctx.saved_tensors
        E, _, N, _ = x.shape
        H = w2.shape[-1]
        grads = [torch.zeros(E, *shape, dtype=x.dtype, device=x.device)
                 for shape in ((x.shape[-1], H), (H,), (H, H), (H,))]
        g_ww2, g_w, g_node = (2.0 * g_ww)[:, None], g_w[:, None], g_node[:, None]
        s = 0
        for z1, y in ctx.saved:
            b = y.shape[1]
            # d/dy of the three sums: m (g_node + w (g_w + 2 y g_ww)), through the ELU
            d = torch.mul(y, g_ww2).add_(g_w).mul_(w[:, s:s + b, None, None])
            d.add_(g_node).mul_(m[None, s:s + b, :, None]).mul_(_elu_slope(y))
            d = d.view(E, b * N, H)
            grads[2] += torch.bmm(z1.transpose(1, 2), d)
            grads[3] += d.sum(1)
            dz = torch.bmm(d, w2.transpose(1, 2)).mul_(_elu_slope(z1))
            xc = x[:, s:s + b].reshape(E, b * N, -1)
            grads[0] += torch.bmm(xc.transpose(1, 2), dz)
            grads[1] += dz.sum(1)
            s += b
        ctx.saved = None
        return None, None, None, *grads


def mean_embedding(block: BMLP, x: Tensor, m: Tensor, w: Tensor | None) -> Tensor:
    """Per-node mean over the timesteps (axis 1) of ``block(x, w m) * m``: (E, N, H).
    BatchNorm statistics weighted by w m (w None: m), running statistics updated in
    training as the block's own forward does."""
    E = x.shape[0]
    w = x.new_ones(E, x.shape[1]) if w is None else w.to(x.dtype)
    s_node, s_w, s_ww = _BlockSums.apply(x, m, w, block.fc1.weight, block.fc1.bias,
                                         block.fc2.weight, block.fc2.bias)
    count = (w * m.sum(1)[None]).sum(1, keepdim=True)  # (E, 1) weighted samples
    n = count.clamp_min(1.0)
    mean = s_w.sum(1) / n
    var = (s_ww.sum(1) / n - mean.square()).clamp_min(0.0)
    scale, shift = block.bn.scale_shift(mean, var, count)
    per_node = m.sum(0)[None, :, None]  # (1, N, 1) timesteps a node is present
    return (scale[:, None] * s_node + shift[:, None] * per_node) / per_node.clamp_min(1.0)
