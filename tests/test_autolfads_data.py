"""AutoLFADS data: NLB layout of the synthetic stand-in, NLB "val" phase of real files,
clear errors, and real MC_Maze entering the DAG when its folder exists."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV

from neurodyn.autolfads.data import (
    NLBSplit,
    nlb_split,
    nlb_val_phase,
    real_nlb_dataset,
    synthetic_reaching,
)
from neurodyn.autolfads.evaluate import as_nlb_rates, nlb_targets, smoothing_rates
from neurodyn.errors import InputError
from neurodyn.eval.nlb import velocity_r2

from conftest import REPO
from workflow_helpers import run_snakemake

CFG = {"n_neurons": 20, "n_heldout": 5, "n_conditions": 4, "trials_per_condition": 10,
       "bin_width_s": 0.02, "window_s": [-0.25, 0.35], "n_forward_bins": 5}
EVAL = {"lag_ms": 100, "psth_sd_ms": 50}


def test_synthetic_reaching_in_nlb_layout():
    ds = synthetic_reaching(CFG, 0)
    split = nlb_split(ds, "mem", EVAL)
    assert split.n_heldin == 15 and split.n_obs == 30 - 5 and split.lag_ms == 100
    assert split.train["encod_data"].shape[1:] == (25, 15)
    assert split.train["recon_data"].shape[1:] == (30, 20)
    assert split.elements_per_trial == 30 * 20 and split.synthetic
    t = nlb_targets(split)
    n_eval = split.test["recon_data"].shape[0]
    assert t.eval_spikes_heldout.shape == (n_eval, 25, 5)
    assert t.eval_spikes_heldin_forward.shape == (n_eval, 5, 15)
    assert t.psth.shape == (4, 25, 20) and sum(len(i) for i in t.eval_cond_idx) == n_eval
    # 100 ms lag = 5 bins at 20 ms, read from the forward window: no bin lost
    assert t.eval_behavior.shape == (n_eval, 25, 2) and not np.isnan(t.eval_behavior).any()
    np.testing.assert_array_equal(t.eval_behavior, split.test["behavior"][:, 5:30])
    with pytest.raises(InputError, match="n_forward_bins"):
        nlb_split(synthetic_reaching({**CFG, "n_forward_bins": 4}, 0), "short.nc", EVAL)
    no_heldout = ds.assign(heldout=("neuron", np.zeros(20, bool)))
    with pytest.raises(InputError, match="heldout"):
        nlb_split(no_heldout, "f.nc", EVAL)


def _recording_split(n_obs: int = 20, n_fwd: int = 6, lag: int = 4):
    """A continuous recording cut into trials as our readers store them (observed then
    forward window), rates that lead the velocity by ``lag`` bins, and the nlb_tools-style
    behaviour tensors (the aligned window shifted by the lag, read from the recording)."""
    rng = np.random.default_rng(3)
    n_train, n_valid, n_test, n_neurons, period = 24, 6, 12, 6, 50
    steps = np.arange(period * (n_train + n_valid + n_test) + n_obs + n_fwd)
    freq, phase = rng.uniform(0.05, 0.3, (1, 2)), rng.uniform(0, 6.3, (1, 2))
    vel = np.sin(freq * steps[:, None] + phase) + 0.3 * rng.normal(size=(steps.size, 2))
    rates = np.exp(0.5 * np.roll(vel, -lag, axis=0) @ rng.normal(size=(2, n_neurons)))
    rates += 0.3 * rng.random(rates.shape)
    starts = 7 + period * np.arange(n_train + n_valid + n_test)
    win = starts[:, None] + np.arange(n_obs + n_fwd)[None, :]
    nlb_beh = vel[starts[:, None] + lag + np.arange(n_obs)[None, :]]
    cut = {"train": slice(0, n_train), "valid": slice(n_train, n_train + n_valid),
           "test": slice(n_train + n_valid, None)}
    parts = {k: {"recon_data": rng.poisson(rates[win[c]]).astype(float), "behavior": vel[win[c]],
                 "condition": np.arange(win[c].shape[0]) % 3} for k, c in cut.items()}
    split = NLBSplit(parts["train"], parts["valid"], parts["test"], n_heldin=4, n_obs=n_obs,
                     bin_ms=20.0, lag_ms=20.0 * lag, psth_sd_ms=40.0, dataset="Constructed",
                     synthetic=True)
    return split, rates[win], nlb_beh[:n_train + n_valid], nlb_beh[cut["test"]]


def test_vel_r2_matches_nlb_tools_with_lag():
    """vel R² on constructed inputs equals a by-hand nlb_tools computation: behaviour from
    the window shifted by the lag (all ``n_obs`` bins, none dropped), GridSearchCV ridge."""
    split, rates, beh_train, beh_eval = _recording_split()
    n_obs, n_train = split.n_obs, beh_train.shape[0]
    t = nlb_targets(split)
    np.testing.assert_array_equal(t.train_behavior, beh_train)
    np.testing.assert_array_equal(t.eval_behavior, beh_eval)
    ours = as_nlb_rates(rates[:n_train], rates[n_train:], split)
    flat = lambda a: a.reshape(-1, a.shape[-1])  # noqa: E731
    search = GridSearchCV(Ridge(), {"alpha": np.logspace(-4, 0, 9)})
    search.fit(flat(rates[:n_train, :n_obs]), flat(beh_train))
    expected = r2_score(flat(beh_eval), search.predict(flat(rates[n_train:, :n_obs])))
    assert expected > 0.5  # the rates carry the lagged velocity
    assert velocity_r2(ours, t) == pytest.approx(expected, rel=1e-9)


def test_val_phase_relabels_nlb_splits():
    ds = synthetic_reaching(CFG, 0)  # read its splits as NLB's: train / valid (= NLB val) / test
    before = ds["split"].values.astype(str)
    out = nlb_val_phase(ds, 0.25, seed=0)
    after = out["split"].values.astype(str)
    assert out.sizes["trial"] == (before != "test").sum()
    assert (after == "test").sum() == (before == "valid").sum()
    n_train = (before == "train").sum()
    assert (after == "valid").sum() == round(0.25 * n_train)
    assert list(after) == list(nlb_val_phase(ds, 0.25, seed=0)["split"].values.astype(str))


def test_real_file_errors_name_the_file():
    ds = synthetic_reaching(CFG, 0)
    out = real_nlb_dataset(ds, "x.nc", {"valid_fraction": 0.2}, 0)
    assert out.attrs["study"] == "autolfads" and "test" in set(out["split"].values.astype(str))
    with pytest.raises(InputError, match=r"x\.nc.*split"):
        real_nlb_dataset(ds.drop_vars("split"), "x.nc", {"valid_fraction": 0.2}, 0)


@pytest.mark.workflow
def test_real_mc_maze_enters_the_dag_when_present(tmp_path):
    (tmp_path / "sub-Jenkins_ses-full_desc-train_behavior+ecephys.nwb").write_bytes(b"")
    res = run_snakemake(REPO, "-n", "--config",
                        f'autolfads={{"real": {{"dirs": {{"MC_Maze": "{tmp_path}"}}}}}}',
                        "--", "results/autolfads/tables/table2.csv")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert "autolfads_real_data" in out and "results/autolfads/MC_Maze/data.nc" in out
    assert "results/data/nlb/MC_Maze_20ms.nc" in out  # the shared NWB conversion


def _continuous_psth_split(n_ctx: int, n_obs: int = 20, n_fwd: int = 8, sd_bins: float = 2.0):
    """Trials cut from one continuous recording (``n_ctx`` bins before the observed window
    stored as context), and what nlb_tools computes: the whole recording smoothed, then the
    observed windows cut and averaged per condition."""
    rng = np.random.default_rng(5)
    n_trials, n_neurons, period = 36, 5, 45
    total = period * n_trials + n_ctx + n_obs + n_fwd + 10
    spikes = rng.poisson(1.0 + 0.8 * np.sin(np.arange(total)[:, None] / 4.0
                                             + rng.uniform(0, 6, n_neurons)),
                         (total, n_neurons)).astype(float)
    kernel = np.exp(-0.5 * ((np.arange(int(6 * sd_bins)) - (int(6 * sd_bins) - 1) / 2)
                            / sd_bins) ** 2)
    kernel /= kernel.sum()
    smooth = np.stack([np.convolve(spikes[:, j], kernel, "same") for j in range(n_neurons)], 1)
    starts = 5 + n_ctx + period * np.arange(n_trials)  # first observed bin of each trial
    win = starts[:, None] + np.arange(-n_ctx, n_obs + n_fwd)[None, :]
    cond = np.arange(n_trials) % 3
    cut = {"train": slice(0, 20), "valid": slice(20, 26), "test": slice(26, None)}
    parts = {k: {"recon_data": spikes[win[c]][:, n_ctx:], "condition": cond[c],
                 "behavior": np.zeros((win[c].shape[0], n_obs + n_fwd, 2))}
             for k, c in cut.items()}
    context = {k: spikes[win[c]][:, :n_ctx] for k, c in cut.items()} if n_ctx else {}
    split = NLBSplit(parts["train"], parts["valid"], parts["test"], n_heldin=3, n_obs=n_obs,
                     bin_ms=20.0, lag_ms=0.0, psth_sd_ms=20.0 * sd_bins, dataset="Constructed",
                     synthetic=True, context=context)
    obs = smooth[starts[:, None] + np.arange(n_obs)[None, :]]
    psth = np.stack([obs[cond == c].mean(axis=0) for c in range(3)])
    return split, psth, obs, cut


def test_psth_smooths_the_recording_before_cutting():
    """PSTH targets and the smoothing baseline's held-in rates equal nlb_tools' (smooth the
    continuous recording, then cut), edges included, when context and forward bins cover the
    kernel; without context the first bins are not dimmed by zero padding."""
    split, psth, obs, cut = _continuous_psth_split(n_ctx=8)
    np.testing.assert_allclose(nlb_targets(split).psth, psth, rtol=1e-10)
    tr, te = smoothing_rates(split, 40.0)
    train = np.concatenate([obs[cut["train"]], obs[cut["valid"]]])
    np.testing.assert_allclose(tr[:, :20, :3], train[..., :3], rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(te[:, :20, :3], obs[cut["test"]][..., :3], rtol=1e-10, atol=1e-8)
    # no stored context: the right edge still comes from the forward window; the left edge
    # is renormalised over stored bins, so its level matches the recording (not ~0.5 of it)
    bare, psth0, _, _ = _continuous_psth_split(n_ctx=0)
    got = nlb_targets(bare).psth
    np.testing.assert_allclose(got[:, -4:], psth0[:, -4:], rtol=1e-10)
    ratio = got[:, 0].mean() / psth0[:, 0].mean()
    assert 0.85 < ratio < 1.15


def test_synthetic_context_is_stored_apart():
    ds = synthetic_reaching({**CFG, "n_context_bins": 6}, 0)
    split = nlb_split(ds, "mem", EVAL)
    assert ds.sizes["time"] == 36 and split.n_obs == 25 and split.t_start_ms == pytest.approx(-250)
    assert split.train["recon_data"].shape[1:] == (30, 20)
    assert split.train["encod_data"].shape[1:] == (25, 15)
    assert split.context["test"].shape[1:] == (6, 20) and split.recording("test").shape[1] == 36
    np.testing.assert_array_equal(split.test["behavior"], split.test["behavior"][:, :30])


@pytest.mark.parametrize("hold", [False, True])
def test_forward_window_is_predictable_only_with_hold_latents(hold):
    """MC_Maze's forward window (450-650 ms after onset) is predictable from the trial; in
    the stand-in without hand-position latents every condition returns to one baseline by
    then, so even the true rates score fp-bps ~ 0 against the mean-rate null."""
    from neurodyn.eval.nlb import bits_per_spike

    cfg = {**CFG, "n_conditions": 8, "window_s": [-0.25, 0.65], "n_forward_bins": 10,
           "hold_latents": hold}
    ds = synthetic_reaching(cfg, 0)
    true = ds["rates_hz"].values[:, -10:] * cfg["bin_width_s"]
    spikes = np.random.default_rng(1).poisson(np.repeat(true, 20, axis=0)).astype(float)
    oracle = bits_per_spike(np.repeat(true, 20, axis=0), spikes)
    assert (oracle > 0.1) if hold else (abs(oracle) < 0.01), oracle
