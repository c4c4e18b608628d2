"""The NLB MC_Maze NWB reader on a small NWB-layout HDF5 fixture written here."""

import h5py
import numpy as np
import pytest

from neurodyn.data.spikes.nwb import read_nlb_nwb
from neurodyn.errors import InputError


def _write_fixture(path, *, with_vel=True, with_heldout=True):
    """4 units, 3 trials (train, val, none) + 1 test, spikes at known times, 1 kHz velocity."""
    units = [np.array([1.001, 1.002, 1.2601]),       # trial 0: bins 0, 0, 52 (onset 1.25)
             np.array([2.249, 3.001]),               # trial 1: bin 99; trial 2 (none)
             np.array([0.5, 4.6]),                   # trial 3 (test): bin 20
             np.array([], float)]
    with h5py.File(path, "w") as h5:
        u = h5.create_group("units")
        u["spike_times"] = np.concatenate(units)
        u["spike_times_index"] = np.cumsum([len(x) for x in units])
        u["id"] = np.arange(4)
        if with_heldout:
            u["heldout"] = np.array([False, False, True, True])
        t = h5.create_group("intervals/trials")
        t["start_time"] = np.array([0.5, 1.5, 2.5, 3.5])
        t["stop_time"] = np.array([1.5, 2.5, 3.5, 4.5])
        t["move_onset_time"] = np.array([1.25, 2.0, 3.0, 4.75])
        t["split"] = np.array([b"train", b"val", b"none", b"test"])
        t["trial_type"] = np.array([1, 2, 1, 1])
        t["trial_version"] = np.array([0, 0, 0, 0])
        if with_vel:
            ts = h5.create_group("processing/behavior/hand_vel")
            stamps = np.arange(0, 6.0, 0.001)
            ts["timestamps"] = stamps
            ts["data"] = np.stack([stamps, -2 * stamps], axis=1)


def test_reader_bins_aligns_splits_and_velocity(tmp_path):
    path = tmp_path / "sub-Jenkins_ses-small_desc-train_behavior+ecephys.nwb"
    _write_fixture(path)
    ds = read_nlb_nwb(path, dataset="MC_Maze_Small", forward_s=0.2)
    assert ds.attrs["synthetic"] == "false" and ds.attrs["bin_width_s"] == 0.005
    assert ds.sizes["trial"] == 3  # the 'none' trial is dropped
    assert ds.sizes["time"] == 140 + 40 and ds.attrs["n_forward_bins"] == 40
    assert np.isclose(ds["time"].values[0], -0.25)
    assert list(ds["split"].values) == ["train", "valid", "test"]
    assert list(ds["heldout"].values) == [False, False, True, True]
    spikes = ds["spikes"].values
    assert spikes[0, 0, 0] == 2 and spikes[0, 52, 0] == 1 and spikes[0].sum() == 3
    assert spikes[1, 99, 1] == 1 and spikes[1].sum() == 1
    assert spikes[2, 20, 2] == 1 and spikes[2].sum() == 1
    assert ds["condition"].values[0] == ds["condition"].values[2] != ds["condition"].values[1]
    vel = ds["behavior"].values  # bin means of v = (t, -2t)
    assert np.allclose(vel[0, 0], [1.0 + 0.0025 - 0.0005, -2 * (1.0 + 0.002)], atol=1e-6)


def test_reader_errors_name_file_and_field(tmp_path):
    path = tmp_path / "broken.nwb"
    with h5py.File(path, "w") as h5:
        h5.create_group("units")
    with pytest.raises(InputError, match="broken.nwb.*intervals/trials"):
        read_nlb_nwb(path)
    with pytest.raises(InputError, match="does not exist"):
        read_nlb_nwb(tmp_path / "missing.nwb")


def test_test_file_without_velocity_or_heldout(tmp_path):
    path = tmp_path / "test.nwb"
    _write_fixture(path, with_vel=False, with_heldout=False)
    ds = read_nlb_nwb(path)
    assert "behavior" not in ds and not ds["heldout"].values.any()
