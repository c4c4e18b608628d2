"""Fig. 5's HP-optimisation arm: a PBT with CD on the standard validation loss."""

import math

import numpy as np
import pytest
import yaml

from neurodyn.io.spikes import assemble_spikes, split_arrays
from neurodyn.lfads.pbt import PBT_METRIC, pbt_schedule, pbt_space, run_pbt
from neurodyn.train.device import TrainSettings

from conftest import REPO

TINY = dict(ic_enc_dim=6, ci_enc_dim=4, con_dim=4, co_dim=1, ic_dim=4, gen_dim=8, fac_dim=3,
            l2_increase_epoch=1, kl_increase_epoch=1, lr_init=0.01)


def _cfg(**dataset_size):
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())["lfads"]
    cfg["dataset_size"] = {**cfg["dataset_size"], **dataset_size}
    return cfg


def test_schedule_splits_a_fixed_models_epochs_and_space_has_cd_and_paper_ranges():
    cfg = _cfg(hpo_models=6, pbt={"generations": 3})
    sched = pbt_schedule(cfg, 10)
    assert (sched.population, sched.generations) == (6, 3)
    assert sched.total_epochs == 10 and sched.first_generation_epochs == 4
    assert pbt_schedule(cfg, 2).generations == 2  # never more generations than epochs
    space = pbt_space(cfg, elements_per_trial=1000)
    by_name = {p.name: p for p in space.params}
    assert set(by_name) == {"lr_init", "cd_rate", "dropout_rate", "kl_ic_scale", "kl_co_scale",
                            "l2_gen_scale", "l2_con_scale"}
    assert by_name["cd_rate"].init == 0.5 and by_name["cd_rate"].low > 0
    assert by_name["l2_gen_scale"].high == pytest.approx(50.0)  # 5e4 / 1000 elements


def test_pbt_clones_the_winner_and_returns_the_best_final_member(tmp_path):
    rng = np.random.default_rng(0)
    n = 24
    ds = assemble_spikes(rng.poisson(1.0, (n, 10, 6)), dataset="toy", bin_width_s=0.01,
                         condition=np.zeros(n), split=["train"] * 18 + ["valid"] * 6,
                         synthetic=True)
    path = tmp_path / "toy.nc"  # only digested into the fit keys
    path.write_bytes(b"toy data")
    train, valid = split_arrays(ds, "train"), split_arrays(ds, "valid")
    cfg = _cfg(hpo_models=2, pbt={"generations": 2})
    sched = pbt_schedule(cfg, 2)
    model, best, population = run_pbt(
        train, valid, TINY, 9, pbt_space(cfg, 60), sched, seed=3, workdir=tmp_path / "pbt",
        settings=TrainSettings(progress=False), code="test", data_path=path)
    assert len(population) == 2 and all(len(g) == 2 for g in population)
    scores = [r["score"] for r in population[0]]
    winner = int(np.argmin(scores))
    # two members: the tournament's loser continues from the winner's checkpoint
    assert [r["parent"] for r in population[1]] == [winner, winner]
    loser = population[1][1 - winner]
    assert loser["hps"] != population[0][winner]["hps"]  # explored
    final = population[1]
    assert best["score"] == min(r["score"] for r in final)
    assert best["score"] == best["history"][-1][PBT_METRIC]
    assert math.isclose(float(model.hparams.cd_rate), best["hps"]["cd_rate"])
    assert model.hparams.cd_rate > 0
