"""The Ray Tune scheduler applies the shared selection rule on Tune's public scheduler
interface only: same parents and HPs as neurodyn.autolfads.pbt.select for the same scores,
members paused until their generation is complete and resumed once their plan exists; a
local Ray run whose trials ask for GPUs fails when torch sees none (no Ray cluster needed)."""

import inspect
import json
import math

import pytest

pytest.importorskip("ray.tune", reason="ray[tune] is not installed (pip install -e '.[ray]')")

from ray.tune.experiment import Trial  # noqa: E402
from ray.tune.schedulers import TrialScheduler  # noqa: E402

from neurodyn.autolfads import ray_backend  # noqa: E402
from neurodyn.autolfads.pbt import initial_hps, select  # noqa: E402
from neurodyn.autolfads.plan import Schedule  # noqa: E402
from neurodyn.autolfads.ray_backend import (  # noqa: E402
    GenerationStopper,
    TournamentScheduler,
    member_ckpt_path,
)
from neurodyn.autolfads.space import search_space  # noqa: E402

SPACE = search_space({
    "lr_init": {"low": 1e-5, "high": 0.02, "log": True, "init": 0.01, "explore_weight": 0.3},
    "kl_ic_scale": {"low": 0.05, "high": 5, "log": True, "per_element": True,
                    "explore_weight": 0.8},
}, elements_per_trial=600)


class FakeTrial:
    def __init__(self, member):
        self.config = {"member": member}
        self.trial_id = f"t{member}"
        self.status = Trial.RUNNING


class FakeController:
    def __init__(self, trials):
        self.trials = trials

    def get_trials(self):
        return list(self.trials)


def _record(member, generation, score, hps):
    return {"member": member, "generation": generation, "score": score, "hps": hps,
            "fit_id": f"member{member}", "fit_key": "k", "status": "ok"}


def run_generation(tmp_path, scores, generation, burn_in=0, generations=5, slots=None):
    """Members report generation ``generation`` (in another order than member order) with
    ``slots`` of them running at a time: a paused reporter frees its slot for the next."""
    hps = initial_hps(SPACE, len(scores), seed=5)
    schedule = Schedule(len(scores), generations, 2, 1, burn_in, 1)
    stopper = GenerationStopper(schedule)
    sched = TournamentScheduler(SPACE, schedule, 5, tmp_path / "plans", tmp_path / "work",
                                stopper)
    trials = [FakeTrial(m) for m in range(len(scores))]
    controller = FakeController(trials)
    order = list(reversed(trials))  # report order differs from member order
    slots = len(scores) if slots is None else slots
    for i, t in enumerate(order):
        t.status = Trial.RUNNING if i < slots else Trial.PAUSED
    decisions = []
    for t in order:
        assert t.status == Trial.RUNNING
        m = int(t.config["member"])
        s = scores[m]
        rec = _record(m, generation, None if math.isnan(s) else s, hps[m])
        result = {"score": s if math.isfinite(s) else math.inf, "generation": generation,
                  "record": json.dumps(rec)}
        decisions.append(sched.on_trial_result(controller, t, result))
        if decisions[-1] == TrialScheduler.PAUSE:
            t.status = Trial.PAUSED
            waiting = [w for w in order if w.status == Trial.PAUSED and w is not t
                       and int(w.config["member"]) not in sched.results[generation]]
            if waiting:
                waiting[0].status = Trial.RUNNING
    return sched, controller, trials, hps, decisions


@pytest.mark.parametrize("scores", [[3.0, 1.0, 2.0, 4.0], [1.0, math.nan, 2.0, 0.5, 3.0]])
def test_ray_scheduler_uses_the_shared_selection(tmp_path, scores):
    sched, controller, trials, hps, decisions = run_generation(tmp_path, scores, 2, slots=2)
    # a reporter is paused while members of its generation wait for a slot, then the last
    # ones keep their slots; the generation's last report writes the plan
    n = len(scores)
    assert decisions == [TrialScheduler.PAUSE] * (n - 2) + [TrialScheduler.CONTINUE] * 2
    expected = select(scores, hps, SPACE, 2, 0, seed=5)
    plan = json.loads((tmp_path / "plans" / "gen3.json").read_text())
    assert plan["generation"] == 3
    for entry, c in zip(plan["members"], expected, strict=True):
        assert (entry["member"], entry["parent"], entry["hps"]) == (c.member, c.parent, c.hps)
        assert entry["parent_ckpt"] == str(member_ckpt_path(
            tmp_path / "work", {"generation": 2, "fit_id": f"member{c.parent}", "fit_key": "k"}))
    assert sched.selections[-1]["members"] == [c.to_json() for c in expected]
    # paused members are resumed once their next plan exists
    assert sched.choose_trial_to_run(controller) in trials
    (tmp_path / "plans" / "gen3.json").unlink()
    assert sched.choose_trial_to_run(controller) is None
    trials[0].status = Trial.PENDING
    assert sched.choose_trial_to_run(controller) is trials[0]


