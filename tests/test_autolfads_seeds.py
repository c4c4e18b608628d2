"""Replicates (autolfads.seeds) and the random-search arm (backend "random"): seeds per
replicate, Table 2 as mean and spread over seeds, the smoothing baseline paired with every
seed, random-search HPs and budget, model-epochs of PBT runs (early stop counted)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from autolfads_helpers import run_tables_script

from neurodyn.autolfads.figures import pbt_length
from neurodyn.autolfads.pipeline import pad_stopped, summarise
from neurodyn.autolfads.plan import Schedule, member_seed, replicate_seeds, run_seed
from neurodyn.autolfads.random_search import epochs_per_model, random_hps, random_tasks
from neurodyn.autolfads.space import search_space
from neurodyn.autolfads.tables import per_seed, table2
from neurodyn.errors import InputError
from neurodyn.findings import REPRODUCED

SCHEDULE = Schedule(population=4, generations=3, first_generation_epochs=16,
                    epochs_per_generation=12, burn_in_generations=0, members_per_job=2)
SPACE = search_space({
    "lr_init": {"low": 1e-5, "high": 5e-3, "log": True, "init": 4e-3, "explore_weight": 0.3},
    "dropout_rate": {"low": 0.0, "high": 0.6, "log": False, "explore_weight": 0.3},
    "kl_co_scale": {"low": 1e-6, "high": 1e-4, "log": True, "explore_weight": 0.8},
}, elements_per_trial=1)
BASE = {"co_bps": 0.30, "vel_r2": 0.90, "psth_r2": 0.60, "fp_bps": 0.20, "rate_r2_truth": 0.5}


# ------------------------------------------------------------------------------- seeds
def test_replicate_zero_keeps_the_global_seed_and_ray_never_collides():
    assert run_seed(5, 0) == 5 and run_seed(5, "2") == 2005  # wildcard strings too
    snakemake = {run_seed(0, k) for k in range(3)}
    ray = {run_seed(0, k, offset=7) for k in range(3)}
    assert len(snakemake) == len(ray) == 3 and not snakemake & ray
    with pytest.raises(ValueError, match="seed_offset"):
        run_seed(0, 1, offset=1000)  # would be replicate 2's Snakemake seed
    assert replicate_seeds({}) == [0] and replicate_seeds({"seeds": [0, 1, 2]}) == [0, 1, 2]
    with pytest.raises(ValueError, match="distinct"):
        replicate_seeds({"seeds": [1, 1]})


# ----------------------------------------------------------------------- random search
def test_random_hps_ignore_init_and_cover_the_range():
    hps = random_hps(SPACE, 200, seed=3)
    assert hps == random_hps(SPACE, 200, seed=3) and hps != random_hps(SPACE, 200, seed=4)
    lr = np.array([h["lr_init"] for h in hps])
    assert len(set(lr)) == 200 and lr.min() >= 1e-5 and lr.max() <= 5e-3  # init not used
    # log-uniform: about half the draws below the geometric midpoint
    assert 0.35 < np.mean(lr < math.sqrt(1e-5 * 5e-3)) < 0.65
    drop = np.array([h["dropout_rate"] for h in hps])
    assert 0.35 < np.mean(drop < 0.3) < 0.65 and drop.max() <= 0.6


def test_random_models_train_the_pbt_members_epochs():
    """Each model trains as long as one PBT member did in the generations it trained."""
    assert epochs_per_model({"generations_trained": 3}, SCHEDULE, "p") == 16 + 2 * 12
    assert epochs_per_model({"generations_trained": 2}, SCHEDULE, "p") == 16 + 12  # early stop
    with pytest.raises(InputError, match="generations_trained"):
        epochs_per_model({}, SCHEDULE, "p")
    with pytest.raises(InputError, match="outside"):
        epochs_per_model({"generations_trained": 4}, SCHEDULE, "p")
    tasks = random_tasks(SPACE, SCHEDULE, 11, 28, [2, 3])
    assert [t.member for t in tasks] == [2, 3] and {t.target_epochs for t in tasks} == {28}
    assert all(t.parent is None and t.parent_ckpt is None for t in tasks)
    assert tasks[0].seed == member_seed(11, 2, 0)
    assert tasks[1].hps == random_hps(SPACE, 4, 11)[3]


def _gen(g: int, epochs: int, scores: list[float]) -> list[dict]:
    return [{"member": m, "parent": None if g == 0 else m, "status": "ok", "score": s,
             "epochs": epochs, "reason": "init" if g == 0 else "won"}
            for m, s in enumerate(scores)]


def test_model_epochs_count_only_trained_generations():
    full = [_gen(0, 16, [3, 2, 4, 5]), _gen(1, 28, [2, 1, 3, 4]), _gen(2, 40, [1, 0.5, 2, 3])]
    assert summarise(full)["model_epochs"] == 4 * 40
    stopped = pad_stopped(full[:2], 3)  # improvement rule stopped after generation 1
    assert summarise(stopped)["model_epochs"] == 4 * 28
    assert summarise([_gen(0, 28, [1, 2, 3, 4])])["model_epochs"] == 4 * 28  # random search


def test_pbt_figure_title_says_where_the_rule_stopped():
    full = [_gen(0, 16, [3, 2, 4, 5]), _gen(1, 28, [2, 1, 3, 4]), _gen(2, 40, [1, 0.5, 2, 3])]
    assert pbt_length({"generations": full}) == "4 members x 3 generations"
    assert pbt_length({"generations": pad_stopped(full[:2], 3)}) == (
        "4 members x 2 of up to 3 generations (stopped by rule)")


# ---------------------------------------------------------------------------- Table 2
def _rec(backend: str, seed: int | None, shift: float = 0.0, **extra) -> dict:
    out = {"dataset": "D", "source": "synthetic", "method": backend, "backend": backend,
           **{m: v + shift + 0.01 * (seed or 0) for m, v in BASE.items()}, **extra}
    if seed is not None:
        out["seed"] = seed
    return out


def test_table2_mean_and_spread_over_seeds():
    records = [_rec("snakemake", s, 0.05, model_epochs=160) for s in (0, 1, 2)]
    records += [_rec("fixed", s) for s in (0, 1, 2)] + [_rec("none", None, -0.02)]
    table = table2(records, ["snakemake"]).set_index("backend")
    assert table.loc["snakemake", "n_seeds"] == 3 and table.loc["none", "n_seeds"] == 1
    assert table.loc["snakemake", "co_bps"] == pytest.approx(0.36)
    assert table.loc["snakemake", "co_bps_sd"] == pytest.approx(0.01)
    assert math.isnan(table.loc["none", "co_bps_sd"])
    assert table.loc["snakemake", "model_epochs"] == 160


def test_backend_difference_pairs_the_seeds_both_engines_ran():
    """The Ray engine may run fewer replicates (autolfads.ray.replicates): its percent
    difference compares it with the Snakemake runs of the same seeds only."""
    records = [_rec("snakemake", s) for s in (0, 1, 2)] + [_rec("ray", 0, 0.03)]
    table = table2(records, ["snakemake", "ray"]).set_index("backend")
    assert table.loc["snakemake", "n_seeds"] == 3 and table.loc["ray", "n_seeds"] == 1
    diff = table.loc["ray-snakemake"]
    assert diff["n_seeds"] == 1 and diff["co_bps"] == pytest.approx(100 * 0.03 / 0.30)


def test_smoothing_is_paired_with_every_seed():
    expanded = per_seed([_rec("none", None), _rec("fixed", 1)], [0, 1, 2])
    assert [(r["backend"], r["seed"]) for r in expanded] == [
        ("none", 0), ("none", 1), ("none", 2), ("fixed", 1)]


def test_tables_script_decides_a1_over_three_seeds(tmp_path):
    """Three replicates of PBT and fixed-HP LFADS and one smoothing record: A1 rests on 3
    seeds against both baselines; Table 2 shows the mean and spread."""
    import pandas as pd

    summary = {"best_member": 0, "best_score": 1.0, "lineage_gen0_score": 2.0,
               "own_gen0_score": 2.0, "best_gen0_score": 1.5, "member_generations": 12,
               "failed_members": 0, "unreplaced_failures": 0, "stopped_early": True,
               "generations_trained": 2, "model_epochs": 112}
    records = [_rec("snakemake", s, 0.05 + 0.003 * s, **summary) for s in (0, 1, 2)]
    records += [_rec("fixed", s) for s in (0, 1, 2)] + [_rec("none", None, -0.02)]
    out = run_tables_script(tmp_path, records, backends=["snakemake"], seeds=[0, 1, 2],
                            population=4, generations=3, pbt=dict(vars(SCHEDULE)),
                            seed_offset=0)
    findings = pd.read_csv(out.findings).set_index("claim")
    assert findings.loc["A1", "verdict"] == REPRODUCED and findings.loc["A1", "n"] == 3
    table = pd.read_csv(out.table2).set_index("backend")
    assert table.loc["snakemake", "n_seeds"] == 3 and table.loc["snakemake", "co_bps_sd"] > 0
    sanity = pd.read_csv(out.sanity)
    assert sorted(set(sanity["seed"].dropna().astype(int))) == [0, 1, 2]
