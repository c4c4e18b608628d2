"""Population-batched LFADS: a member trains exactly like the same model alone."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from neurodyn.io.spikes import add_sv_mask, assemble_spikes, split_arrays
from neurodyn.lfads.grid import ModelSpec
from neurodyn.lfads.run import fit_lfads, selection_metric
from neurodyn.models.lfads import LFADS
from neurodyn.models.lfads_population_fit import MemberAdamW, PopulationFit
from neurodyn.train.device import TrainSettings
from neurodyn.train.runtime import seed_all

ARCH = dict(ic_enc_dim=8, ci_enc_dim=8, con_dim=8, co_dim=2, ic_dim=6, gen_dim=12, fac_dim=5,
            l2_increase_epoch=2, kl_increase_epoch=2)
# three arms' worth of HPs: CD (+ pass) + dropout, SV + weight decay + L2 con, no dropout/CD/SV
HPS = [dict(dropout_rate=0.2, cd_rate=0.3, cd_pass_rate=0.1, sv_rate=0.0, kl_ic_scale=1e-3,
            kl_co_scale=1e-2, l2_gen_scale=1e-2, l2_con_scale=0.0, lr_init=0.01),
       dict(dropout_rate=0.1, cd_rate=0.0, sv_rate=0.25, kl_ic_scale=1e-2, kl_co_scale=1e-3,
            l2_gen_scale=0.0, l2_con_scale=1e-1, lr_init=0.005, weight_decay=0.01),
       dict(dropout_rate=0.0, cd_rate=0.0, sv_rate=0.0, kl_ic_scale=1e-4, kl_co_scale=1e-4,
            l2_gen_scale=1e-3, l2_con_scale=1e-3, lr_init=0.02)]
ARMS = ["cd", "sv", "standard"]
TRAIN_CFG = {"max_epochs": 3, "batch_size": 8, "lr_decay": 0.5, "lr_patience": 0,
             "lr_stop": 1e-4}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    n = 30
    ds = assemble_spikes(rng.poisson(1.0, (n, 12, 7)), dataset="toy", bin_width_s=0.01,
                         condition=np.zeros(n), split=["train"] * 22 + ["valid"] * 8,
                         synthetic=True)
    ds = add_sv_mask(ds, 0.25, seed=1)
    return split_arrays(ds, "train"), split_arrays(ds, "valid")


def _spec(i: int, hps: dict | None = None) -> ModelSpec:
    return ModelSpec(f"m{i}", "search", ARMS[i % 3], i, 3 + i, {**ARCH, **(hps or HPS[i])})


def _model(spec: ModelSpec, train) -> LFADS:
    """The model ``fit_lfads`` builds for ``spec`` (same seed, same initial weights)."""
    seed_all(spec.seed)
    lr = {k: TRAIN_CFG[k] for k in ("lr_decay", "lr_patience", "lr_stop")}
    return LFADS(LFADS.hparams_for_data(train, **{**spec.hparams, **lr}))


def _population(specs, train, valid, **kw) -> PopulationFit:
    return PopulationFit([_model(s, train) for s in specs], [s.seed for s in specs],
                         [selection_metric(s) for s in specs], train, valid,
                         TRAIN_CFG["batch_size"], **kw)


def _assert_same_fit(result, lone, lone_epoch, epochs=None):
    assert result.best_epoch == lone_epoch
    hist = result.model.history[:epochs] if epochs else result.model.history
    assert len(hist) == len(lone.history[:epochs] if epochs else lone.history)
    for mine, ref in zip(hist, lone.history, strict=False):
        assert mine.keys() == ref.keys()
        for key, value in ref.items():
            if math.isnan(value):
                assert math.isnan(mine[key]), key
            else:
                assert mine[key] == pytest.approx(value, rel=1e-4, abs=1e-6), (ref["epoch"], key)
    if epochs is None:
        mine_state, ref_state = result.model.state_dict(), lone.state_dict()
        for key, value in ref_state.items():
            torch.testing.assert_close(mine_state[key], value, rtol=1e-4, atol=1e-5)


def test_members_train_like_lone_fits(data, tmp_path):
    """Each member (CD, SV, plain arms; different LR, dropout, KL/L2, weight decay) gives the
    lone shared-trainer fit's per-epoch losses/metrics, LR decays, best epoch and best
    weights."""
    train, valid = data
    specs = [_spec(i) for i in range(3)]
    results = _population(specs, train, valid).fit(TRAIN_CFG["max_epochs"])
    lrs = set()
    for i, spec in enumerate(specs):
        lone, best = fit_lfads(spec, train, valid, TRAIN_CFG, TrainSettings(progress=False),
                               tmp_path / spec.model_id)
        _assert_same_fit(results[i], lone, best)
        lrs.update(r["lr"] for r in lone.history)
    assert len(lrs) > 3  # the plateau decay acted (so the comparison covers it)


def test_replaced_member_starts_fresh_and_others_carry_on(data, tmp_path):
    """A member replaced after one epoch trains like its new model alone (fresh optimizer
    state and epoch count); the other member is unaffected; an early-stopped member leaves
    the batch with its best weights."""
    train, valid = data
    specs = [_spec(0), _spec(2)]
    fit = _population(specs, train, valid)
    fit.train_epoch()
    new = _spec(5, {**HPS[2], "lr_init": 0.003, "dropout_rate": 0.3})
    new_id = fit.replace(1, _model(new, train), new.seed, selection_metric(new))
    results = fit.fit(TRAIN_CFG["max_epochs"])
    assert new_id == 2 and len(results) == 2
    assert results[1].epochs_run == TRAIN_CFG["max_epochs"]
    for spec, result in zip((specs[0], new), results, strict=True):
        lone, best = fit_lfads(spec, train, valid, TRAIN_CFG, TrainSettings(progress=False),
                               tmp_path / spec.model_id)
        _assert_same_fit(result, lone, best)


def test_early_stopping_drops_a_member(data):
    train, valid = data
    specs = [_spec(0), _spec(2)]
    fit = _population(specs, train, valid, patience=1)
    fit.members[0].monitor = "hp/dropout_rate"  # constant: never improves after epoch 0
    results = fit.fit(6)
    assert results[0].epochs_run == 2 and results[0].best_epoch == 0
    assert len(results[0].model.history) == 2


def test_member_adamw_matches_torch_adamw():
    torch.manual_seed(0)
    weights = torch.randn(3, 4, 5)
    lrs, decays = torch.tensor([1e-2, 3e-3, 5e-2]), torch.tensor([0.0, 0.1, 0.01])
    stacked = {"w": weights.clone().requires_grad_()}
    lone = [weights[p].clone().requires_grad_() for p in range(3)]
    opts = [torch.optim.AdamW([w], lr=float(lr), weight_decay=float(wd))
            for w, lr, wd in zip(lone, lrs, decays, strict=True)]
    mine = MemberAdamW(stacked, 3)
    for step in range(4):
        grad = torch.randn(3, 4, 5) * (step + 1)
        stacked["w"].grad = grad.clone()
        mine.step(stacked, lrs, decays)
        for p, (w, opt) in enumerate(zip(lone, opts, strict=True)):
            w.grad = grad[p].clone()
            opt.step()
    for p in range(3):
        torch.testing.assert_close(stacked["w"][p].detach(), lone[p].detach())


def test_search_job_trains_its_models_as_one_population(tmp_path, monkeypatch):
    """A CPU search job trains its models as one population (one batched fit, runner keys
    as lone fits) and gives the records of one-at-a-time lone fits; a rerun reuses them."""
    from neurodyn.lfads import run as lfads_run
    from neurodyn.lfads.datasets import make_dataset
    from neurodyn.lfads.grid import search_models

    cfg = {"rnn": {"n_conditions": 3, "trials_per_condition": 6, "n_units": 8, "n_bins": 10},
           "sv": {"rate": 0.2, "seed": 0},
           "model": {**ARCH, "lr_init": 0.01},
           "train": {"max_epochs": 2, "batch_size": 6, "min_steps": 0, "posterior_samples": 1,
                     "models_per_job": 3, **{k: TRAIN_CFG[k] for k in
                                             ("lr_decay", "lr_patience", "lr_stop")}},
           "search": {"arms": ["standard", "sv", "cd"], "models_per_arm": 1,
                      "cd_keep_ratio": 0.7, "ranges": {
                          "kl_ic_scale": [0.05, 5.0], "kl_co_scale": [0.05, 5.0],
                          "l2_gen_scale": [5.0, 5e4], "l2_con_scale": [5.0, 5e4],
                          "dropout_rate": [0.0, 0.7]}}}
    data = tmp_path / "rnn.nc"
    make_dataset("rnn", cfg, 0, data, {"code": "test"})
    specs = search_models(cfg, 0)
    settings = TrainSettings(progress=False)
    populations = []
    real = lfads_run.fit_population
    monkeypatch.setattr(lfads_run, "fit_population",
                        lambda group, *a: populations.append(len(group)) or real(group, *a))
    batched = lfads_run.run_search_job(data, specs, cfg, 0, tmp_path / "pop", settings)
    assert populations == [3]
    monkeypatch.setattr(lfads_run, "use_population", lambda s: False)
    lone = lfads_run.run_search_job(data, specs, cfg, 0, tmp_path / "lone", settings)
    for mine, ref in zip(batched, lone, strict=True):
        assert mine["fit_key"] == ref["fit_key"] and mine["best_epoch"] == ref["best_epoch"]
        for key in ("rate_r2", "valid_recon_heldin_smth", "train_recon_heldin"):
            assert mine[key] == pytest.approx(ref[key], rel=1e-3), key
    monkeypatch.setattr(lfads_run, "use_population", lambda s: True)
    again = lfads_run.run_search_job(data, specs, cfg, 0, tmp_path / "pop", settings)
    assert populations == [3] and again == batched


def test_time_chunks_and_member_groups_change_nothing(data, monkeypatch):
    """Encoder projections in one-step chunks and evaluation passes one member at a time
    (the memory bounds of large populations) give the same fit."""
    import neurodyn.models.lfads_population as population
    import neurodyn.models.lfads_population_fit as population_fit

    train, valid = data
    specs = [_spec(i) for i in range(3)]
    whole = _population(specs, train, valid).fit(2)
    monkeypatch.setattr(population, "PROJ_CHUNK", 1)
    monkeypatch.setattr(population_fit, "EVAL_FLOATS", 1)
    pieces = _population(specs, train, valid).fit(2)
    for a, b in zip(whole, pieces, strict=True):
        _assert_same_fit(a, b.model, b.best_epoch)
