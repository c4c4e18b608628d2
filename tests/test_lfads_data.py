"""Spiking schema and the synthetic generators of the LFADS study."""

import numpy as np
import pytest

from neurodyn.data.spikes.reaching import ReachingSpec, make_reaching_dataset
from neurodyn.errors import InputError
from neurodyn.io.spikes import add_sv_mask, open_spikes, split_arrays, write_spikes
from neurodyn.lfads.synthetic_rnn import RNNSpec, make_rnn_dataset, simulate_rnn


def test_rnn_paper_sizes_rates_and_split():
    ds = make_rnn_dataset(RNNSpec(), seed=0)
    assert ds.sizes == {"trial": 4000, "time": 100, "neuron": 50, "input_dim": 2}
    split = ds["split"].values.astype(str)
    assert (split == "train").sum() == 3200 and (split == "valid").sum() == 800
    assert len(np.unique(ds["condition"].values)) == 400
    rates = ds["rates_hz"].values
    # rates span 0-30 Hz in every trial and neuron (min-max scaling per trial and neuron)
    assert np.allclose(rates.min(axis=1), 0.0) and np.allclose(rates.max(axis=1), 30.0)
    assert ds.attrs["bin_width_s"] == 0.01 and ds.attrs["synthetic"] == "true"
    # Poisson counts: mean count per bin matches the mean rate x dt
    assert abs(ds["spikes"].values.mean() - rates.mean() * 0.01) < 0.005
    # every condition is in both splits (replicates 0-7 train, 8-9 valid)
    for c in (0, 123, 399):
        assert set(split[ds["condition"].values == c]) == {"train", "valid"}


def test_rnn_trials_share_the_initial_state_of_their_condition():
    spec = RNNSpec(n_conditions=30, trials_per_condition=6)
    sim = simulate_rnn(spec, seed=1)
    early = sim["rates_hz"][:, :5].reshape(len(sim["condition"]), -1)
    corr = np.corrcoef(early)
    same = sim["condition"][:, None] == sim["condition"][None, :]
    off_diag = ~np.eye(len(corr), dtype=bool)
    assert corr[same & off_diag].mean() > corr[~same].mean() + 0.3
    # inputs are independent per trial (so the controller must infer them)
    assert abs(np.corrcoef(sim["inputs"][0].ravel(), sim["inputs"][1].ravel())[0, 1]) < 0.2


def test_rnn_same_seed_same_data_and_different_seed_differs():
    spec = RNNSpec(n_conditions=5, trials_per_condition=2)
    a, b, c = (simulate_rnn(spec, s)["spikes"] for s in (3, 3, 4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_reaching_has_velocity_window_and_splits():
    ds = make_reaching_dataset(ReachingSpec(n_conditions=8, trials_per_condition=10), seed=0)
    assert ds["behavior"].dims == ("trial", "time", "behavior_dim")
    assert np.isclose(ds["time"].values[0], -0.25) and ds.sizes["time"] == 70
    assert set(ds["split"].values.astype(str)) == {"train", "valid", "test"}
    speed = np.linalg.norm(ds["behavior"].values, axis=-1).mean(0)
    t = ds["time"].values
    assert speed[(t > 0.1) & (t < 0.2)].mean() > 10 * speed[t < -0.15].mean()
    assert 2.0 < ds["rates_hz"].values.mean() < 60.0


def test_roundtrip_sv_mask_and_split_arrays(tmp_path):
    spec = ReachingSpec(n_neurons=20, n_heldout=5, n_conditions=4, trials_per_condition=5)
    ds = add_sv_mask(make_reaching_dataset(spec, seed=0), 0.2, seed=9)
    path = tmp_path / "reach.nc"
    write_spikes(ds, path)
    back = open_spikes(path)
    assert back["sv_mask"].dtype == bool and np.array_equal(back["sv_mask"], ds["sv_mask"])
    assert np.array_equal(back["spikes"], ds["spikes"])
    arr = split_arrays(back, "train")
    assert arr["encod_data"].shape[2] == 15 and arr["recon_data"].shape[2] == 20
    assert arr["sv_mask"].shape == arr["encod_data"].shape
    assert np.allclose(arr["truth"].mean(), back["rates_hz"].values[
        back["split"].values.astype(str) == "train"].mean() * 0.01, rtol=1e-4)


def test_bad_files_name_file_and_field(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        open_spikes(tmp_path / "missing.nc")
    bad = tmp_path / "bad.nc"
    bad.write_text("not netcdf")
    with pytest.raises(InputError, match="bad.nc"):
        open_spikes(bad)
    ds = make_reaching_dataset(ReachingSpec(n_conditions=2, trials_per_condition=3), seed=0)
    ds["split"].values[0] = "holdout"
    with pytest.raises(InputError, match="field 'split'"):
        write_spikes(ds, tmp_path / "x.nc")
    assert not (tmp_path / "x.nc").exists()
