"""PBT members trained as one batched population follow their lone fits: from scratch and from
a parent checkpoint (weights, AdamW moments, epoch count, smoothing/LR state, the clone's new
HPs), over two generations; a numeric failure hands on the parent, and a killed job reruns
to the same result."""

import math

import pytest
import torch
from autolfads_helpers import MEMBER_DATA, MEMBER_HPS, MEMBER_METRIC, MEMBER_MODEL

from neurodyn.autolfads.data import nlb_split, synthetic_reaching
from neurodyn.autolfads.member import MEMBER_CKPT, MemberTask, train_member
from neurodyn.autolfads.member_population import train_population
from neurodyn.train.device import TrainSettings
from neurodyn.train.runtime import load_weights, quiet_lightning

DATA, MODEL, HPS, METRIC = MEMBER_DATA, MEMBER_MODEL, MEMBER_HPS, MEMBER_METRIC
OTHER = {**HPS, "lr_init": 0.004, "dropout_rate": 0.25, "kl_ic_scale": 3e-4}
CPU = TrainSettings(device="cpu", progress=False)
pytestmark = pytest.mark.filterwarnings("ignore:The dirpath has changed")


@pytest.fixture(scope="module")
def split():
    quiet_lightning()
    torch.set_num_threads(1)
    return nlb_split(synthetic_reaching(DATA, 0), "pop", {"lag_ms": 100, "psth_sd_ms": 50})


def lone(split, tmp, task, name):
    return train_member(task, split.train, split.valid, MODEL, 16, METRIC, tmp / name,
                        settings=CPU)


def together(split, tmp, tasks, names):
    return train_population(tasks, split.train, split.valid, MODEL, 16, METRIC,
                            [tmp / n for n in names], progress=False)


def assert_same_member(mine, ref, mine_dir, ref_dir):
    assert (mine.status, mine.start, mine.epochs) == (ref.status, ref.start, ref.epochs)
    assert mine.score == pytest.approx(ref.score, rel=1e-4)
    assert len(mine.history) == len(ref.history)
    for a, b in zip(mine.history, ref.history, strict=True):
        assert a.keys() == b.keys()
        for key, value in b.items():
            if value is None:
                assert a[key] is None, key
            else:
                assert a[key] == pytest.approx(value, rel=1e-4, abs=1e-6), (b["epoch"], key)
    got, want = load_weights(mine_dir / MEMBER_CKPT), load_weights(ref_dir / MEMBER_CKPT)
    for key, value in want["state_dict"].items():
        torch.testing.assert_close(got["state_dict"][key], value, rtol=1e-4, atol=1e-5)
    got_opt, want_opt = got["optimizer_states"][0], want["optimizer_states"][0]
    assert got_opt["state"].keys() == want_opt["state"].keys()
    for i, entry in want_opt["state"].items():
        assert float(got_opt["state"][i]["step"]) == float(entry["step"])
        for key in ("exp_avg", "exp_avg_sq"):
            torch.testing.assert_close(got_opt["state"][i][key], entry[key], rtol=1e-3,
                                       atol=1e-7)
    for key in ("lfads_lr", "lfads_hparams"):
        assert got[key] == pytest.approx(want[key]), key


def test_generation_zero_members_train_like_lone_members(split, tmp_path):
    tasks = [MemberTask(0, 0, HPS, seed=3, target_epochs=3),
             MemberTask(1, 0, OTHER, seed=4, target_epochs=3)]
    pop = together(split, tmp_path, tasks, ["p0", "p1"])
    for i, task in enumerate(tasks):
        ref = lone(split, tmp_path, task, f"l{i}")
        assert_same_member(pop[i], ref, tmp_path / f"p{i}", tmp_path / f"l{i}")
    assert pop[0].score != pop[1].score  # the comparison can fail


