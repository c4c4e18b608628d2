"""Device and precision of a training job: ``device: auto|cpu|cuda`` plus the job's GPUs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEVICES = ("auto", "cpu", "cuda")


class NoGPUError(RuntimeError):
    """A job asked for a GPU and torch sees none."""


NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")


def driver_sees_gpu(gpus_dir: Path = NVIDIA_GPUS) -> bool:
    """An NVIDIA driver lists a GPU here (torch-free: used while Snakemake plans jobs)."""
    return gpus_dir.is_dir() and any(gpus_dir.iterdir())


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def resolve_device(device: str = "auto", gpus: int = 0) -> str:
    """``'cuda'`` or ``'cpu'``.

    ``auto`` is CUDA when torch sees one; ``cuda`` or a job given GPUs (``gpus > 0``, the
    rule's ``gpu`` resource) without a visible CUDA device is an error, never a silent CPU run.
    """
    if device not in DEVICES:
        raise ValueError(f"train.device must be one of {DEVICES}, not {device!r}")
    wants_gpu = device == "cuda" or gpus > 0
    if wants_gpu and device == "cpu":
        raise NoGPUError("this job was given a GPU (resources gpu>0) but train.device is "
                         "'cpu'; set train.device to 'auto' or 'cuda'")
    has_cuda = cuda_available()
    if wants_gpu and not has_cuda:
        raise NoGPUError(
            "this job asked for a GPU (train.device 'cuda' or resources gpu>0) but "
            "torch.cuda.is_available() is False: a CPU-only torch build or no GPU visible "
            "on this node")
    return "cuda" if (has_cuda and device != "cpu") else "cpu"


@dataclass(frozen=True)
class TrainSettings:
    """Settings every trainer shares (config key ``train``), resolved for one job."""

    device: str = "cpu"  # resolved: 'cpu' or 'cuda'
    precision: str = "32-true"  # used on CUDA only; CPU always trains in float32
    deterministic: bool = True
    progress: bool = True  # one progress line per epoch in the rule's log

    @classmethod
    def from_config(cls, train_cfg: Mapping[str, Any] | None = None, gpus: int = 0
                    ) -> TrainSettings:
        cfg = dict(train_cfg or {})
        return cls(device=resolve_device(str(cfg.get("device", "auto")), int(gpus)),
                   precision=str(cfg.get("precision", "32-true")),
                   deterministic=bool(cfg.get("deterministic", True)),
                   progress=bool(cfg.get("progress", True)))

    @property
    def accelerator(self) -> str:
        """Lightning's name of the device."""
        return "gpu" if self.device == "cuda" else "cpu"

    @property
    def effective_precision(self) -> str:
        return self.precision if self.device == "cuda" else "32-true"
