"""Shared test helpers: repository paths, real-data location, small schema datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurodyn.io.calcium import WormRecord, assemble_calcium

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"


def make_record(t: int = 50, names: tuple[str, ...] = ("AVAL", "VB02", "7", "RIML"),
                seed: int = 0, behavior: bool = True) -> WormRecord:
    """A small raw worm with known names (one numbered, unlabeled ROI)."""
    rng = np.random.default_rng(seed)
    return WormRecord(
        traces=rng.normal(size=(t, len(names))), ids=list(names),
        time_s=np.arange(t) * 0.35, source_file="mem.npz", worm_id=f"w{seed}",
        behavior=rng.integers(0, 3, t).astype(np.int16) if behavior else None)


@pytest.fixture
def small_dataset():
    """Two worms of different lengths in the calcium schema, with 3 behaviour states."""
    return assemble_calcium([make_record(50, seed=0), make_record(40, seed=1)], "Test",
                            states=("a", "b", "c"))


@pytest.fixture
def real_dir() -> Path:
    if not REAL.is_dir():
        pytest.skip("../shared/data/real is absent")
    return REAL