def test_members_continue_a_parent_like_lone_members(split, tmp_path):
    """From one lone parent: a clone with new HPs (incl. LR) and a member keeping its own; a
    next generation from the population's own checkpoint goes on like the lone chain."""
    lone(split, tmp_path, MemberTask(0, 0, HPS, seed=1, target_epochs=2), "parent")
    ckpt = str(tmp_path / "parent" / MEMBER_CKPT)
    tasks = [MemberTask(0, 1, HPS, seed=5, target_epochs=4, parent=0, parent_ckpt=ckpt),
             MemberTask(1, 1, OTHER, seed=6, target_epochs=4, parent=0, parent_ckpt=ckpt)]
    pop = together(split, tmp_path, tasks, ["p0", "p1"])
    refs = [lone(split, tmp_path, task, f"l{i}") for i, task in enumerate(tasks)]
    for i in range(2):
        assert_same_member(pop[i], refs[i], tmp_path / f"p{i}", tmp_path / f"l{i}")
    assert pop[1].history[-1]["lr"] == pytest.approx(0.004)  # the clone's LR applied
    nxt = [MemberTask(1, 2, OTHER, seed=9, target_epochs=5, parent=1,
                      parent_ckpt=str(tmp_path / f"{origin}1" / MEMBER_CKPT))
           for origin in ("p", "l")]
    [pop_next] = together(split, tmp_path, nxt[:1], ["next_p"])  # from its own checkpoint
    lone_next = lone(split, tmp_path, nxt[1], "next_l")
    assert_same_member(pop_next, lone_next, tmp_path / "next_p", tmp_path / "next_l")


def test_numeric_failure_hands_on_the_parent_and_spares_the_others(split, tmp_path):
    lone(split, tmp_path, MemberTask(0, 0, HPS, seed=1, target_epochs=1), "parent")
    state = load_weights(tmp_path / "parent" / MEMBER_CKPT)
    state["state_dict"] = {k: torch.full_like(v, math.nan) for k, v in state["state_dict"].items()}
    torch.save(state, tmp_path / "poisoned.ckpt")
    good = str(tmp_path / "parent" / MEMBER_CKPT)
    tasks = [MemberTask(0, 1, HPS, seed=2, target_epochs=2, parent=0,
                        parent_ckpt=str(tmp_path / "poisoned.ckpt")),
             MemberTask(1, 1, HPS, seed=2, target_epochs=2, parent=0, parent_ckpt=good)]
    failed, ok = together(split, tmp_path, tasks, ["bad", "good"])
    assert failed.status == "failed" and math.isnan(failed.score)
    assert "non-finite" in failed.error and failed.to_json()["score"] is None
    handed = load_weights(tmp_path / "bad" / MEMBER_CKPT)["state_dict"]
    assert all(torch.isnan(v).all() for v in handed.values())  # the parent it started from
    ref = lone(split, tmp_path, tasks[1], "ref")
    assert_same_member(ok, ref, tmp_path / "good", tmp_path / "ref")


def test_members_of_one_population_end_at_one_epoch(split, tmp_path):
    tasks = [MemberTask(0, 0, HPS, seed=1, target_epochs=2),
             MemberTask(1, 0, HPS, seed=2, target_epochs=3)]
    with pytest.raises(ValueError, match="one epoch"):
        together(split, tmp_path, tasks, ["a", "b"])


def test_a_killed_population_job_reruns_to_the_same_result(split, tmp_path, monkeypatch):
    """A job killed mid-generation leaves its fit folders behind; the rerun retrains the
    population from the parents and writes what an uninterrupted run writes."""
    from neurodyn.autolfads.member import member_runner, train_members
    from neurodyn.models.lfads_population_fit import PopulationFit

    cfg = {"model": MODEL, "batch_size": 16, "metric": METRIC}
    data = tmp_path / "data.nc"
    data.write_bytes(b"stand-in for the dataset file")
    tasks = [MemberTask(0, 0, HPS, seed=3, target_epochs=3),
             MemberTask(1, 0, OTHER, seed=4, target_epochs=3)]

    def job(work):
        runner = member_runner(tmp_path / work, cfg, CPU, "c1", data)
        return train_members(runner, tasks, split.train, split.valid, cfg, CPU)

    whole = job("whole")
    real_epoch = PopulationFit.train_epoch
    calls = []

    def killed_after_two(self):
        if len(calls) == 2:
            raise KeyboardInterrupt  # stands in for SIGKILL: nothing is written
        calls.append(1)
        real_epoch(self)

    monkeypatch.setattr(PopulationFit, "train_epoch", killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        job("killed")
    assert not list((tmp_path / "killed").rglob(MEMBER_CKPT))  # no result handed on
    monkeypatch.setattr(PopulationFit, "train_epoch", real_epoch)
    rerun = job("killed")
    for (a, ckpt_a), (b, ckpt_b) in zip(whole, rerun, strict=True):
        assert a == b
        sa, sb = load_weights(ckpt_a)["state_dict"], load_weights(ckpt_b)["state_dict"]
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
