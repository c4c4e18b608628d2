"""The one LFADS data module (LFADS fits and PBT members): dict batches, per-epoch shuffling
seeded from (seed, epoch) only, independent of the global RNG."""

import numpy as np
import pytest
import torch

from neurodyn.models.lfads_data import EpochShuffle, LFADSDataModule, SeedPerBatch, epoch_seed


def _arrays(n, t=5, m=3, seed=0):
    rng = np.random.default_rng(seed)
    enc = rng.poisson(1.0, (n, t, m)).astype(np.int64)
    return {"encod_data": enc, "recon_data": enc.copy(), "sv_mask": rng.random((n, t, m)) > 0.2,
            "trial": np.arange(n)}


def _epoch_order(dm, epoch):
    loader = dm.train_dataloader()
    loader.sampler.set_epoch(epoch)  # what Lightning does at every epoch start
    return [int(v) for b in loader for v in b["encod_data"][:, 0, 0].tolist()], loader


def test_batches_are_float_dicts_covering_every_trial_once():
    arrays = _arrays(23)
    arrays["encod_data"][:, 0, 0] = np.arange(23)  # tag each trial
    dm = LFADSDataModule(arrays, _arrays(7), batch_size=5, seed=3)
    order, loader = _epoch_order(dm, 0)
    assert sorted(order) == list(range(23)) and len(loader) == 5
    batch = next(iter(loader))
    assert set(batch) == {"encod_data", "recon_data", "sv_mask"}
    assert batch["encod_data"].dtype == torch.float32 and batch["sv_mask"].dtype == torch.bool
    assert batch["encod_data"].shape == (5, 5, 3)
    valid = list(dm.val_dataloader())
    assert len(valid) == 1 and valid[0]["encod_data"].shape[0] == 7  # in order, one batch
    assert torch.equal(valid[0]["recon_data"], torch.as_tensor(_arrays(7)["recon_data"]).float())


def test_shuffle_depends_on_seed_and_epoch_not_on_the_global_rng():
    arrays = _arrays(40)
    arrays["encod_data"][:, 0, 0] = np.arange(40)
    dm = LFADSDataModule(arrays, arrays, batch_size=8, seed=11)
    torch.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002  (the global RNG must not matter)
    e0, _ = _epoch_order(dm, 0)
    e1, _ = _epoch_order(dm, 1)
    torch.manual_seed(12345)  # another global state: same batches
    np.random.seed(999)  # noqa: NPY002
    again0, _ = _epoch_order(LFADSDataModule(arrays, arrays, batch_size=8, seed=11), 0)
    other, _ = _epoch_order(LFADSDataModule(arrays, arrays, batch_size=8, seed=12), 0)
    assert e0 == again0
    assert e0 != e1 and e0 != other
    assert e0 != list(range(40))  # actually shuffled


def test_epoch_shuffle_rejects_empty_and_seed_per_batch_is_reproducible():
    with pytest.raises(ValueError, match="n >= 1"):
        EpochShuffle(0, 4, 0)
    assert epoch_seed(1, 2, 3) == epoch_seed(1, 2, 3) != epoch_seed(1, 2, 4)

    class _T:
        current_epoch = 2

    hook = SeedPerBatch(5)
    hook.on_train_batch_start(_T(), None, None, 1)
    a = torch.rand(3)
    torch.manual_seed(0)
    hook.on_train_batch_start(_T(), None, None, 1)
    assert torch.equal(a, torch.rand(3))
