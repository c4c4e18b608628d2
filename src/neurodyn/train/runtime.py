"""Seeding, checkpoint loading and quiet Lightning logs shared by every training job."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch


def seed_all(seed: int) -> None:
    """Seed python, numpy and torch (and dataloader workers) deterministically."""
    import lightning as L  # imported here: plain-torch jobs skip its ~5 s import

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    L.seed_everything(int(seed), workers=True, verbose=False)


def load_weights(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint safely (tensors and plain containers only)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def quiet_lightning() -> None:
    """Keep Lightning's banners and tips out of the job logs (warnings still show)."""
    import logging
    import warnings

    import lightning  # noqa: F401  (its import resets these loggers: import it first)

    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    # a resumed fit writes into its own folder again: expected, not worth a warning
    warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
