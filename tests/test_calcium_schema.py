import numpy as np
import pytest
import xarray as xr

from neurodyn.errors import InputError
from neurodyn.io.calcium import assemble_calcium, open_calcium, write_calcium

from conftest import make_record


def test_assemble_layout(small_dataset):
    ds = small_dataset
    assert ds["activity"].dims == ("worm", "time", "neuron")
    assert ds.sizes == {"worm": 2, "time": 50, "neuron": 302, "state": 3}
    assert ds["n_timesteps"].values.tolist() == [50, 40]
    assert ds["n_recorded"].values.tolist() == [4, 4]
    assert ds["labeled"].sum("neuron").values.tolist() == [3, 3]
    assert not ds["valid"].values[1, 40:].any() and ds["valid"].values[1, :40].all()
    assert np.isnan(ds["activity"].values[1, 40:]).all()
    assert (ds["behavior"].values[1, 40:] == -1).all()
    # VB02 is stored under its canonical name VB2
    assert ds["labeled"].sel(neuron="VB2").all()
    rec = make_record(50, seed=0)
    np.testing.assert_allclose(ds["activity"].sel(neuron="VB2").values[0], rec.traces[:, 1],
                               rtol=1e-6)


def test_roundtrip_is_byte_reproducible(small_dataset, tmp_path):
    write_calcium(small_dataset, tmp_path / "a.nc")
    write_calcium(small_dataset, tmp_path / "b.nc")
    assert (tmp_path / "a.nc").read_bytes() == (tmp_path / "b.nc").read_bytes()
    back = open_calcium(tmp_path / "a.nc")
    xr.testing.assert_allclose(back["activity"], small_dataset["activity"])
    assert back["valid"].dtype == bool and back["labeled"].dtype == bool
    assert list(back["state"].values) == ["a", "b", "c"]


def _err(excinfo) -> str:
    return str(excinfo.value)


def test_wrong_label_length_names_file_and_field():
    rec = make_record(50)
    rec.behavior = rec.behavior[:-3]
    with pytest.raises(InputError) as e:
        assemble_calcium([rec], "Test", states=("a", "b", "c"))
    assert "mem.npz" in _err(e) and "behavior[w0]" in _err(e) and "47 labels" in _err(e)


def test_nan_only_column_names_neuron():
    rec = make_record(50)
    rec.traces[:, 3] = np.nan
    with pytest.raises(InputError) as e:
        assemble_calcium([rec], "Test", states=("a", "b", "c"))
    assert "traces[w0]" in _err(e) and "RIML" in _err(e) and "only NaN" in _err(e)


def test_unknown_neuron_name_policy():
    rec = make_record(20, names=("AVAL", "NOTANEURON"))
    with pytest.raises(InputError) as e:
        assemble_calcium([rec], "Test", states=("a", "b", "c"))
    assert "ids[w0]" in _err(e) and "NOTANEURON" in _err(e)
    ds = assemble_calcium([rec], "Test", states=("a", "b", "c"), unknown_neuron_names="unlabel")
    assert ds["labeled"].sum().item() == 1 and ds["n_recorded"].item() == 2


def test_ids_count_mismatch():
    rec = make_record(20)
    rec.ids = rec.ids[:-1]
    with pytest.raises(InputError, match=r"ids\[w0\].*3 neuron IDs for 4"):
        assemble_calcium([rec], "Test")


def test_corrupt_and_missing_files(small_dataset, tmp_path):
    path = tmp_path / "x.nc"
    write_calcium(small_dataset, path)
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(InputError, match="truncated.nc"):
        open_calcium(truncated)
    with pytest.raises(InputError, match="does not exist"):
        open_calcium(tmp_path / "absent.nc")


def test_missing_variable_and_no_partial_output(small_dataset, tmp_path):
    bad = small_dataset.drop_vars("labeled")
    out = tmp_path / "bad.nc"
    with pytest.raises(InputError, match="'labeled'"):
        write_calcium(bad, out)
    assert list(tmp_path.iterdir()) == []  # nothing left behind, not even a temp file


def test_stale_temp_files_of_a_killed_run_are_removed(small_dataset, tmp_path):
    stale = tmp_path / ".x.nc.abc123.tmp"
    stale.write_bytes(b"partial")
    write_calcium(small_dataset, tmp_path / "x.nc")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.nc"]
