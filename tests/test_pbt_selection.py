"""PBT search space and selection rule: bounds, explore, binary tournament, failures."""

import math

import numpy as np
import pytest

from neurodyn.autolfads.pbt import explore, initial_hps, select, tournament
from neurodyn.autolfads.space import search_space
from neurodyn.errors import InputError

PAPER_2019 = {  # Keshtkaran & Pandarinath 2019, Table 1 (summed-NLL units)
    "lr_init": {"low": 1e-5, "high": 0.02, "log": True, "init": 0.01, "explore_weight": 0.3},
    "dropout_rate": {"low": 0.0, "high": 0.7, "log": False, "explore_weight": 0.3},
    "cd_rate": {"low": 0.01, "high": 0.7, "log": False, "init": 0.5, "explore_weight": 0.3},
    "kl_ic_scale": {"low": 0.05, "high": 5, "log": True, "per_element": True,
                    "explore_weight": 0.8},
    "kl_co_scale": {"low": 0.05, "high": 5, "log": True, "per_element": True,
                    "explore_weight": 0.8},
    "l2_gen_scale": {"low": 5, "high": 5e4, "log": True, "per_element": True,
                     "explore_weight": 0.8},
    "l2_con_scale": {"low": 5, "high": 5e4, "log": True, "per_element": True,
                     "explore_weight": 0.8},
}


@pytest.fixture
def space():
    return search_space(PAPER_2019, elements_per_trial=100 * 50)


def test_conversion_to_mean_nll_scale(space):
    by = {p.name: p for p in space.params}
    assert by["kl_ic_scale"].low == pytest.approx(1e-5) and by["kl_ic_scale"].high == 1e-3
    assert by["l2_gen_scale"].low == pytest.approx(1e-3) and by["l2_gen_scale"].high == 10
    assert by["lr_init"].low == 1e-5 and by["lr_init"].init == 0.01  # not per element
    assert by["cd_rate"].init == 0.5


def test_bad_space_names_field():
    bad = {"lr_init": {**PAPER_2019["lr_init"], "init": 1.0}}
    with pytest.raises(InputError, match="lr_init.init"):
        search_space(bad, 10)
    with pytest.raises(InputError, match="low"):
        search_space({"x": {"low": 0.0, "high": 1.0, "log": True, "explore_weight": 0.1}}, 10)


def test_initial_hps_in_bounds_and_reproducible(space):
    a, b = initial_hps(space, 20, seed=3), initial_hps(space, 20, seed=3)
    assert a == b and all(space.contains(h) for h in a)
    assert len({h["kl_ic_scale"] for h in a}) == 20  # sampled
    assert {h["lr_init"] for h in a} == {0.01}  # fixed init


def test_explore_keeps_every_hp_in_bounds(space):
    rng = np.random.default_rng(0)
    edge = {p.name: (p.high if i % 2 else p.low) for i, p in enumerate(space.params)}
    for start in (edge, initial_hps(space, 1, 0)[0]):
        hps = dict(start)
        for _ in range(300):
            new = explore(hps, space, rng)
            assert space.contains(new), new
            for p in space.params:  # bounded step: x or / (1 + w) in log, ± w·range linear
                if p.log:
                    ratio = new[p.name] / hps[p.name]
                    w = 1 + p.explore_weight
                    assert 1 / w - 1e-12 <= ratio <= w + 1e-12
                else:
                    step = abs(new[p.name] - hps[p.name])
                    assert step <= p.explore_weight * (p.high - p.low) + 1e-12
            hps = new
    # a perturbation changes the values (never a no-op)
    moved = explore(initial_hps(space, 1, 0)[0], space, rng)
    assert all(moved[k] != v for k, v in initial_hps(space, 1, 0)[0].items())


def test_tournament_losers_clone_winners():
    scores = [5.0, 1.0, 3.0, 2.0, 4.0]
    parent, unpaired = tournament(scores, np.random.default_rng(0))
    losers = [m for m, p in parent.items() if p != m]
    assert len(losers) == 2 and unpaired is not None
    for m in losers:
        assert scores[parent[m]] < scores[m] and parent[parent[m]] == parent[m]
    assert 1 not in losers  # the best member never loses


