"""LFADS study experiments: linear-AE CD demo, grids, decoding, selection tables."""

import numpy as np
import pandas as pd
import pytest
import yaml
from threadpoolctl import threadpool_limits

from neurodyn.data.spikes.reaching import ReachingSpec, make_reaching_dataset
from neurodyn.eval.decoding import cv_decoding_r2, lagged_features
from neurodyn.io.spikes import split_arrays
from neurodyn.lfads.analysis import datasize_table, search_table
from neurodyn.lfads.grid import (
    chunks,
    datasize_models,
    elements_per_trial,
    search_models,
    subset_chunks,
)
from neurodyn.lfads.linear_ae import AEConfig, train_linear_ae
from neurodyn.lfads.linear_data import LinearSpec, make_linear_dataset

from conftest import REPO


def _config(*extra):
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())["lfads"]
    for path in extra:
        over = yaml.safe_load((REPO / path).read_text())["lfads"]
        for key, value in over.items():
            cfg[key] = {**cfg[key], **value} if isinstance(value, dict) else value
    return cfg


def test_linear_ae_cd_zero_diagonal_and_lower_noise_free_loss():
    ds = make_linear_dataset(LinearSpec(), seed=0)
    train = ds["split"].values.astype(str) == "train"
    x, clean = ds["x"].values, ds["x_clean"].values
    cfg = AEConfig(epochs=40, batch_size=200, lr=0.02)
    plain = train_linear_ae(x[train], x[~train], clean[~train], cd=False, cfg=cfg, seed=0)
    cd = train_linear_ae(x[train], x[~train], clean[~train], cd=True, cfg=cfg, seed=0)
    off = ~np.eye(40, dtype=bool)
    # without CD the weights approach the identity; with CD the diagonal stays near zero
    assert np.abs(np.diag(plain["weight"])).mean() > 0.5
    assert np.abs(np.diag(cd["weight"])).mean() < 0.05
    assert np.abs(np.diag(cd["weight"])).mean() < 0.5 * np.abs(cd["weight"][off]).mean()
    # CD predicts each channel from the others: closer to the noise-free data
    assert cd["clean_loss"][-1] < 0.6 * plain["clean_loss"][-1]
    assert plain["train_loss"][-1] < cd["train_loss"][-1]  # plain fits the noise
    assert plain["train_loss"][-1] < plain["train_loss"][0]  # it learned
    assert cd["clean_loss"][-1] < cd["clean_loss"][0]


def test_search_grid_pairs_hps_across_arms_and_converts_units():
    cfg = _config()
    models = search_models(cfg, seed=0)
    assert len(models) == 3 * cfg["search"]["models_per_arm"]
    by_arm = {a: [m for m in models if m.arm == a] for a in ("standard", "sv", "cd")}
    for a, b in zip(by_arm["standard"], by_arm["cd"], strict=True):
        assert a.hparams["kl_ic_scale"] == b.hparams["kl_ic_scale"]
    assert all(np.isclose(m.hparams["cd_rate"], 0.3) for m in by_arm["cd"])
    assert all(m.hparams["sv_rate"] == cfg["sv"]["rate"] for m in by_arm["sv"])
    elements = cfg["rnn"]["n_bins"] * cfg["rnn"]["n_units"]
    kl = np.array([m.hparams["kl_co_scale"] for m in models]) * elements
    assert kl.min() >= 0.05 and kl.max() <= 5.0
    assert len({m.model_id for m in models}) == len(models)
    assert sum(len(c) for c in chunks(models, 5)) == len(models)
    assert search_models(cfg, 0)[4].hparams == models[4].hparams


def test_datasize_jobs_train_one_training_subset_each():
    """The reproduce grid (3 fractions x 3 draws, a fixed-HP LFADS and a PBT each) in 9 jobs
    of one subset; consecutive chunks of 15 put every fit of the largest fraction in the
    first job (a 15/3 split). One model per job stays one model per job (SLURM)."""
    cfg = _config("config/reproduce.yaml")
    models = datasize_models(cfg, seed=0)
    jobs = subset_chunks(models, cfg["train"]["models_per_job"])
    assert [len(c) for c in chunks(models, cfg["train"]["models_per_job"])] == [15, 3]
    assert len(jobs) == 9
    assert sorted(m.model_id for job in jobs for m in job) == sorted(m.model_id for m in models)
    for job in jobs:
        assert sorted(m.arm for m in job) == ["fixed", "hpo"]
        assert len({(m.fraction, m.draw) for m in job}) == 1
    singles = subset_chunks(models, 1)
    assert len(singles) == len(models) and all(len(job) == 1 for job in singles)


