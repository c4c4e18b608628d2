"""The readers on the real data in ``../shared/data/real`` (skipped when it is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from neurodyn.data.celegans.readers.registry import read_raw_dataset

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
pytestmark = pytest.mark.real


def _need(folder: str) -> Path:
    path = REAL / folder
    if not path.is_dir():
        pytest.skip(f"real data not available: {path}")
    return path


@pytest.fixture(scope="module")
def kato() -> xr.Dataset:
    return read_raw_dataset("Kato2015", _need("kato2015_wt_nostim"))


@pytest.fixture(scope="module")
def dag() -> xr.Dataset:
    return read_raw_dataset("Dag2023", _need("flavell2023_nsm_swf702"))


def test_kato_shapes_and_labels(kato: xr.Dataset) -> None:
    assert kato.sizes["worm"] == 5
    assert kato["n_timesteps"].values.tolist() == [3137, 3134, 3059, 3311, 3021]
    assert kato["n_recorded"].values.tolist() == [109, 135, 131, 125, 129]
    assert kato["labeled"].sum("neuron").values.tolist() == [38, 44, 32, 47, 31]
    assert kato.sizes["state"] == 8
    assert kato["state"].values.tolist() == ["dt", "fwd", "nostate", "rev1", "rev2", "revsus",
                                             "slow", "vt"]


def test_kato_values(kato: xr.Dataset) -> None:
    for w in range(5):
        t = int(kato["n_timesteps"][w])
        beh = kato["behavior"].values[w]
        assert (beh[:t] >= 0).all() and (beh[t:] == -1).all()  # one label per frame
        assert set(np.unique(beh[:t])) <= set(range(8))
        act = kato["activity"].values[w][:t][:, kato["labeled"].values[w]]
        assert not np.isnan(act).any()
        np.testing.assert_allclose(kato["dt"].values[w], 1080.0 / t, rtol=1e-9)
    assert "VB1" in kato["neuron"].values[kato["labeled"].values[0]]


def test_dag_recordings(dag: xr.Dataset) -> None:
    assert dag.sizes["worm"] == 7
    assert (dag["n_timesteps"].values == 800).all()
    assert dag["n_recorded"].values.tolist() == [146, 141, 145, 135, 140, 130, 139]
    counts = dag["labeled"].sum("neuron").values
    # 91-112 distinct raw names per recording; resolving '?' wildcards (e.g. SIA?? twice →
    # SIADL, SIADR) labels one more trace in two recordings, hence up to 113.
    assert counts.min() == 91 and counts.max() <= 113
    assert dag["state"].values.tolist() == ["forward", "reverse"]
    for w in range(7):
        act = dag["activity"].values[w][:, dag["labeled"].values[w]]
        assert not np.isnan(act).any()


def test_dag_aval_follows_reversals(dag: xr.Dataset) -> None:
    rec = dag.sel(worm="Dag2023_2022-07-27-45")
    rev = rec["behavior"].values
    assert 0.05 < rev.mean() < 0.35
    for name in ("AVAL", "AVAR", "AVEL", "AVER"):
        assert np.corrcoef(rec["activity"].sel(neuron=name).values, rev)[0, 1] > 0.1
    assert np.corrcoef(rec["activity"].sel(neuron="RIBL").values, rev)[0, 1] < 0


def test_dag_trace_arrays_agree_after_zscore() -> None:
    """The reader's ``trace_array`` and the paper-era pipeline's ``traces_array_F_F20`` (and F
    itself) give the same series once z-scored per neuron, the first preprocessing step."""
    import h5py

    files = sorted((_need("flavell2023_nsm_swf702") / "h5").glob("*-data.h5"))
    assert files
    for path in files:
        with h5py.File(path, "r") as f:
            arrays = {k: np.asarray(f[f"gcamp/{k}"], dtype=float) for k in
                      ("trace_array", "trace_array_original", "traces_array_F_F20")}
        z = {k: (v - v.mean(0)) / v.std(0) for k, v in arrays.items()}
        for name in ("trace_array_original", "traces_array_F_F20"):
            assert np.nanmax(np.abs(z[name] - z["trace_array"])) < 1e-9, (path.name, name)
        # the raw arrays themselves differ: the agreement is the z-score's, not a copy
        assert not np.allclose(arrays["traces_array_F_F20"], arrays["trace_array"])
