"""Lead-time-conditioned volumetric UNet (spec §5.1; Immer et al. 2025 §3, App. A.1).

Input (B, C, Z, X, Y): the C context frames are channels. Pre-activation residual blocks
(GroupNorm, SiLU, 3³ convs: ``SameConv3d``, whose CPU weight gradient is a convolution), the
same width F at every level, average pooling by (1, 2, 2) into the first level and by (2, 2,
2) after it (z pooled after the first level, as in the paper; ceil mode), nearest upsampling
with additive skips, FiLM on a 32-d sinusoidal embedding of the lead time (zero-initialised,
so it starts as the identity). ``direct=True`` drops the conditioning and predicts all H
frames as output channels (the Fig. 4 comparison).
An input ×d coarser than the output (``input_downsample`` = d > 1) starts at physical level
log2 d and runs only the levels from there (the receptive field stays the same in physical
units: Table 2 at constant field of view), then an upsampling head restores full resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from neurodyn.zapbench.compute import block_counts, input_offset, z_pooled
from neurodyn.zapbench.conv import SameConv3d

EMBED_DIM = 32


def lead_time_embedding(lead: Tensor, dim: int = EMBED_DIM) -> Tensor:
    """[cos(τ ω_i), sin(τ ω_i)], ω_i = exp(−ln(10⁴)·2i/dim), i < dim/2 (cosines first)."""
    half = dim // 2
    omega = torch.exp(-math.log(1e4) * 2 * torch.arange(half, device=lead.device) / dim)
    angle = lead.float()[:, None] * omega[None]
    return torch.cat([torch.cos(angle), torch.sin(angle)], dim=1)


class FiLM(nn.Module):
    """shift + h·(1 + scale), both from a zero-initialised Dense of the embedding."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.dense = nn.Linear(EMBED_DIM, 2 * features)
        nn.init.zeros_(self.dense.weight)
        nn.init.zeros_(self.dense.bias)

    def forward(self, h: Tensor, emb: Tensor | None) -> Tensor:
        if emb is None:
            return h
        shift, scale = self.dense(emb)[:, :, None, None, None].chunk(2, dim=1)
        return shift + h * (1 + scale)


class ResBlock(nn.Module):
    """Pre-activation residual block with FiLM between the two convolutions."""

    def __init__(self, features: int, groups: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, features)
        self.conv1 = SameConv3d(features, features)
        self.norm2 = nn.GroupNorm(groups, features)
        self.film = FiLM(features)
        self.dropout = nn.Dropout3d(dropout)
        self.conv2 = SameConv3d(features, features)

    def forward(self, x: Tensor, emb: Tensor | None) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = F.silu(self.film(self.norm2(h), emb))
        return x + self.conv2(self.dropout(h))