def test_a_population_that_fits_its_slots_is_never_paused(tmp_path):
    """Pausing stops a trial's actor and starts another for its next generation; when every
    member runs at once, each waits in its slot for its plan instead."""
    sched, *_, decisions = run_generation(tmp_path, [3.0, 1.0, 2.0, 4.0], 1)
    assert decisions == [TrialScheduler.CONTINUE] * 4
    assert (tmp_path / "plans" / "gen2.json").exists()
    paused = FakeTrial(0)
    paused.status = Trial.PAUSED
    assert not sched.rest_running(FakeController([paused]), 2)  # has not reported 2


def test_no_tournament_during_burn_in(tmp_path):
    run_generation(tmp_path, [3.0, 1.0, 2.0, 4.0], 0, burn_in=1)
    plan = json.loads((tmp_path / "plans" / "gen1.json").read_text())
    assert [e["parent"] for e in plan["members"]] == [0, 1, 2, 3]


def test_last_generation_writes_no_plan(tmp_path):
    *_, decisions = run_generation(tmp_path, [3.0, 1.0], 4, generations=5, slots=1)
    assert not (tmp_path / "plans" / "gen5.json").exists()
    assert TrialScheduler.CONTINUE not in decisions  # the stopper ends the trials


def test_scheduler_overrides_no_private_tune_method():
    """Only Tune's public scheduler and stopper interfaces are implemented (a Ray upgrade
    that changes Tune internals cannot silently change the algorithm)."""
    from ray.tune import Stopper
    from ray.tune.schedulers import FIFOScheduler

    for cls, base in ((TournamentScheduler, FIFOScheduler), (GenerationStopper, Stopper)):
        inherited = {n for klass in base.__mro__ for n in vars(klass)}
        overridden = [n for n in vars(cls) if n in inherited and not n.startswith("__")
                      and n != "_abc_impl"]  # set by ABCMeta on every subclass
        assert overridden and not [n for n in overridden if n.startswith("_")], overridden
    source = inspect.getsource(ray_backend)
    assert "schedulers.pbt" not in source and "PopulationBasedTraining" not in source


def test_trials_get_their_own_thread_count_not_the_drivers(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    env = ray_backend.trial_env({"ray": {"cpus_per_trial": 1}}, "/repo/src")["env_vars"]
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
    assert env["PYTHONPATH"].split(":") == ["/repo/src", "/elsewhere"]
    assert ray_backend.trial_threads({"ray": {"cpus_per_trial": 0.5}}) == 1
    assert ray_backend.trial_threads({"ray": {"cpus_per_trial": 3}}) == 3


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


@pytest.mark.slow
def test_a_rerun_resumes_after_the_finished_generations(tmp_path, monkeypatch):
    """A Ray job killed after generation 0 and rerun (here: a first run of one generation,
    then the full two): generation 0's member fits are reused untouched (same records,
    checkpoints not rewritten), generation 1 trains from the plan. Each trial trains on its
    ``cpus_per_trial`` threads, not on the driver's ``OMP_NUM_THREADS`` (Snakemake sets it to
    the job's threads)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    from neurodyn.autolfads.data import synthetic_reaching
    from neurodyn.autolfads.pipeline import load_split
    from neurodyn.autolfads.ray_backend import run_ray_pbt
    from neurodyn.configs import load_config, merge_config
    from neurodyn.io.spikes import write_spikes

    from conftest import REPO

    cfg = load_config(REPO, "tests/data/tiny.yaml")["autolfads"]
    cfg["ray"] = {**cfg["ray"], "num_cpus": 2}
    data = tmp_path / "data.nc"
    write_spikes(synthetic_reaching(cfg["synthetic"], 0), data)
    space = search_space(cfg["search_space"], load_split(data, cfg).elements_per_trial)

    def run(generations):
        c = merge_config(cfg, {"pbt": {"generations": generations}})
        return run_ray_pbt(str(data), c, space, 0, str(tmp_path / "tune"),
                           str(tmp_path / "work"), {"device": "cpu"}, "code")

    first, _, _ = run(1)
    ckpts = [member_ckpt_path(tmp_path / "work", r) for r in first[0]]
    stamps = [p.stat().st_mtime_ns for p in ckpts]
    second, best, selections = run(2)
    assert second[0] == first[0] and [p.stat().st_mtime_ns for p in ckpts] == stamps
    assert [r["generation"] for r in second[1]] == [1, 1] and best.exists()
    assert [r["parent"] for r in second[1]] == [c["parent"] for c in selections[0]["members"]]
    assert cfg["ray"]["cpus_per_trial"] < 2  # the driver's 2 threads would show below
    assert [r["threads"] for g in second for r in g] == [1] * 4
