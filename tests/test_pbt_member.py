"""PBT members on a tiny LFADS: kill/resume gives the same result, exploit copies the winner's
weights and applies the clone's HPs (incl. the learning rate), a crash is recorded, not lost."""

import math

import pytest
import torch
from lightning.pytorch.callbacks import Callback

from neurodyn.autolfads.data import nlb_split, synthetic_reaching
from neurodyn.hpo.member import MemberTask, train_member
from neurodyn.train.runtime import load_weights, quiet_lightning

DATA = {"n_neurons": 20, "n_heldout": 5, "n_conditions": 4, "trials_per_condition": 10,
        "bin_width_s": 0.02, "window_s": [-0.25, 0.35], "n_forward_bins": 5}
MODEL = {"ic_enc_dim": 8, "ci_enc_dim": 8, "con_dim": 8, "co_dim": 1, "ic_dim": 8,
         "gen_dim": 12, "fac_dim": 4, "l2_increase_epoch": 2, "kl_increase_epoch": 2}
HPS = {"lr_init": 0.01, "dropout_rate": 0.1, "cd_rate": 0.3, "kl_ic_scale": 1e-4,
       "kl_co_scale": 1e-4, "l2_gen_scale": 1e-2, "l2_con_scale": 1e-2}
METRIC = "valid/recon_heldin_smth"


class Killed(BaseException):
    """Stands in for SIGKILL: not caught by the member's failure handling."""


class KillAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_train_epoch_end(self, trainer, pl_module):  # runs before the epoch's checkpoint
        if trainer.current_epoch == self.epoch:
            raise Killed()


class CrashAt(KillAt):
    def on_train_epoch_end(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            raise RuntimeError("simulated crash")


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


def run(split, tmp, task, name, **kw):
    return train_member(task, split.train, split.valid, MODEL, 16, METRIC, tmp / name / "work",
                        tmp / name / "out.ckpt", **kw)


def test_killed_member_resumes_identically(split, tmp_path):
    task = MemberTask(member=0, generation=0, hps=HPS, seed=3, target_epochs=4)
    whole = run(split, tmp_path, task, "whole")
    with pytest.raises(Killed):
        run(split, tmp_path, task, "killed", extra_callbacks=[KillAt(2)])
    assert load_weights(tmp_path / "killed/work/last.ckpt")["epoch"] == 1  # 2 epochs saved
    resumed = run(split, tmp_path, task, "killed")
    assert resumed.resumed_from == "own" and whole.resumed_from == "scratch"
    assert whole.status == resumed.status == "ok" and math.isfinite(whole.score)
    assert resumed.score == whole.score
    assert resumed.history == whole.history
    a = load_weights(tmp_path / "whole/out.ckpt")["state_dict"]
    b = load_weights(tmp_path / "killed/out.ckpt")["state_dict"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    other_seed = run(split, tmp_path, MemberTask(0, 0, HPS, seed=4, target_epochs=4), "seed4")
    assert other_seed.score != whole.score  # the comparison can fail


def test_exploit_copies_weights_and_applies_hps(split, tmp_path):
    parent = run(split, tmp_path, MemberTask(0, 0, HPS, seed=1, target_epochs=2), "parent")
    new_hps = {**HPS, "lr_init": 0.004, "dropout_rate": 0.25, "kl_ic_scale": 3e-4}
    cap = Capture()
    clone = run(split, tmp_path, MemberTask(1, 1, new_hps, seed=7, target_epochs=3, parent=0,
                                            parent_ckpt=str(tmp_path / "parent/out.ckpt")),
                "clone", extra_callbacks=[cap])
    winner = load_weights(tmp_path / "parent/out.ckpt")
    assert all(torch.equal(cap.state[k], v) for k, v in winner["state_dict"].items())
    assert cap.epoch == 2 and cap.lr == pytest.approx(0.004)  # lr re-applied after restore
    assert all(cap.hps[k] == v for k, v in new_hps.items())
    assert clone.resumed_from == "parent" and clone.history[:2] == parent.history
    saved = load_weights(tmp_path / "clone/out.ckpt")
    assert saved["optimizer_states"][0]["param_groups"][0]["lr"] == pytest.approx(0.004)
    assert saved["lfads_hparams"]["dropout_rate"] == 0.25
    assert clone.history[-1]["hp/kl_ic_scale"] == pytest.approx(3e-4)


def test_crashed_member_is_recorded_and_keeps_its_start(split, tmp_path):
    run(split, tmp_path, MemberTask(0, 0, HPS, seed=1, target_epochs=1), "parent")
    crashed = run(split, tmp_path, MemberTask(0, 1, HPS, seed=1, target_epochs=3, parent=0,
                                              parent_ckpt=str(tmp_path / "parent/out.ckpt")),
                  "crash", extra_callbacks=[CrashAt(1)])
    assert crashed.status == "failed" and math.isnan(crashed.score)
    assert "simulated crash" in crashed.error and crashed.to_json()["score"] is None
    passed_on = load_weights(tmp_path / "crash/out.ckpt")["state_dict"]
    start = load_weights(tmp_path / "parent/out.ckpt")["state_dict"]
    assert all(torch.equal(passed_on[k], start[k]) for k in start)
