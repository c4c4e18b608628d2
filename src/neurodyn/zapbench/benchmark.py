"""The ZAPBench rules: conditions, padding, per-condition splits, windows (spec §1.3-1.4).

One ``Benchmark`` holds the constants; the real recording and the miniature differ only in
them. Ranges are half-open frame intervals ``(start, stop)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPLITS = ("train", "val", "test", "train_val", "test_holdout")


@dataclass(frozen=True)
class Benchmark:
    """Constants of one benchmark instance."""

    condition_offsets: tuple[int, ...]  # start of each condition, then the end of the series
    condition_names: tuple[str, ...]
    train_conditions: tuple[int, ...]
    holdout_conditions: tuple[int, ...]
    padding: int = 1
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    max_context: int = 256
    horizon: int = 32

    def __post_init__(self) -> None:
        if len(self.condition_offsets) != len(self.condition_names) + 1:
            raise ValueError("condition_offsets needs one entry per condition plus the end")
        if any(b <= a for a, b in zip(self.condition_offsets, self.condition_offsets[1:],
                                      strict=False)):
            raise ValueError("condition_offsets must increase")

    @property
    def n_conditions(self) -> int:
        return len(self.condition_names)

    def condition_bounds(self, k: int) -> tuple[int, int]:
        """Usable frames of condition ``k``: one padding frame dropped at each boundary."""
        return (self.condition_offsets[k] + self.padding,
                self.condition_offsets[k + 1] - self.padding)

    def split_range(self, k: int, split: str, context: int) -> tuple[int, int]:
        """Frame range of ``split`` in condition ``k`` for context length ``context``.

        val/test are prefixed by ``context`` frames borrowed from the preceding split; the
        holdout is scored from ``lo + max_context`` so every context sees the same targets.
        """
        if context > self.max_context:
            raise ValueError(f"context {context} exceeds max_context {self.max_context}")
        lo, hi = self.condition_bounds(k)
        n = hi - lo
        n_test = int(np.floor(self.test_fraction * n))
        n_val = int(np.floor(self.val_fraction * n))
        n_train = n - n_test - n_val
        if split == "train":
            return lo, lo + n_train
        if split == "val":
            return lo + n_train - context, lo + n_train + n_val
        if split == "test":
            return lo + n_train + n_val - context, hi
        if split == "train_val":
            return lo, lo + n_train + n_val
        if split == "test_holdout":
            return lo + self.max_context - context, hi
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")

    def num_windows(self, k: int, split: str, context: int) -> int:
        """Stride-1 windows (``context`` inputs + ``horizon`` targets) inside the split."""
        start, stop = self.split_range(k, split, context)
        return max(0, stop - start - self.horizon - context + 1)

    def window_starts(self, k: int, split: str, context: int) -> np.ndarray:
        """First input frame of every window: inputs [s, s+C), targets [s+C, s+C+H)."""
        start, _ = self.split_range(k, split, context)
        return start + np.arange(self.num_windows(k, split, context), dtype=np.int64)

    def conditions_of(self, split: str) -> tuple[int, ...]:
        """Conditions scored on ``split`` (the holdout split uses the holdout conditions)."""
        return self.holdout_conditions if split == "test_holdout" else self.train_conditions


ZAPBENCH = Benchmark(
    condition_offsets=(0, 649, 2422, 3078, 3735, 5047, 5638, 6623, 7279, 7879),
    condition_names=("gain", "dots", "flash", "taxis", "turning", "position", "open loop",
                     "rotation", "dark"),
    train_conditions=(0, 1, 2, 4, 5, 6, 7, 8),
    holdout_conditions=(3,),
)
"""The real benchmark (google-research/zapbench: zapbench/constants.py)."""


def miniature_benchmark(condition_length: int, n_conditions: int, holdout: int,
                        max_context: int, horizon: int = 32, padding: int = 1,
                        val_fraction: float = 0.1, test_fraction: float = 0.2) -> Benchmark:
    """Same rules, miniature sizes: ``n_conditions`` equal conditions, one held out."""
    offsets = tuple(int(i * condition_length) for i in range(n_conditions + 1))
    return Benchmark(
        condition_offsets=offsets,
        condition_names=tuple(f"condition {k}" for k in range(n_conditions)),
        train_conditions=tuple(k for k in range(n_conditions) if k != holdout),
        holdout_conditions=(holdout,), padding=padding, val_fraction=val_fraction,
        test_fraction=test_fraction, max_context=max_context, horizon=horizon)
