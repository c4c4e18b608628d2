"""PBT members on a tiny LFADS: kill/resume gives the same result, exploit copies the winner's
weights and applies the clone's HPs (incl. the learning rate), a numeric failure is recorded
(not lost) while out-of-memory and I/O errors are raised, and keyed fits are reused only while
nothing they depend on changed."""

import math

import pytest
import torch
from autolfads_helpers import MEMBER_DATA, MEMBER_HPS, MEMBER_METRIC, MEMBER_MODEL
from lightning.pytorch.callbacks import Callback

from neurodyn.autolfads.data import nlb_split, synthetic_reaching
from neurodyn.autolfads.member import (
    MEMBER_CKPT,
    MemberTask,
    member_runner,
    train_member,
    train_members,
)
from neurodyn.train.device import TrainSettings
from neurodyn.train.runtime import load_weights, quiet_lightning

DATA, MODEL, HPS, METRIC = MEMBER_DATA, MEMBER_MODEL, MEMBER_HPS, MEMBER_METRIC
# a member restored from its parent checkpoint trains in another folder: expected
pytestmark = pytest.mark.filterwarnings("ignore:The dirpath has changed")


class Killed(BaseException):
    """Stands in for SIGKILL: not caught by the member's failure handling."""


class KillAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_train_epoch_end(self, trainer, pl_module):  # runs before the epoch's checkpoint
        if trainer.current_epoch == self.epoch:
            raise Killed()


