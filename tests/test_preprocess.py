import json

import numpy as np
import pytest
import xarray as xr

from neurodyn.data.celegans.preprocess import (
    PreprocessParams,
    combine_datasets,
    exponential_smooth,
    hold_labels,
    preprocess_dataset,
    resample,
    unit_scale,
    zscore,
)
from neurodyn.io.calcium import WormRecord, assemble_calcium


def test_zscore_population_std():
    x = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    z = zscore(x)
    np.testing.assert_allclose(z[:, 0], [-1.224744871, 0, 1.224744871])
    assert (z[:, 1] == 0).all()  # constant column


def test_exponential_smoothing_recursion():
    x = np.array([[2.0], [4.0], [0.0], [8.0]])
    s = exponential_smooth(x, 0.5)
    expected = [2.0, 3.0, 1.5, 4.75]  # s0 = x0; s_i = a x_i + (1-a) s_{i-1}
    np.testing.assert_allclose(s[:, 0], expected)
    with pytest.raises(ValueError):
        exponential_smooth(x, 0.0)


def test_resample_upsampling_is_linear_interpolation():
    t = np.arange(0, 10.0, 1.0)
    x = np.stack([2 * t + 1, -t], axis=1)
    y, t_new = resample(x, t, 0.25)
    assert np.allclose(np.diff(t_new), 0.25)
    np.testing.assert_allclose(y[:, 0], 2 * t_new + 1)


def test_resample_downsampling_averages_blocks():
    t = np.arange(0, 100.0, 0.1)
    x = np.sin(t)[:, None]
    y, t_new = resample(x, t, 1.0)
    assert np.allclose(np.diff(t_new), 1.0) and t_new[0] == 0
    assert y.shape == (t_new.size, 1) and t_new.size == 100
    # each value is the mean of 6 interpolated samples at k + j/6, j = 0..5
    fine = t_new[:, None] + np.arange(6)[None, :] / 6
    np.testing.assert_allclose(y[:, 0], np.sin(fine).mean(1), atol=2e-3)


def test_hold_labels_and_unit_scale():
    t = np.array([0.0, 1.0, 2.0, 3.0])
    assert hold_labels(np.array([0, 1, 2, 3]), t, np.array([0.0, 0.5, 1.0, 2.9])).tolist() == [
        0, 0, 1, 2]
    u = unit_scale(np.array([[1.0], [3.0], [2.0]]))
    assert u[:, 0].tolist() == [0.0, 1.0, 0.5]


def test_preprocess_dataset(small_dataset):
    out = preprocess_dataset(small_dataset, PreprocessParams(resample_dt=0.7))
    assert json.loads(out.attrs["preprocessing"])["resample_dt"] == 0.7
    assert np.allclose(out["dt"].values, 0.7)
    n = out["n_timesteps"].values
    assert n[0] > n[1] > 0
    assert out["labeled"].equals(small_dataset["labeled"])
    lab = out["labeled"].values[0]
    act = out["activity"].values[0, : n[0]][:, lab]
    assert np.isfinite(act).all() and np.isnan(out["activity"].values[0][:, ~lab]).all()
    unit = out["activity_unit"].values[0, : n[0]][:, lab]
    assert unit.min() == 0.0 and unit.max() == 1.0
    assert out["behavior"].shape == out["valid"].shape
    assert (out["behavior"].values[~out["valid"].values] == -1).all()


def test_combine(small_dataset):
    a = preprocess_dataset(small_dataset, PreprocessParams())
    b = preprocess_dataset(small_dataset.isel(worm=[0]), PreprocessParams())
    b["worm"] = ["Other_w0"]
    c = combine_datasets([a, b])
    assert c.sizes["worm"] == 3 and "behavior" not in c
    assert c["valid"].dtype == bool


def test_combined_file_keeps_long_names(small_dataset, tmp_path):
    """Strings longer than the first dataset's are written whole (no fixed width)."""
    a = preprocess_dataset(small_dataset.isel(worm=[0]), PreprocessParams())
    b = preprocess_dataset(small_dataset.isel(worm=[1]), PreprocessParams())
    b["worm"] = ["Other_w1"]
    b["dataset"] = ("worm", ["AMuchLongerDatasetName"])
    a.to_netcdf(tmp_path / "a.nc")  # gives ``a`` a fixed-width string encoding, as on disk
    a = xr.open_dataset(tmp_path / "a.nc").load()
    combine_datasets([a, b]).to_netcdf(tmp_path / "c.nc")
    names = xr.open_dataset(tmp_path / "c.nc")["dataset"].values.tolist()
    assert names[-1] == "AMuchLongerDatasetName"


def test_downsampled_features_and_held_labels_change_at_the_same_step():
    """A step in activity and a behaviour change at the same time land on the same row."""
    t = np.arange(0, 30.0, 0.02)  # 50 Hz, so Δt = 0.666 s averages blocks
    dt, centre = 0.666, 2.5 * 0.666 / 6  # a block's centre, after its start
    # step times across one block; within ±0.055 s (half a fine step) of a block centre the
    # block average sits exactly halfway, a tie, so those are left out
    taus = [tau for tau in 10.0 + 0.666 * 15 + np.arange(0.0, 0.666, 0.06)
            if 0.08 < (tau - centre) % dt < dt - 0.08]
    assert len(taus) >= 8
    records = [WormRecord(traces=np.repeat((t >= tau).astype(float)[:, None], 2, axis=1),
                          ids=["AVAL", "RIML"], time_s=t, source_file="mem.npz",
                          worm_id=f"w{i}", behavior=(t >= tau).astype(np.int16))
               for i, tau in enumerate(taus)]
    raw = assemble_calcium(records, "Step", states=("before", "after"))
    out = preprocess_dataset(raw, PreprocessParams(resample_dt=dt, smooth_alpha=1.0))
    for w, tau in enumerate(taus):
        x = out["activity"].sel(neuron="AVAL").values[w, : int(out["n_timesteps"][w])]
        beh = out["behavior"].values[w, : x.size]
        first_high = int(np.argmax(x > (x.min() + x.max()) / 2))
        first_after = int(np.argmax(beh == 1))
        assert first_high == first_after, f"step at {tau:.2f} s"
