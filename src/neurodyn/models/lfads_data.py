"""The one LFADS data module, shared by LFADS fits and AutoLFADS (PBT) members.

Batches are dicts (the layout :class:`neurodyn.models.lfads.LFADS` reads): ``encod_data``,
``recon_data``, ``sv_mask`` and, when present, ``ext_input`` (arrays from
:func:`neurodyn.io.spikes.split_arrays`). Training trials are shuffled from (seed, epoch) only,
never from the global RNG, so a fit resumed at an epoch boundary sees the same batches as an
uninterrupted one; :class:`SeedPerBatch` does the same for the model's own randomness
(coordinated-dropout masks, dropout, posterior samples).

    data = LFADSDataModule(train, valid, batch_size=64, seed=7)
    trainer.fit(model, datamodule=data, callbacks=[SeedPerBatch(7)])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback
from torch.utils.data import DataLoader, Dataset, Sampler

BATCH_KEYS = ("encod_data", "recon_data", "sv_mask", "ext_input")
VALID_BATCH = 256  # smallest validation batch (validation has no gradient: bigger is cheaper)


def epoch_seed(seed: int, *step: int) -> int:
    """A 32-bit seed derived from ``seed`` and the step coordinates (epoch, batch, …)."""
    return int(np.random.SeedSequence([int(seed), *map(int, step)]).generate_state(1)[0])


class EpochShuffle(Sampler[list[int]]):
    """Batches of trial indices, shuffled from (seed, epoch) so a resumed epoch matches.

    Lightning calls :meth:`set_epoch` at every epoch start (also after a restore)."""

    def __init__(self, n: int, batch_size: int, seed: int) -> None:
        if n < 1 or batch_size < 1:
            raise ValueError(f"EpochShuffle needs n >= 1 and batch_size >= 1, got {n}, "
                             f"{batch_size}")
        self.n, self.batch_size, self.seed, self.epoch = n, batch_size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[list[int]]:
        order = np.random.default_rng(epoch_seed(self.seed, self.epoch)).permutation(self.n)
        for start in range(0, self.n, self.batch_size):
            yield order[start:start + self.batch_size].tolist()

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)


class TrialBatches(Dataset):
    """Indexed by a list of trial indices → one dict batch (no per-item collation)."""

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        if "encod_data" not in arrays or "recon_data" not in arrays:
            raise KeyError(f"LFADS batches need 'encod_data' and 'recon_data'; got "
                           f"{sorted(arrays)}")
        self.tensors: dict[str, torch.Tensor] = {}
        for key in BATCH_KEYS:
            if key not in arrays:
                continue
            value = np.asarray(arrays[key])
            self.tensors[key] = (torch.as_tensor(value.astype(bool)) if key == "sv_mask"
                                 else torch.as_tensor(value, dtype=torch.float32))
        if "sv_mask" not in self.tensors:
            self.tensors["sv_mask"] = torch.ones(self.tensors["encod_data"].shape,
                                                 dtype=torch.bool)
        self.n = int(self.tensors["encod_data"].shape[0])

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, idx: list[int]) -> dict[str, torch.Tensor]:
        index = torch.as_tensor(idx, dtype=torch.long)
        return {k: v[index] for k, v in self.tensors.items()}


def trial_loader(arrays: Mapping[str, np.ndarray], batch_size: int,
                 seed: int | None = None) -> DataLoader:
    """Dict batches of ``arrays``: shuffled per epoch from ``seed``, or in order (``None``)."""
    data = TrialBatches(arrays)
    if seed is None:
        batches: Any = [list(range(s, min(s + batch_size, data.n)))
                        for s in range(0, data.n, batch_size)]
    else:
        batches = EpochShuffle(data.n, batch_size, seed)
    return DataLoader(data, sampler=batches, batch_size=None)


class LFADSDataModule(L.LightningDataModule):
    """Train (shuffled from (seed, epoch)) and valid (in order) dict batches.

    ``valid_batch_size`` defaults to ``max(batch_size, 256)``."""

    def __init__(self, train: Mapping[str, np.ndarray], valid: Mapping[str, np.ndarray],
                 batch_size: int, seed: int = 0, valid_batch_size: int | None = None) -> None:
        super().__init__()
        self.train, self.valid = train, valid
        self.batch_size, self.seed = int(batch_size), int(seed)
        self.valid_batch_size = int(valid_batch_size or max(self.batch_size, VALID_BATCH))

    def train_dataloader(self) -> DataLoader:
        return trial_loader(self.train, self.batch_size, seed=self.seed)

    def val_dataloader(self) -> DataLoader:
        return trial_loader(self.valid, self.valid_batch_size, seed=None)


class SeedPerBatch(Callback):
    """Reseed torch before every training batch from (seed, epoch, batch) and before every
    validation epoch from (seed, epoch), so a fit resumed from an epoch checkpoint draws the
    same CD masks, dropout and posterior samples as an uninterrupted one."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any,
                             batch_idx: int) -> None:
        torch.manual_seed(epoch_seed(self.seed, trainer.current_epoch, batch_idx))

    def on_validation_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        torch.manual_seed(epoch_seed(self.seed, trainer.current_epoch, 1 << 30))
