"""The Ray Tune scheduler applies the shared selection rule: same parents and HPs as
neurodyn.autolfads.pbt.select for the same scores; a local Ray run whose trials ask for GPUs
fails when torch sees none (no Ray cluster needed)."""

import math

import pytest

pytest.importorskip("ray.tune", reason="ray[tune] is not installed (pip install -e '.[ray]')")

from ray.tune.schedulers.pbt import _PBTTrialState  # noqa: E402

from neurodyn.autolfads.pbt import initial_hps, select  # noqa: E402
from neurodyn.autolfads.ray_backend import TournamentPBT  # noqa: E402
from neurodyn.autolfads.space import search_space  # noqa: E402

SPACE = search_space({
    "lr_init": {"low": 1e-5, "high": 0.02, "log": True, "init": 0.01, "explore_weight": 0.3},
    "kl_ic_scale": {"low": 0.05, "high": 5, "log": True, "per_element": True,
                    "explore_weight": 0.8},
}, elements_per_trial=600)


class FakeTrial:
    def __init__(self, member, hps):
        self.config = {"member": member, **hps}
        self.experiment_tag = f"t{member}"

    def is_finished(self):
        return False


def scheduler_with(scores, generation, burn_in=0):
    hps = initial_hps(SPACE, len(scores), seed=5)
    sched = TournamentPBT(SPACE, burn_in_generations=burn_in, seed=5)
    trials = [FakeTrial(m, h) for m, h in enumerate(hps)]
    for t, s in zip(reversed(trials), reversed(scores), strict=True):  # insertion order ≠ member
        state = _PBTTrialState(t)
        state.last_result = {"score": s, "generation": generation}
        sched._trial_state[t] = state
    return sched, trials, hps


@pytest.mark.parametrize("scores", [[3.0, 1.0, 2.0, 4.0], [1.0, math.nan, 2.0, 0.5, 3.0]])
def test_ray_scheduler_uses_the_shared_selection(scores):
    sched, trials, hps = scheduler_with(scores, generation=2)
    lower, upper = sched._quantiles()
    expected = select(scores, hps, SPACE, 2, 0, seed=5)
    cloned = {c.member: c for c in expected if c.cloned}
    assert sorted(int(t.config["member"]) for t in lower) == sorted(cloned)
    assert {int(t.config["member"]) for t in upper} == {c.parent for c in cloned.values()}
    for t in lower:
        c = cloned[int(t.config["member"])]
        parent = trials[c.parent]
        new, _ = sched._get_new_config(t, parent)
        assert new["member"] == c.member  # a clone keeps its own member id
        assert {k: new[k] for k in SPACE.names} == c.hps
    assert sched.selections[-1]["members"] == [c.to_json() for c in expected]


def test_no_tournament_during_burn_in():
    sched, _, _ = scheduler_with([3.0, 1.0, 2.0, 4.0], generation=0, burn_in=1)
    assert sched._quantiles() == ([], [])


def test_local_ray_asking_for_gpus_without_one_fails_loudly(monkeypatch):
    from neurodyn.autolfads.ray_backend import check_gpus
    from neurodyn.train import device
    from neurodyn.train.device import NoGPUError

    monkeypatch.setattr(device, "cuda_available", lambda: False)
    ray_cfg = {"address": None, "gpus_per_trial": 0.5}
    with pytest.raises(NoGPUError, match="GPU"):
        check_gpus({"ray": ray_cfg}, {"device": "auto"})
    check_gpus({"ray": {**ray_cfg, "gpus_per_trial": 0}}, {"device": "auto"})  # CPU trials
    check_gpus({"ray": {**ray_cfg, "address": "ray://head:10001"}}, {})  # trials check