class PoisonAt(Callback):
    """Make the weights NaN at the first batch of ``epoch``: a numeric blow-up."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.current_epoch == self.epoch and batch_idx == 0:
            with torch.no_grad():
                for p in pl_module.parameters():
                    p.fill_(float("nan"))


class RaiseAt(Callback):
    def __init__(self, exc):
        self.exc = exc

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        raise self.exc


class Capture(Callback):
    def on_train_start(self, trainer, pl_module):
        self.state = {k: v.clone() for k, v in pl_module.state_dict().items()}
        self.lr = trainer.optimizers[0].param_groups[0]["lr"]
        self.hps = dict(pl_module.hparams)
        self.epoch = trainer.current_epoch


@pytest.fixture(scope="module")
def split():
    quiet_lightning()
    torch.set_num_threads(1)
    return nlb_split(synthetic_reaching(DATA, 0), "mem", {"lag_ms": 100, "psth_sd_ms": 50})


CPU = TrainSettings(device="cpu", progress=False)


def run(split, tmp, task, name, callbacks=()):
    return train_member(task, split.train, split.valid, MODEL, 16, METRIC, tmp / name,
                        settings=CPU, callbacks=callbacks)


def test_killed_member_resumes_identically(split, tmp_path):
    task = MemberTask(member=0, generation=0, hps=HPS, seed=3, target_epochs=4)
    whole = run(split, tmp_path, task, "whole")
    with pytest.raises(Killed):
        run(split, tmp_path, task, "killed", callbacks=[KillAt(2)])
    assert load_weights(tmp_path / "killed/last.ckpt")["epoch"] == 1  # 2 epochs saved
    resumed = run(split, tmp_path, task, "killed")
    assert resumed.resumed_own and not whole.resumed_own
    assert resumed.to_json() == whole.to_json()  # the record does not tell a resumed run
    assert whole.status == resumed.status == "ok" and math.isfinite(whole.score)
    assert resumed.score == whole.score
    assert resumed.history == whole.history
    a = load_weights(tmp_path / "whole" / MEMBER_CKPT)["state_dict"]
    b = load_weights(tmp_path / "killed" / MEMBER_CKPT)["state_dict"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    other_seed = run(split, tmp_path, MemberTask(0, 0, HPS, seed=4, target_epochs=4), "seed4")
    assert other_seed.score != whole.score  # the comparison can fail


def test_exploit_copies_weights_and_applies_hps(split, tmp_path):
    parent = run(split, tmp_path, MemberTask(0, 0, HPS, seed=1, target_epochs=2), "parent")
    new_hps = {**HPS, "lr_init": 0.004, "dropout_rate": 0.25, "kl_ic_scale": 3e-4}
    cap = Capture()
    clone = run(split, tmp_path, MemberTask(1, 1, new_hps, seed=7, target_epochs=3, parent=0,
                                            parent_ckpt=str(tmp_path / "parent" / MEMBER_CKPT)),
                "clone", callbacks=[cap])
    winner = load_weights(tmp_path / "parent" / MEMBER_CKPT)
    assert all(torch.equal(cap.state[k], v) for k, v in winner["state_dict"].items())
    assert cap.epoch == 2 and cap.lr == pytest.approx(0.004)  # lr re-applied after restore
    assert all(cap.hps[k] == v for k, v in new_hps.items())
    assert clone.start == "parent" and clone.history[:2] == parent.history
    saved = load_weights(tmp_path / "clone" / MEMBER_CKPT)
    assert saved["optimizer_states"][0]["param_groups"][0]["lr"] == pytest.approx(0.004)
    assert saved["lfads_hparams"]["dropout_rate"] == 0.25
    assert clone.history[-1]["hp/kl_ic_scale"] == pytest.approx(3e-4)


def parent_and_child(split, tmp_path, epochs=3):
    run(split, tmp_path, MemberTask(0, 0, HPS, seed=1, target_epochs=1), "parent")
    return MemberTask(0, 1, HPS, seed=1, target_epochs=epochs, parent=0,
                      parent_ckpt=str(tmp_path / "parent" / MEMBER_CKPT))


def test_numeric_failure_is_recorded_and_keeps_its_start(split, tmp_path):
    child = parent_and_child(split, tmp_path)
    failed = run(split, tmp_path, child, "nan", callbacks=[PoisonAt(1)])
    assert failed.status == "failed" and math.isnan(failed.score)
    assert "non-finite training loss" in failed.error and failed.to_json()["score"] is None
    passed_on = load_weights(tmp_path / "nan" / MEMBER_CKPT)["state_dict"]
    start = load_weights(tmp_path / "parent" / MEMBER_CKPT)["state_dict"]
    assert all(torch.equal(passed_on[k], start[k]) for k in start)
    healthy = run(split, tmp_path, child, "ok")
    assert healthy.status == "ok" and math.isfinite(healthy.score)  # only the NaN failed


@pytest.mark.parametrize("exc", [torch.cuda.OutOfMemoryError("CUDA out of memory."),
                                 RuntimeError("CUDA error: out of memory"),
                                 OSError(28, "No space left on device")])
def test_out_of_memory_and_io_errors_are_raised_not_scored(split, tmp_path, exc):
    child = parent_and_child(split, tmp_path)
    with pytest.raises(type(exc), match=str(exc.args[-1])[:12]):
        run(split, tmp_path, child, "err", callbacks=[RaiseAt(exc)])
    assert not (tmp_path / "err" / MEMBER_CKPT).exists()  # nothing handed on as a result


def test_member_fits_are_keyed_on_what_they_depend_on(split, tmp_path, caplog):
    cfg = {"model": MODEL, "batch_size": 16, "metric": METRIC}
    data = tmp_path / "data.nc"
    data.write_bytes(b"stand-in for the dataset file")
    child = parent_and_child(split, tmp_path, epochs=2)

    def train(task, model=MODEL, code="c1"):
        runner = member_runner(tmp_path / "work", {**cfg, "model": model}, CPU, code, data)
        with caplog.at_level("INFO", logger="neurodyn"):
            caplog.clear()
            [(record, ckpt)] = train_members(runner, [task], split.train, split.valid,
                                             {**cfg, "model": model}, CPU)
        assert ckpt.is_file()
        return record, "1 reused" in caplog.text

    first, reused = train(child)
    assert not reused and first["status"] == "ok"
    again, reused = train(child)
    assert reused and again == first
    _, reused = train(child, code="c2")
    assert not reused  # other code
    _, reused = train(MemberTask(0, 1, HPS, seed=1, target_epochs=3, parent=0,
                                 parent_ckpt=child.parent_ckpt))
    assert not reused  # a longer training
    _, reused = train(child, model={**MODEL, "l2_increase_epoch": 3})
    assert not reused  # another model config
    run(split, tmp_path, MemberTask(0, 0, HPS, seed=2, target_epochs=1), "parent")
    _, reused = train(child)
    assert not reused  # the parent checkpoint's content changed