def test_select_burn_in_failures_and_explore(space):
    hps = initial_hps(space, 4, seed=1)
    burn = select([1.0, 2.0, 3.0, 4.0], hps, space, generation=0, burn_in_generations=1,
                  seed=0)
    assert [c.parent for c in burn] == [0, 1, 2, 3] and {c.reason for c in burn} == {"burn-in"}
    assert [c.hps for c in burn] == hps
    # a failed member is replaced by a clone, even during burn-in
    failed = select([1.0, math.nan, 3.0, math.inf], hps, space, 0, 1, seed=0)
    assert failed[1].reason == failed[3].reason == "failed"
    assert failed[1].parent in (0, 2) and failed[3].parent in (0, 2)
    assert failed[1].hps != hps[failed[1].parent] and space.contains(failed[1].hps)
    after = select([1.0, 2.0, 3.0, 4.0], hps, space, generation=1, burn_in_generations=1,
                   seed=0)
    lost = [c for c in after if c.reason == "lost"]
    assert len(lost) == 2 and all(c.cloned for c in lost)
    for c in lost:
        assert c.hps != hps[c.parent] and space.contains(c.hps)
    for c in after:
        if c.reason == "won":
            assert c.hps == hps[c.member] and not c.cloned
    assert after == select([1.0, 2.0, 3.0, 4.0], hps, space, 1, 1, seed=0)  # reproducible
    with pytest.raises(RuntimeError, match="every member failed"):
        select([math.nan] * 4, hps, space, 1, 1, seed=0)


def _paper_space(elements: int = 100 * 50):
    import yaml

    from conftest import REPO

    cfg = {}
    for name in ("config/config.yaml", "config/paper.yaml"):
        over = yaml.safe_load((REPO / name).read_text())["autolfads"]["search_space"]
        cfg = {k: {**cfg.get(k, {}), **v} for k, v in {**cfg, **over}.items()}
    return search_space(cfg, elements)


def test_paper_space_is_the_joss_run_and_kl_l2_are_not_clipped():
    """config/paper.yaml: the JOSS run's autolfads-tf2 ranges in mean-NLL units (not divided
    per element); KL and L2 explore past their sampling range (autolfads-tf2's
    enforce_limits=False), lr / dropout / CD stay inside."""
    space = _paper_space()
    by = {p.name: p for p in space.params}
    assert (by["lr_init"].low, by["lr_init"].high, by["lr_init"].init) == (1e-5, 5e-3, 4e-3)
    assert (by["dropout_rate"].low, by["dropout_rate"].high) == (0.0, 0.6)
    assert (by["kl_co_scale"].low, by["kl_co_scale"].high) == (1e-6, 1e-4)
    assert (by["kl_ic_scale"].low, by["kl_ic_scale"].high) == (1e-5, 1e-3)
    for name in ("l2_gen_scale", "l2_con_scale"):
        assert (by[name].low, by[name].high) == (1e-4, 1.0) and not by[name].enforce_limits
    unclipped = {"kl_ic_scale", "kl_co_scale", "l2_gen_scale", "l2_con_scale"}
    assert {p.name for p in space.params if not p.enforce_limits} == unclipped
    assert all(space.contains(h) for h in initial_hps(space, 30, 0))
    assert all(by[n].low <= h[n] <= by[n].high for h in initial_hps(space, 30, 0) for n in by)
    rng = np.random.default_rng(1)
    edge = {p.name: p.high for p in space.params}
    above = {n: 0 for n in by}
    for _ in range(200):
        new = explore(edge, space, rng)
        for n in by:
            above[n] += new[n] > by[n].high
    assert all(above[n] > 50 for n in unclipped)  # about half the draws step up
    assert all(above[n] == 0 for n in set(by) - unclipped)
    # a walk can leave the range for good, but stays positive
    hps = dict(edge)
    for _ in range(100):
        hps = explore(hps, space, rng)
    assert all(hps[n] > 0 for n in unclipped)
    assert space.from_json(space.to_json()) == space