def pool_xy(h: Tensor, fz: int = 1) -> Tensor:
    """``F.avg_pool3d(h, (fz, 2, 2), ceil_mode=True)`` (1-voxel axes kept; a last odd slice,
    row or column averages the voxels it covers) from pads, reshapes and sums: its gradient is
    deterministic on CUDA, where ``avg_pool3d``'s backward is not."""
    b, c, z, x, y = h.shape
    kz, kx, ky = min(fz, z), min(2, x), min(2, y)
    pz, px, py = (-z) % kz, (-x) % kx, (-y) % ky
    shape = (b, c, (z + pz) // kz, kz, (x + px) // kx, kx, (y + py) // ky, ky)
    sums = F.pad(h, (0, py, 0, px, 0, pz)).reshape(shape).sum(dim=(3, 5, 7))
    if not (pz or px or py):
        return sums / (kz * kx * ky)
    ones = F.pad(h.new_ones(1, 1, z, x, y), (0, py, 0, px, 0, pz))
    return sums / ones.reshape(1, 1, *shape[2:]).sum(dim=(3, 5, 7))


def upsample_xy(h: Tensor, size: tuple[int, ...]) -> Tensor:
    """Nearest-neighbour upsampling to ``size`` (Z, X, Y) when each output size is the
    input's times an integer factor, or ``pool_xy``'s input size (output voxel i takes input
    voxel i // factor, as ``F.interpolate(mode="nearest")``), from expand and reshape: its
    gradient is deterministic on CUDA."""
    b, c, z, x, y = h.shape
    tz, tx, ty = (int(v) for v in size)
    fz, fx, fy = -(-tz // z), -(-tx // x), -(-ty // y)
    def whole(n: int, t: int, f: int) -> bool:  # nearest takes voxel i // f
        return t == n * f or (f == 2 and t == 2 * n - 1)

    if not (whole(z, tz, fz) and whole(x, tx, fx) and whole(y, ty, fy)):
        raise ValueError(f"cannot upsample {(z, x, y)} to {(tz, tx, ty)} by whole factors")
    h = h[:, :, :, None, :, None, :, None].expand(b, c, z, fz, x, fx, y, fy)
    return h.reshape(b, c, z * fz, x * fx, y * fy)[..., :tz, :tx, :ty]


@dataclass(frozen=True)
class UNetConfig:
    """Architecture knobs (config ``zapbench.unet.model`` plus per-variant overrides)."""

    context: int
    features: int = 16
    groups: int = 4
    levels: int = 2  # pooling levels (physical, at full input resolution): the RF knob
    blocks: int | tuple[int, ...] = 1  # residual blocks per level (one count, or one per
    # physical level 0..levels), in the encoder and in the decoder
    dropout: float = 0.0
    direct: bool = False  # True: no lead-time conditioning, H output channels
    horizon: int = 32
    input_downsample: int = 1  # XY factor of the input relative to the output

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", block_counts(self.blocks, self.levels))
        if input_offset(self.input_downsample) > self.levels:
            raise ValueError(f"input_downsample={self.input_downsample} needs levels ≥ "
                             f"{input_offset(self.input_downsample)} (the coarse input starts "
                             "at that level, keeping the receptive field in physical units)")

    @property
    def physical_levels(self) -> range:
        """The physical levels the network runs (a ×d coarser input starts at log2 d)."""
        return range(input_offset(self.input_downsample), self.levels + 1)


def unet_config(settings: dict, context: int, horizon: int) -> UNetConfig:
    """The architecture of resolved variant ``settings`` (``grid.unet_settings``)."""
    blocks = settings["blocks"]
    return UNetConfig(context=int(context), features=int(settings["features"]),
                      groups=int(settings["groups"]), levels=int(settings["levels"]),
                      blocks=int(blocks) if isinstance(blocks, int) else tuple(blocks),
                      dropout=float(settings["dropout"]), direct=bool(settings["direct"]),
                      horizon=int(horizon), input_downsample=int(settings["input_downsample"]))


class VideoUNet(nn.Module):
    """(B, C, Z, X/d, Y/d), lead (B,) → (B, 1 or H, Z, X, Y)."""

    def __init__(self, cfg: UNetConfig, out_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.cfg, self.out_shape = cfg, tuple(out_shape)
        f, g = cfg.features, cfg.groups
        self.stem = SameConv3d(cfg.context, f)
        self.levels = list(cfg.physical_levels)
        self.enc = nn.ModuleList(nn.ModuleList(ResBlock(f, g, cfg.dropout)
                                               for _ in range(cfg.blocks[lv]))
                                 for lv in self.levels)
        self.dec = nn.ModuleList(nn.ModuleList(ResBlock(f, g, cfg.dropout)
                                               for _ in range(cfg.blocks[lv]))
                                 for lv in self.levels)
        self.up_head = None
        if cfg.input_downsample > 1:
            self.up_head = nn.ModuleDict({"norm": nn.GroupNorm(g, f),
                                          "conv": SameConv3d(f, f)})
            self.up_block = ResBlock(f, g, cfg.dropout)
        self.out_norm = nn.GroupNorm(g, f)
        self.out_film = FiLM(f)
        self.out_dropout = nn.Dropout3d(cfg.dropout)
        self.out_conv = SameConv3d(f, cfg.horizon if cfg.direct else 1)

    @staticmethod
    def _run(blocks: nn.ModuleList, h: Tensor, emb: Tensor | None) -> Tensor:
        for block in blocks:
            h = block(h, emb)
        return h

    def forward(self, x: Tensor, lead: Tensor | None = None) -> Tensor:
        if self.cfg.direct:
            emb = None
        else:
            if lead is None:
                raise ValueError("a lead-time-conditioned UNet needs the lead time")
            emb = lead_time_embedding(lead)
        h = self.stem(x)
        skips = []
        for i, blocks in enumerate(self.enc):
            if i > 0:
                h = pool_xy(h, 2 if z_pooled(self.levels[i]) else 1)
            h = self._run(blocks, h, emb)
            skips.append(h)
        h = self._run(self.dec[-1], h, emb)
        for level in range(len(self.levels) - 2, -1, -1):
            h = upsample_xy(h, skips[level].shape[2:]) + skips[level]
            h = self._run(self.dec[level], h, emb)
        if self.up_head is not None:
            h = self.up_head["conv"](F.silu(self.up_head["norm"](h)))
            h = upsample_xy(h, self.out_shape)
            h = self.up_block(h, emb)
        h = F.silu(self.out_film(self.out_norm(h), emb))
        return self.out_conv(self.out_dropout(h))


class SegmentAverager(nn.Module):
    """Per-segment mean of voxel frames: (B, K, Z, X, Y) → (B, K, N); label 0 dropped."""

    def __init__(self, segmentation: Tensor, n_segments: int) -> None:
        super().__init__()
        labels = segmentation.reshape(-1).long()
        counts = torch.bincount(labels, minlength=n_segments + 1)[1:].float()
        self.n_segments = n_segments
        self.register_buffer("labels", labels, persistent=False)
        self.register_buffer("inv_counts", torch.where(counts > 0, 1.0 / counts.clamp(min=1),
                                                       torch.zeros_like(counts)),
                             persistent=False)

    def forward(self, frames: Tensor) -> Tensor:
        flat = frames.reshape(*frames.shape[:2], -1)
        sums = flat.new_zeros(*flat.shape[:2], self.n_segments + 1)
        sums.index_add_(2, self.labels, flat)
        return sums[..., 1:] * self.inv_counts


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
