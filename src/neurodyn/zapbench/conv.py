"""A 3³ "same" convolution whose weight gradient is itself a convolution (CPU speed-up).

On CPU, oneDNN's convolution backward spends most of its time on the weight gradient of the
UNet's small-channel 3³ convolutions (``benchmarks/zapbench_throughput.py`` prints it side by
side). For stride 1, padding 1 and dilation 1 the weight gradient is a correlation of the
input with the output gradient over the batch::

    dW[o, i, a, b, c] = Σ_n Σ_v x[n, i, v + (a, b, c) − 1] · g[n, o, v]
                      = conv3d(xᵀ, gᵀ, padding=1)[i, o, a, b, c]

with batch and channel axes swapped (xᵀ: (C_in, N, …), gᵀ: (C_out, N, …), the whole output
gradient acting as the kernel). That forward convolution is ~2× faster than the weight
gradient of ``convolution_backward`` at the miniature's sizes; the input gradient stays
``convolution_backward``'s. The values equal autograd's up to float rounding (a test checks
them in float64). CUDA keeps cuDNN's own backward.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_ONES = [1, 1, 1]


class _SameConv3d(torch.autograd.Function):
    """conv3d(x, w, b, padding=1) with the weight gradient computed as a convolution."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return F.conv3d(x, weight, bias, padding=1)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        grad = grad.contiguous()
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.ops.aten.convolution_backward(
                grad, x, weight, None, _ONES, _ONES, _ONES, False, [0, 0, 0], 1,
                [True, False, False])[0]
        if ctx.needs_input_grad[1]:
            grad_w = F.conv3d(x.transpose(0, 1), grad.transpose(0, 1),
                              padding=1).transpose(0, 1)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad.sum(dim=(0, 2, 3, 4))
        return grad_x, grad_w, grad_b


class SameConv3d(nn.Conv3d):
    """``nn.Conv3d(c_in, c_out, 3, padding=1)`` (same parameters and state-dict keys) whose
    CPU backward takes the weight gradient from :class:`_SameConv3d`
    (``weight_grad_as_conv = False``: torch's own backward, for side-by-side benchmarks)."""

    weight_grad_as_conv = True

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        if (not self.weight_grad_as_conv or x.device.type != "cpu"
                or not torch.is_grad_enabled()):
            return super().forward(x)
        return _SameConv3d.apply(x, self.weight, self.bias)
