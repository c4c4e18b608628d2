"""Torch-free architecture arithmetic of the video UNet: levels, cost, receptive field.

Counts follow :class:`neurodyn.zapbench.unet.VideoUNet` exactly (a test checks them against
the built model): ``params`` are its trainable parameters; ``macs`` the multiply-accumulates
of one forward pass of one sample (3³ convolutions and the FiLM dense layers; norms,
activations, pooling and upsampling are left out: they are a few operations per voxel, the
convolutions 27·F per voxel and channel). The receptive field is the XY extent, in
full-resolution voxels, of the input that one output voxel can depend on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

EMBED_DIM = 32
KERNEL = 27  # 3 × 3 × 3
#: the receptive-field sweep (Fig. 5) holds compute roughly fixed: the MACs per forward of its
#: configurations (the variants differing from the reference only in levels and blocks, at
#: one context) stay within this ratio of one another
RF_COMPUTE_RATIO = 1.3
#: Table 2 at constant field of view: a coarser input's XY receptive field (full-resolution
#: voxels) stays within this fraction of the reference's
FOV_TOLERANCE = 0.1


def z_pooled(level: int) -> bool:
    """Whether the pooling into (physical) ``level`` also halves z: from the second pooling
    on, as in the paper (the first pooling is XY only)."""
    return level >= 2


def input_offset(input_downsample: int) -> int:
    """The physical level of a ×d coarser input: log2(d) (d a power of two)."""
    d = int(input_downsample)
    if d < 1 or d & (d - 1):
        raise ValueError(f"input_downsample={d} is not a power of two")
    return d.bit_length() - 1


def block_counts(blocks: int | Sequence[int], levels: int) -> tuple[int, ...]:
    """Residual blocks per physical level 0..levels (one count for all, or one per level)."""
    n = int(levels) + 1
    counts = (int(blocks),) * n if isinstance(blocks, int) else tuple(int(b) for b in blocks)
    if len(counts) != n or min(counts) < 1:
        raise ValueError(f"blocks {blocks}: need {n} counts ≥ 1 (levels 0..{n - 1})")
    return counts


def level_shapes(levels: int, input_downsample: int,
                 out_shape: Sequence[int]) -> list[tuple[int, tuple[int, int, int]]]:
    """(physical level, (Z, X, Y)) of every level the network runs, finest first."""
    z, x, y = (int(v) for v in out_shape)
    d = int(input_downsample)
    first = input_offset(d)
    shape = (z, x // d, y // d)
    out = [(first, shape)]
    for level in range(first + 1, int(levels) + 1):
        z, x, y = shape
        kz = min(2, z) if z_pooled(level) else 1
        shape = (-(-z // kz), -(-x // min(2, x)), -(-y // min(2, y)))
        out.append((level, shape))
    return out


def _arch(settings: Mapping[str, Any]) -> tuple[int, int, tuple[int, ...], int]:
    levels, d = int(settings["levels"]), int(settings["input_downsample"])
    return levels, d, block_counts(settings["blocks"], levels), input_offset(d)


def unet_cost(settings: Mapping[str, Any], context: int, horizon: int,
              out_shape: Sequence[int]) -> dict[str, int]:
    """``params`` and ``macs`` (per forward, one sample) of a resolved UNet variant."""
    f = int(settings["features"])
    levels, d, blocks, first = _arch(settings)
    if first > levels:
        raise ValueError(f"input_downsample={d} needs levels ≥ {first}")
    k = int(horizon) if settings["direct"] else 1
    film = not settings["direct"]
    vox = {lv: math.prod(s) for lv, s in level_shapes(levels, d, out_shape)}
    v_out = math.prod(int(v) for v in out_shape)
    block_params = 2 * (KERNEL * f * f + f) + 4 * f + (EMBED_DIM * 2 * f + 2 * f)
    block_film = EMBED_DIM * 2 * f if film else 0

    def block_macs(v: int) -> int:
        return 2 * KERNEL * f * f * v + block_film

    n_blocks = 2 * sum(blocks[lv] for lv in vox)
    params = KERNEL * int(context) * f + f + n_blocks * block_params
    macs = KERNEL * int(context) * f * vox[first]
    macs += sum(2 * blocks[lv] * block_macs(v) for lv, v in vox.items())
    if d > 1:  # upsampling head: norm, conv at the coarse input's level, one block at full res
        params += 2 * f + KERNEL * f * f + f + block_params
        macs += KERNEL * f * f * vox[first] + block_macs(v_out)
    params += 2 * f + (EMBED_DIM * 2 * f + 2 * f) + KERNEL * f * k + k
    macs += (EMBED_DIM * 2 * f if film else 0) + KERNEL * f * k * v_out
    return {"params": int(params), "macs": int(macs)}


def receptive_field_xy(settings: Mapping[str, Any]) -> int:
    """XY receptive field in full-resolution voxels (the physical field of view of one output
    voxel): the input interval an output voxel depends on, traced back exactly through every
    3-convolution (±1), pooling (m → 2m, 2m + 1), nearest upsampling (i → i // 2), skip sum
    (union) and the ×d input average; the largest over output positions (their phase
    relative to the pooling grid changes it)."""
    levels, d, blocks, first = _arch(settings)
    run = list(range(first, levels + 1))
    last = len(run) - 1

    def widen(iv: tuple[int, int], n: int) -> tuple[int, int]:
        return iv[0] - n, iv[1] + n

    def union(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
        return min(a[0], b[0]), max(a[1], b[1])

    def enc(i: int, iv: tuple[int, int]) -> tuple[int, int]:
        """Input interval (full resolution) of an interval of encoder level i's output."""
        lo, hi = widen(iv, 2 * blocks[run[i]])
        if i:
            return enc(i - 1, (2 * lo, 2 * hi + 1))
        lo, hi = widen((lo, hi), 1)  # stem
        return d * lo, d * hi + d - 1  # the ×d input average

    def dec(i: int, iv: tuple[int, int]) -> tuple[int, int]:
        """... of an interval of decoder level i's output."""
        iv = widen(iv, 2 * blocks[run[i]])
        if i == last:
            return enc(i, iv)
        return union(enc(i, iv), dec(i + 1, (iv[0] // 2, iv[1] // 2)))

    def field(p: int) -> int:
        iv = widen((p, p), 1)  # output conv
        if d > 1:  # head: its full-resolution block, the ×d upsampling, its conv
            lo, hi = widen(iv, 2)
            iv = widen((lo // d, hi // d), 1)
        lo, hi = dec(0, iv)
        return hi - lo + 1

    return max(field(p) for p in range(2 ** (levels + 1)))


def compute_ratio(costs: Sequence[int]) -> float:
    """max / min of ``costs`` (1.0 for one)."""
    return max(costs) / min(costs)
