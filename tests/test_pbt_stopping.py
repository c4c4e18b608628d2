"""PBT length: autolfads-tf2's improvement-ratio stopping rule next to a fixed generation
count; after an early stop the planned generations are no-op copies (both backends)."""

import math

import numpy as np
import pytest

from neurodyn.autolfads.generations import initial_plan, next_plan, stopped_records
from neurodyn.autolfads.pbt import improvement_ratio, stop_by_improvement
from neurodyn.autolfads.pipeline import pad_stopped, summarise, trained_generations
from neurodyn.autolfads.plan import Schedule
from neurodyn.autolfads.space import search_space

SPACE = search_space({"lr_init": {"low": 1e-4, "high": 0.02, "log": True,
                                  "explore_weight": 0.3}}, elements_per_trial=10)


def reference_ratio(best_metrics, patience):
    """autolfads-tf2's MultiStrategyPBT by hand: scores are negated metrics, a deque of the
    last ``patience`` generation-best scores, (max - first) / mean(|.|)."""
    buffer = [-m for m in best_metrics][-patience:]
    return (np.max(buffer) - buffer[0]) / np.mean(np.abs(buffer))


@pytest.mark.parametrize("best", [[1.0, 0.9, 0.8, 0.79, 0.7895], [5.0, 5.0, 5.0, 5.0],
                                  [2.0, 2.1, 1.9999, 2.05, 2.2], [-1.0, -1.2, -1.25, -1.2501]])
def test_ratio_matches_autolfads_tf2(best):
    assert improvement_ratio(best, 4) == pytest.approx(reference_ratio(best, 4), abs=1e-15)
    assert improvement_ratio(best[:3], 4) is None  # the buffer is not full yet


def test_stop_rule_on_constructed_scores():
    improving = [1.0 * 0.9 ** g for g in range(10)]
    assert not any(stop_by_improvement(improving[:g + 1], 4, 5e-4) for g in range(10))
    plateau = [1.0, 0.8, 0.7, 0.69990, 0.69985, 0.69984]
    stops = [stop_by_improvement(plateau[:g + 1], 3, 5e-4) for g in range(len(plateau))]
    assert stops == [False, False, False, False, True, True]  # (0.7 - 0.69984)/0.7 < 5e-4
    assert not stop_by_improvement([1.0, math.nan, 0.5, 0.5], 4, 5e-4)  # a failed generation


def _records(scores, generation):
    return [{"member": m, "generation": generation,
             "parent": None if generation == 0 else m, "hps": {"lr_init": 0.01},
             "seed": m, "epochs": 10, "score": s, "status": "ok", "start": "scratch",
             "history": [{"epoch": 0}], "reason": "init"} for m, s in enumerate(scores)]


def _run(schedule, best_per_gen):
    """Snakemake-backend plans and records for constructed generation scores."""
    plan = initial_plan(SPACE, schedule, seed=0)
    population = []
    for g in range(schedule.generations):
        stopped = stopped_records(plan, range(schedule.population), "plan.json")
        gen = stopped if stopped is not None else _records(
            [best_per_gen[g], best_per_gen[g] + 0.5], g)
        population.append(gen)
        if g + 1 < schedule.generations:
            plan = next_plan(plan, gen, schedule, 0, "plan.json")
    return plan, population


def test_snakemake_plans_end_the_population_early():
    best = [1.0, 0.8, 0.7, 0.69990, 0.69985, 0.69984, 0.5, 0.4]
    improvement = Schedule(2, 8, 10, 5, 0, 1, "improvement", 3, 5e-4)
    plan, population = _run(improvement, best)
    assert plan["stopped_after"] == 4 and plan["best_scores"] == best[:5]
    assert [g[0]["reason"] for g in population[5:]] == ["stopped"] * 3
    assert all(r["parent"] == r["member"] and r["history"] == [] for g in population[5:]
               for r in g)
    assert [r["score"] for r in population[-1]] == [r["score"] for r in population[4]]
    assert len(trained_generations(population)) == 5
    summary = summarise(population)
    assert summary["generations_trained"] == 5 and summary["stopped_early"]
    assert summary["best_score"] == best[4] and summary["member_generations"] == 16
    # the Ray backend's padding writes the same no-op records
    padded = pad_stopped(population[:5], 8)
    assert padded[5:] == population[5:]
    fixed = Schedule(2, 8, 10, 5, 0, 1)  # the default: a fixed count, never stops
    plan, population = _run(fixed, best)
    assert plan["stopped_after"] is None and not summarise(population)["stopped_early"]
    assert all(r["reason"] != "stopped" for g in population for r in g)


def test_schedule_reads_the_switch():
    cfg = {"pbt": {"population": 4, "generations": 50, "first_generation_epochs": 10,
                   "epochs_per_generation": 5, "burn_in_generations": 0, "members_per_job": 1}}
    assert Schedule.from_config(cfg).stopping == "fixed"
    s = Schedule.from_config({"pbt": {**cfg["pbt"], "stopping": "improvement", "patience": 6,
                                      "min_improvement": 1e-3}})
    assert (s.stopping, s.patience, s.min_improvement) == ("improvement", 6, 1e-3)
    with pytest.raises(ValueError, match="stopping"):
        Schedule.from_config({"pbt": {**cfg["pbt"], "stopping": "sometimes"}})


def test_ray_stopper_stops_all_after_the_same_generation():
    pytest.importorskip("ray.tune", reason="ray[tune] is not installed")
    from neurodyn.autolfads.ray_backend import GenerationStopper

    best = [1.0, 0.8, 0.7, 0.69990, 0.69985, 0.69984, 0.5]
    stopper = GenerationStopper(Schedule(2, 7, 10, 5, 0, 1, "improvement", 3, 5e-4))
    for g, b in enumerate(best):
        for trial, s in (("b", b + 0.5), ("a", b)):  # any report order
            assert stopper(trial, {"score": s, "generation": g}) is False
        if stopper.stop_all():
            break
    assert stopper.stopped_after == 4 and stopper.best == best[:5]
    fixed = GenerationStopper(Schedule(2, 7, 10, 5, 0, 1))
    ends = [fixed(t, {"score": b, "generation": g}) for g, b in enumerate(best) for t in "ab"]
    assert ends == [False] * 12 + [True, True]  # each trial ends after the last generation
    assert not fixed.stop_all() and fixed.stopped_after is None
