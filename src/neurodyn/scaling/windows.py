"""Training/validation windows for next-step prediction (Simeon et al. 2024, §2.4-2.5).

Each worm's processed recording is split in time: the first half trains, the second half
validates (``train_first=False`` swaps them). Inside a half of length T_s, ``n_s`` windows of
length L start at ``linspace(0, T_s - L - 1, n_s)`` (evenly spaced, may overlap); the input is
x[s : s+L] and the target x[s+1 : s+L+1] (teacher forcing over the whole window).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr


@dataclass(frozen=True)
class Windows:
    """Stacked windows of several worms; NaN (unlabeled) entries are zero, see ``mask``."""

    x: np.ndarray  # (n, L, 302) float32 inputs
    y: np.ndarray  # (n, L, 302) float32 next-step targets
    mask: np.ndarray  # (n, 302) bool labeled neurons of the window's worm
    source: np.ndarray  # (n,) dataset of origin
    unique_steps: int  # distinct time points covered by all windows (the data-scaling x axis)

    def __len__(self) -> int:
        return self.x.shape[0]


def window_starts(length: int, seq_len: int, n_windows: int) -> np.ndarray:
    """Evenly spaced window starts inside a split of ``length`` samples."""
    if length < seq_len + 2:
        raise ValueError(f"a split of {length} samples is too short for windows of {seq_len}")
    return np.linspace(0, length - seq_len - 1, n_windows).astype(int)


def worm_windows(ds: xr.Dataset, worms: Sequence[str], seq_len: int, n_windows: int,
                 split: str, train_first: bool = True) -> Windows:
    """Windows of ``split`` ('train' or 'val') for the named worms of a processed dataset."""
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    xs, ys, masks, sources, steps = [], [], [], [], 0
    index = {w: i for i, w in enumerate(ds["worm"].values)}
    for worm in worms:
        w = index[worm]
        n = int(ds["n_timesteps"].values[w])
        series = np.nan_to_num(ds["activity"].values[w, :n]).astype(np.float32)
        first, second = series[: n // 2], series[n // 2:]
        part = first if (split == "train") == train_first else second
        starts = window_starts(part.shape[0], seq_len, n_windows)
        idx = starts[:, None] + np.arange(seq_len + 1)[None, :]
        block = part[idx]  # (n_windows, L + 1, 302)
        xs.append(block[:, :-1])
        ys.append(block[:, 1:])
        masks.append(np.repeat(ds["labeled"].values[w][None, :], n_windows, axis=0))
        sources.append(np.repeat(str(ds["dataset"].values[w]), n_windows))
        steps += np.unique(idx[:, :-1]).size
    return Windows(np.concatenate(xs), np.concatenate(ys), np.concatenate(masks),
                   np.concatenate(sources), steps)


def eligible_worms(ds: xr.Dataset, seq_len: int) -> tuple[list[str], list[str]]:
    """Worms whose halves are long enough for windows of ``seq_len`` (kept, skipped)."""
    halves = ds["n_timesteps"].values // 2
    keep = halves >= seq_len + 2
    names = [str(w) for w in ds["worm"].values]
    return ([n for n, k in zip(names, keep, strict=True) if k],
            [n for n, k in zip(names, keep, strict=True) if not k])


def nested_worm_subsets(worms: Sequence[str], levels: Sequence[int], seed: int
                        ) -> dict[int, list[str]]:
    """Growing training sets: level n takes the first n worms of one seeded permutation.

    Drawing worms uniformly across all datasets makes the per-dataset counts of a level
    multivariate-hypergeometric (≈ multinomial with p_d = N_d / N), and larger levels contain
    the smaller ones, so the training set only grows along the data-scaling axis.
    """
    order = list(np.random.default_rng(seed).permutation(len(worms)))
    bad = [n for n in levels if not 1 <= n <= len(worms)]
    if bad:
        raise ValueError(f"worm levels {bad} outside 1..{len(worms)}")
    return {int(n): [str(worms[i]) for i in order[:n]] for n in levels}


def usable_worms(path: str | Path, seq_len: int) -> int:
    """How many worms of the processed file ``path`` are long enough for windows of
    ``seq_len`` steps (the data-scaling levels are capped at this count)."""
    with xr.open_dataset(path) as ds:
        return len(eligible_worms(ds[["n_timesteps"]].load(), seq_len)[0])