def test_paper_grid_plans_200_models_per_arm():
    cfg = _config("config/paper.yaml")
    models = search_models(cfg, seed=0)
    assert len(models) == 600 and cfg["rnn"]["n_conditions"] == 400
    size = datasize_models(cfg, seed=0)
    assert {m.fraction for m in size} == {0.05, 0.1, 0.2, 1.0}


def test_velocity_decodable_from_true_rates_not_from_shuffled():
    ds = make_reaching_dataset(ReachingSpec(n_conditions=8, trials_per_condition=8), seed=0)
    arr = split_arrays(ds, ["train", "valid", "test"])
    lags = [0, 4, 8]
    rng = np.random.default_rng(0)
    with threadpool_limits(1):  # tiny ridge fits: BLAS threads only add contention
        good = cv_decoding_r2(arr["truth"], arr["behavior"], lags)
        bad = cv_decoding_r2(arr["truth"][rng.permutation(len(arr["truth"]))],
                             arr["behavior"], lags)
    assert good > 0.8 and bad < 0.5 * good
    x = np.arange(10.0).reshape(1, 10, 1)
    assert lagged_features(x, [0, 2])[0, 5].tolist() == [5.0, 3.0]


def test_search_table_selects_lowest_metric_per_arm():
    frame = pd.DataFrame({
        "arm": ["standard"] * 3 + ["sv"] * 3,
        "model_id": list("abcdef"),
        "valid_recon_heldin_smth": [0.5, 0.4, 0.6, 0.1, 0.1, 0.1],
        "train_recon_sv_smth": [np.nan] * 3 + [0.9, 0.7, 0.8],
        "rate_r2": [0.2, 0.3, 0.1, 0.5, 0.9, 0.6],
    })
    table = search_table(frame, "synthetic").set_index("selection_metric")
    assert table.loc["valid_recon_heldin_smth", "selected_model"] == "b"
    assert table.loc["train_recon_sv_smth", "selected_model"] == "e"
    assert table.loc["train_recon_sv_smth", "spearman_metric_vs_r2"] == -1.0


def test_datasize_grid_pairs_fixed_hps_with_one_pbt_per_subset():
    """Per fraction and draw: one fixed-HP model (the paper-unit HPs converted to our
    mean-NLL loss, no CD) and one PBT spec of the HP-optimisation arm."""
    cfg = _config()
    d = cfg["dataset_size"]
    models = datasize_models(cfg, seed=0)
    assert len(models) == 2 * len(d["fractions"]) * d["draws"]
    fixed = [m for m in models if m.arm == "fixed"]
    pbt = [m for m in models if m.arm == "hpo"]
    assert len(fixed) == len(pbt) == len(d["fractions"]) * d["draws"]
    elements = elements_per_trial(cfg, "datasize")
    hp = fixed[0].hparams
    assert hp["l2_gen_scale"] * elements == 2000.0 and hp["kl_ic_scale"] * elements == 1.0
    assert hp["cd_rate"] == 0.0 and hp["dropout_rate"] == 0.05
    assert d["smoothing_sd_s"] == 0.06


def test_fig5b_is_the_improvement_of_hp_optimisation_over_fixed_hps():
    frame = pd.DataFrame({
        "fraction": [0.1] * 4 + [1.0] * 4, "draw": [0, 0, 1, 1] * 2,
        "arm": ["fixed", "hpo"] * 4, "n_train_trials": [10] * 4 + [100] * 4,
        "velocity_r2": [0.4, 0.6, 0.4, 0.6, 0.8, 0.8, 0.8, 0.8]})
    table = datasize_table(frame, smooth_r2=0.2, source="synthetic").set_index("fraction")
    assert table.loc[0.1, "hpo_over_fixed_pct"] == pytest.approx(50.0)
    assert table.loc[1.0, "hpo_over_fixed_pct"] == pytest.approx(0.0)
    assert table.loc[0.1, "hpo_over_smoothing_pct"] == pytest.approx(200.0)
