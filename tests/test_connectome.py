"""The packaged White 1986 connectome: shape, counts and provenance (no cect needed)."""

from __future__ import annotations

import importlib.util
from importlib import resources

import numpy as np
import pytest
import xarray as xr

from neurodyn.data.celegans.connectome import adjacency, load_connectome

# The 15 neurons of the thesis network.
THESIS_15 = "AIBL AIBR ALA AVAL AVAR AVBL AVER RID RIML RIMR RMED RMEL RMER VB1 VB2".split()


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    return load_connectome()


def test_shape_and_names(ds: xr.Dataset) -> None:
    assert ds["chemical"].shape == (302, 302)
    assert ds["electrical"].shape == (302, 302)
    names = ds["pre"].values.tolist()
    assert names == sorted(names)
    assert len(set(names)) == 302
    assert names == ds["post"].values.tolist()
    assert names[:4] == ["ADAL", "ADAR", "ADEL", "ADER"]
    assert {"CANL", "CANR"} <= set(names)


def test_names_match_neurons_302_file(ds: xr.Dataset) -> None:
    text = resources.files("neurodyn.data.celegans").joinpath("neurons_302.txt").read_text()
    listed = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    assert listed == ds["pre"].values.tolist()


def test_whole_counts(ds: xr.Dataset) -> None:
    chem = ds["chemical"].values
    gap = ds["electrical"].values
    assert chem.dtype == np.float32 and gap.dtype == np.float32
    assert np.count_nonzero(chem) == 2266
    assert chem.sum() == 6509
    assert np.array_equal(gap, gap.T)
    assert np.count_nonzero(gap) == 1132
    assert gap.sum() == 1916


def test_orientation_row_is_presynaptic(ds: xr.Dataset) -> None:
    # Source row "ADAL AIBR chemical 2": ADAL -> AIBR only.
    assert ds["chemical"].sel(pre="ADAL", post="AIBR") == 2
    assert ds["chemical"].sel(pre="AIBR", post="ADAL") == 0


def test_thesis_15_subnetwork() -> None:
    chem = adjacency(THESIS_15, kind="chemical")
    gap = adjacency(THESIS_15, kind="electrical")
    union = adjacency(THESIS_15, kind="union")
    assert chem.shape == (15, 15)
    assert int(chem.sum()) == 27
    assert int(gap.sum()) == 27
    assert int(union.sum()) == 47
    # One of those is the diagonal RID-RID gap junction; off the diagonal (210 ordered
    # pairs) the counts are 27 chemical, 26 electrical, 46 union.
    off = ~np.eye(15, dtype=bool)
    assert [int(m[off].sum()) for m in (chem, gap, union)] == [27, 26, 46]
    assert np.flatnonzero(np.diag(gap)).tolist() == [THESIS_15.index("RID")]


def test_subselection_order_and_unknown_names() -> None:
    sub = load_connectome(["VB2", "AVAL"])
    assert sub["pre"].values.tolist() == ["VB2", "AVAL"]
    assert sub["post"].values.tolist() == ["VB2", "AVAL"]
    with pytest.raises(KeyError, match="NOPE"):
        load_connectome(["AVAL", "NOPE"])
    with pytest.raises(ValueError, match="kind"):
        adjacency(["AVAL"], kind="other")  # type: ignore[arg-type]


def test_weighted_union_counts_gap_twice() -> None:
    ds = load_connectome()
    weighted = adjacency(kind="union", binary=False)
    gap = ds["electrical"].values
    np.testing.assert_array_equal(weighted, ds["chemical"].values + 2 * gap)


def test_provenance_attrs(ds: xr.Dataset) -> None:
    assert ds.attrs["cect_version"] == "0.3.5"
    assert "cect 0.3.5" in ds.attrs["source"]
    assert ds.attrs["reader"] == "White_whole"
    assert "10.1098/rstb.1986.0056" in ds.attrs["references"]
    assert ds.attrs["created_by"] == "neurodyn.data.celegans.connectome_build"


@pytest.mark.skipif(importlib.util.find_spec("cect") is None, reason="cect not installed")
def test_rebuild_matches_shipped(tmp_path, ds: xr.Dataset) -> None:
    from neurodyn.data.celegans.connectome_build import build_white1986

    out = tmp_path / "white1986.nc"
    build_white1986(out)
    with xr.open_dataset(out, engine="netcdf4") as rebuilt:
        xr.testing.assert_identical(rebuilt.load(), ds)
