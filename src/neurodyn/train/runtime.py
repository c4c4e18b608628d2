"""Seeding, checkpoint loading and quiet Lightning logs shared by every training job."""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path
from typing import Any

import torch


def seed_all(seed: int) -> None:
    """Seed python, numpy and torch (and dataloader workers) deterministically."""
    import lightning as L  # imported here: plain-torch jobs skip its ~5 s import

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    L.seed_everything(int(seed), workers=True, verbose=False)


# glibc mallopt parameters: allocations up to the threshold come from the heap, and freed
# heap memory is returned to the system only above the trim threshold
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory(mmap_threshold: int = 32 << 20, trim_threshold: int = 1 << 30) -> bool:
    """Let glibc reuse freed CPU tensors instead of unmapping them: with its defaults every
    new activation of a few MB is fresh memory whose page faults dominate small-model CPU
    training (Wang 2021: about 1.5x per epoch, ``benchmarks/wang2021_cost.py``). Returns
    whether it applied (glibc Linux only); a process-wide setting, harmless elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
                    and libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False


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


def checkpoint_digest(path: str | Path) -> str:
    """sha256 of the training state in a checkpoint: weights, optimizer and scheduler states
    and counters (tensors and values, in key order).

    Unlike the file's bytes, it is the same for two runs that saved the same state
    (``torch.save`` writes a random serialization id into every file; callback states such
    as the metrics CSV hold wall-clock times and are left out)."""
    import hashlib

    digest = hashlib.sha256()

    def feed(obj: Any) -> None:
        if isinstance(obj, torch.Tensor):
            t = obj.detach().cpu().contiguous()
            digest.update(f"T{t.dtype}{tuple(t.shape)}".encode())
            digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        elif isinstance(obj, dict):
            digest.update(b"{")
            for key in sorted(obj, key=str):
                digest.update(repr(key).encode())
                feed(obj[key])
            digest.update(b"}")
        elif isinstance(obj, list | tuple):
            digest.update(b"[")
            for item in obj:
                feed(item)
            digest.update(b"]")
        else:
            digest.update(repr(obj).encode())

    state = load_weights(path)
    kept = ("state_dict", "optimizer_states", "lr_schedulers", "epoch", "global_step")
    feed({k: state[k] for k in kept if k in state} if "state_dict" in state else state)
    return digest.hexdigest()
