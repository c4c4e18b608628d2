"""Readers of the real raw formats, on small fixtures written in those formats."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from neurodyn.data.celegans.readers.flavell import read_dag, read_flavell, resolve_uncertain
from neurodyn.data.celegans.readers.leifer import read_leifer
from neurodyn.data.celegans.readers.registry import DATASETS, read_raw_dataset
from neurodyn.data.celegans.readers.yemini import read_yemini
from neurodyn.data.celegans.readers.zimmer_mat import (
    KATO_STATES,
    mat_value,
    read_zimmer_mat,
)
from neurodyn.errors import InputError

from fixtures_formats import (
    kato_states,
    traces,
    write_dag_h5,
    write_flavell_h5,
    write_flavell_json,
    write_leifer,
    write_mat73,
    write_neuropal_xlsx,
    write_yemini,
)


def assert_input_error(exc: pytest.ExceptionInfo, filename: str, field: str) -> None:
    msg = str(exc.value)
    assert filename in msg, msg
    assert field in msg, msg


def labeled_names(ds, worm: int) -> list[str]:
    return ds["neuron"].values[ds["labeled"].values[worm]].tolist()


# --- MATLAB v7.3 (Zimmer family) --------------------------------------------------------

KATO_IDS = ["AVAL", ["", "AVAR"], "1", "VB01", None, "SMDVR", "2"]


def kato_nostim(tmp: Path, *, ids=None, n_worms: int = 2, drop: str = "",
                state_len_delta: int = 0, trace_override=None) -> tuple[Path, list]:
    """WT_NoStim.mat with worms of T = 40 + 3w frames, 7 columns (T ≠ N)."""
    worms = []
    for w in range(n_worms):
        t = 40 + 3 * w
        codes = np.arange(t) % 8
        codes[5] = -1  # no active state field → nostate
        x = traces(t, len(KATO_IDS), seed=w) if trace_override is None else trace_override
        worms.append({"ids": list(ids or KATO_IDS), "x": x, "tv": np.arange(t)[:, None] / 2.9,
                      "codes": codes,
                      "states": kato_states(codes[: t + state_len_delta], KATO_STATES)})
    fields = {
        "NeuronNames": [w["ids"] for w in worms],
        "deltaFOverF": [w["x"] * 2 for w in worms],
        "deltaFOverF_bc": [w["x"] for w in worms],
        "tv": [w["tv"] for w in worms],
        "fps": [2.9 for _ in worms],
        "States": [w["states"] for w in worms],
        "dataset": [f"TS2014_{w}" for w in range(n_worms)],
    }
    fields.pop(drop, None)
    return write_mat73(tmp / "WT_NoStim.mat", {"WT_NoStim": fields}), worms


def test_mat_value_converts_matlab_types(tmp_path: Path) -> None:
    path = write_mat73(tmp_path / "x.mat", {"S": {
        "c": ["AVAL", ["", "VB01"], None], "m": np.arange(6.0).reshape(2, 3), "s": "",
        "st": [{"v": np.ones((1, 3))}], "b": np.array([[True, False]]),
    }})
    with h5py.File(path, "r") as f:
        assert f["S"]["m"].shape == (3, 2)  # stored column-major
        value = mat_value(f, f["S"], "S")
    assert value["m"].shape == (2, 3) and value["m"][1, 0] == 3.0
    cells = value["c"].ravel()
    assert cells[0] == "AVAL" and cells[1].ravel().tolist() == ["", "VB01"]
    assert cells[2].size == 0 and value["s"] == ""
    assert value["st"].ravel()[0]["v"].shape == (1, 3)
    assert value["b"].tolist() == [[1, 0]]


def test_kato_nostim_mat(tmp_path: Path) -> None:
    _, worms = kato_nostim(tmp_path)
    ds = read_raw_dataset("Kato2015", tmp_path)
    assert ds.sizes["worm"] == 2
    assert ds["n_timesteps"].values.tolist() == [40, 43]
    assert ds["n_recorded"].values.tolist() == [7, 7]
    assert labeled_names(ds, 0) == ["AVAL", "AVAR", "SMDVR", "VB1"]
    assert ds["state"].values.tolist() == list(KATO_STATES)
    assert ds.attrs["unknown_states"] == "nostate"
    beh = ds["behavior"].values[0, :40]
    expected = worms[0]["codes"].copy()
    expected[5] = KATO_STATES.index("nostate")
    assert beh.tolist() == expected.tolist()
    np.testing.assert_allclose(ds["time_s"].values[1, :43], np.arange(43) / 2.9)
    np.testing.assert_allclose(ds["activity"].sel(neuron="VB1").values[0, :40],
                               worms[0]["x"][:, 3], rtol=1e-6)
    np.testing.assert_allclose(ds["activity"].sel(neuron="AVAR").values[1, :43],
                               worms[1]["x"][:, 1], rtol=1e-6)
    assert "doi:10.1016/j.cell.2015.09.034" in ds.attrs["references"]


def test_kato_stim_and_nostim_together(tmp_path: Path) -> None:
    kato_nostim(tmp_path, n_worms=1)
    x = traces(30, 3, seed=5)
    write_mat73(tmp_path / "WT_Stim.mat", {"WT_Stim": {
        "IDs": [["AIBL", "5", "RIML"]], "traces": [x], "traces_raw": [x],
        "timeVectorSeconds": [np.arange(30)[None, :] / 3.0], "fps": [3.0],
        "stimulus": {"type": "O2", "switchtimes": np.array([[10.0, 20.0]])},
    }})
    ds = read_raw_dataset("Kato2015", tmp_path)
    assert ds["worm"].values.tolist() == ["Kato2015_WT_Stim_worm1", "Kato2015_WT_NoStim_worm1"]
    assert labeled_names(ds, 0) == ["AIBL", "RIML"]
    assert (ds["behavior"].values[0] == -1).all()  # WT_Stim has no States
    assert (ds["behavior"].values[1, :40] >= 0).all()


def test_nichols_fourstates(tmp_path: Path) -> None:
    codes = np.array([0, 1, 2, 3, 1, np.nan, 0, 1, 1, 3] * 3, dtype=float)
    write_mat73(tmp_path / "n2_prelet.mat", {"n2_prelet": {
        "IDs": [["AVAL", "AIBR", "VB02", "7"], ["AVAL"]],
        "traces": [traces(30, 4), traces(30, 1)],
        "timeVectorSeconds": [np.arange(30)[:, None] / 3.5, np.arange(30.0)], "fps": [3.5, 1.0],
        "FourStates": [{"fourStates": codes[:, None]}, np.zeros((1, 30))],
    }})
    ds = read_raw_dataset("Nichols2017", tmp_path)
    assert ds["state"].values.tolist() == ["reversal", "forward", "quiescence", "turn"]
    assert ds["behavior"].values[0, :10].tolist() == [0, 1, 2, 3, 1, -1, 0, 1, 1, 3]
    assert (ds["behavior"].values[1] == 0).all()
    assert labeled_names(ds, 0) == ["AIBR", "AVAL", "VB2"]


@pytest.mark.parametrize(("dataset", "file", "key", "fields"), [
    ("Kaplan2020", "Neuron2019_Data_RIShisCl.mat", "RIShisCl_Neuron2019",
     ("neuron_ID", "traces_bleach_corrected", "time_vector")),
    ("Uzel2022", "Uzel_WT.mat", "Uzel_WT", ("IDs", "traces", "tv")),
    ("Skora2018", "WT_starved.mat", "WT_starved", ("IDs", "traces", "timeVectorSeconds")),
])
def test_other_zimmer_files(tmp_path: Path, dataset: str, file: str, key: str,
                            fields: tuple[str, str, str]) -> None:
    ids, tr, tv = fields
    write_mat73(tmp_path / file, {key: {
        ids: [["RIS", "AVAL", "3"], ["RIS", "RMED"]],
        tr: [traces(25, 3), traces(20, 2, seed=1)],
        tv: [np.arange(25)[:, None] * 0.3, np.arange(20)[None, :] * 0.3],
    }})
    ds = read_raw_dataset(dataset, tmp_path)
    assert ds["n_timesteps"].values.tolist() == [25, 20]
    assert ds["n_recorded"].values.tolist() == [3, 2]
    assert labeled_names(ds, 1) == ["RIS", "RMED"]
    assert "behavior" not in ds


def test_square_matrix_keeps_matlab_orientation(tmp_path: Path) -> None:
    x = traces(3, 3)
    path = write_mat73(tmp_path / "Uzel_WT.mat", {"Uzel_WT": {
        "IDs": [["AVAL", "AVAR", "RIS"]], "traces": [x], "tv": [np.arange(3.0)]}})
    np.testing.assert_allclose(read_zimmer_mat(path)[0].traces, x)


# --- Yemini 2021 (MATLAB v5) ------------------------------------------------------------

def yemini_file(tmp: Path, name: str = "Head_Activity_OH15500.mat") -> Path:
    t = 30
    x = traces(t, 6, seed=3)
    gap = x[:, 0].copy()
    gap[[3, 10, 11]] = np.nan
    return write_yemini(
        tmp / name, fps=4.0, files=["worm_a", "worm_b"],
        neurons=["AVA", "RIS", "SMDD", "AIB"],
        is_l=[[1, 1, 0, 0], [np.nan, np.nan], [1, 0], [1, 1, 0, 0]],
        norm_traces=[
            [gap, x[:, 1], x[:, 2], x[:, 3]],  # AVAL w1, AVAL w2, AVAR w1, AVAR w2
            [x[:, 4], np.array([])],  # RIS in worm 1 only (empty → dropped)
            [x[:, 5], x[:, 0]],  # SMDDL in worm 1, SMDDR in worm 2
            [np.full(t, np.nan), x[:, 1] * 0, x[:, 2] * 0, x[:, 3] * 0],  # all-NaN dropped
        ])


def test_yemini_names_imputation_time(tmp_path: Path) -> None:
    path = yemini_file(tmp_path)
    recs = read_yemini(path)
    assert [r.worm_id for r in recs] == ["Head_Activity_OH15500_worm1",
                                         "Head_Activity_OH15500_worm2"]
    assert recs[0].ids == ["AVAL", "AVAR", "RIS", "SMDDL", "AIBR"]
    assert recs[1].ids == ["AVAL", "AVAR", "SMDDR", "AIBL", "AIBR"]
    assert not np.isnan(recs[0].traces).any()
    np.testing.assert_allclose(recs[0].time_s, np.arange(30) / 4.0)
    x = traces(30, 6, seed=3)
    keep = np.setdiff1d(np.arange(30), [3, 10, 11])
    np.testing.assert_allclose(recs[0].traces[keep, 0], x[keep, 0])
    assert recs[0].extra["file"] == "worm_a"
    ds = read_raw_dataset("Yemini2021", tmp_path)
    assert ds["n_recorded"].values.tolist() == [5, 5]


def test_yemini_deterministic_imputation(tmp_path: Path) -> None:
    path = yemini_file(tmp_path)
    np.testing.assert_array_equal(read_yemini(path)[0].traces, read_yemini(path)[0].traces)


# --- Flavell 2023 (Atanas) json / h5 ----------------------------------------------------

def test_resolve_uncertain() -> None:
    ids = ["AVA?", "AVAL", "AVA?", "SIA?L", "SMB??", "SMB??", "RMEL?", None, "12", "AVA?"]
    assert resolve_uncertain(ids) == ["AVAR", "AVAL", None, "SIADL", "SMBDL", "SMBDR",
                                      "RMEL?", None, "12", None]


def test_flavell_json_and_h5(tmp_path: Path) -> None:
    t = 50
    x = traces(t, 5)
    write_flavell_json(tmp_path / "2022-06-14-01.json", x, np.arange(t) * 0.6,
                       {1: "AVA?", 2: "AVA?", 4: "SIA?L", 5: "NOTANEURON"})
    write_flavell_h5(tmp_path / "2022-06-14-07.h5", x[:, :4], np.arange(t) * 0.6 + 100,
                     ["RIM?", "missing", "RIML", "VB02"], transpose=True)
    json_rec, h5_rec = read_flavell(tmp_path)  # sorted by file name
    assert json_rec.ids == ["AVAL", "AVAR", None, "SIADL", "NOTANEURON"]
    np.testing.assert_allclose(json_rec.traces, x)
    assert h5_rec.ids == ["RIMR", None, "RIML", "VB02"]
    np.testing.assert_allclose(h5_rec.traces, x[:, :4])
    ds = read_raw_dataset("Flavell2023", tmp_path)  # default policy unlabels NOTANEURON
    assert labeled_names(ds, 0) == ["AVAL", "AVAR", "SIADL"]
    assert labeled_names(ds, 1) == ["RIML", "RIMR", "VB2"]
    assert ds["time_s"].values[1, 0] == 0.0
    with pytest.raises(InputError) as exc:
        read_raw_dataset("Flavell2023", tmp_path, unknown_neuron_names="error")
    assert_input_error(exc, "2022-06-14-01.json", "ids[")


# --- Dag 2023 h5 + NeuroPAL xlsx --------------------------------------------------------

def dag_folder(tmp: Path, *, skip: tuple[str, ...] = (), reversal_len: int = 60,
               header=None, rows=None) -> Path:
    (tmp / "h5").mkdir()
    (tmp / "neuropal_ids").mkdir()
    t, n = 60, 6
    x = traces(t, n, seed=7)
    rev = (np.arange(reversal_len) // 10) % 2
    x[:, 0] += 3 * np.resize(rev, t)  # "AVAL" column 0 follows reversals
    # NeuroPAL ROI r (1-based) → trace column (1-based), 0 = unmatched
    roi_match = np.array([0, 1, 3, 2, 0, 6, 5])
    write_dag_h5(tmp / "h5" / "2022-07-27-45-data.h5", x, np.arange(t + 5) * 0.6,
                 rev, roi_match, skip=skip)
    sheets = {
        "labels v1": [("AVAR", 2.0)],
        "labels v2 (1st audit)": rows or [
            ("AVAL", 2.0), ("RIBL", 3), ("SIA??", "4"), ("I1L", "25 / 167"),
            ("URAVL", 1.0), ("VB02", 6.0), (None, None),
        ],
        "alt labels": [("RMEL-alt", 7.0)],
        "neuron markers": [("BAG", None)],
    }
    kwargs = {"header": header} if header else {}
    write_neuropal_xlsx(tmp / "neuropal_ids" / "2022-07-27-45 Neuron ID.xlsx", sheets, **kwargs)
    return tmp


def test_dag_reader(tmp_path: Path) -> None:
    recs = read_dag(dag_folder(tmp_path))
    (rec,) = recs
    assert rec.ids == ["AVAL", "SIADL", "RIBL", None, None, "VB02"]
    assert rec.traces.shape == (60, 6) and rec.time_s.size == 60  # time cropped to T
    ds = read_raw_dataset("Dag2023", tmp_path)
    assert ds["worm"].values.tolist() == ["Dag2023_2022-07-27-45"]
    assert ds["state"].values.tolist() == ["forward", "reverse"]
    assert labeled_names(ds, 0) == ["AVAL", "RIBL", "SIADL", "VB2"]
    aval = ds["activity"].sel(neuron="AVAL").values[0]
    assert np.corrcoef(aval, ds["behavior"].values[0])[0, 1] > 0.5
    assert ds["n_recorded"].values.tolist() == [6]


# --- Leifer 2023 txt --------------------------------------------------------------------

def test_leifer_reader(tmp_path: Path) -> None:
    t = 720
    x = traces(t, 6, seed=11)
    x[:, 2] = np.nan  # all-NaN column → dropped
    x[[5, 6, 100], 0] = np.nan  # gaps → imputed
    labels = ["AVA", "AVA", "RIS", "merge", "", "FOO", "EXTRA"]  # 7 labels for 6 columns
    write_leifer(tmp_path, 0, x, labels, np.arange(t) * 0.1)
    write_leifer(tmp_path, 1, traces(100, 2), ["AVAL", "RIS"], np.arange(100) * 0.1)  # short
    (rec,) = read_leifer(tmp_path)
    assert rec.ids == ["AVA", "AVA", "merge", None, "FOO"]
    assert rec.traces.shape == (720, 5) and not np.isnan(rec.traces).any()
    ds = read_raw_dataset("Leifer2023", tmp_path)
    assert labeled_names(ds, 0) == ["AVAL", "AVAR"]
    assert ds["n_recorded"].values.tolist() == [5]
    np.testing.assert_allclose(ds["dt"].values, [0.1])


# --- registry ---------------------------------------------------------------------------

def test_registry_covers_datasets() -> None:
    assert set(DATASETS) == {"Kato2015", "Nichols2017", "Skora2018", "Kaplan2020",
                             "Yemini2021", "Uzel2022", "Flavell2023", "Leifer2023", "Dag2023"}
    for spec in DATASETS.values():
        assert "doi:" in spec.references
        policy = "unlabel" if spec.name in ("Flavell2023", "Leifer2023") else "error"
        assert spec.unknown_neuron_names == policy


def test_missing_raw_folder_and_files(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        read_raw_dataset("Nichols2017", tmp_path / "nope")
    assert_input_error(exc, "nope", "n2_prelet.mat")
    with pytest.raises(InputError) as exc:
        read_raw_dataset("Dag2023", tmp_path)
    assert_input_error(exc, str(tmp_path), "Neuron ID.xlsx")
    with pytest.raises(InputError) as exc:
        read_raw_dataset("Kato1999", tmp_path)
    assert "Kato2015" in str(exc.value)


# --- bad input --------------------------------------------------------------------------

def test_truncated_mat73(tmp_path: Path) -> None:
    path, _ = kato_nostim(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError) as exc:
        read_raw_dataset("Kato2015", tmp_path)
    assert_input_error(exc, "WT_NoStim.mat", "(file)")


def test_corrupt_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "Head_Activity_OH15500.mat"
    bad.write_bytes(b"MATLAB 5.0 MAT-file" + b"\x00" * 10)
    with pytest.raises(InputError) as exc:
        read_yemini(bad)
    assert_input_error(exc, bad.name, "(file)")
    (tmp_path / "w.json").write_text('{"timestamp_confocal": [0, 1], "trace_ar')
    with pytest.raises(InputError) as exc:
        read_flavell(tmp_path)
    assert_input_error(exc, "w.json", "(file)")


def test_corrupt_xlsx(tmp_path: Path) -> None:
    dag_folder(tmp_path)
    (tmp_path / "neuropal_ids" / "2022-07-27-45 Neuron ID.xlsx").write_bytes(b"PK\x03\x04junk")
    with pytest.raises(InputError) as exc:
        read_dag(tmp_path)
    assert_input_error(exc, "2022-07-27-45 Neuron ID.xlsx", "(file)")


def test_missing_fields(tmp_path: Path) -> None:
    kato_nostim(tmp_path, drop="deltaFOverF_bc")
    with pytest.raises(InputError) as exc:
        read_raw_dataset("Kato2015", tmp_path)
    assert_input_error(exc, "WT_NoStim.mat", "deltaFOverF_bc")


def test_missing_dag_fields(tmp_path: Path) -> None:
    dag_folder(tmp_path, skip=("behavior/reversal_vec",))
    with pytest.raises(InputError) as exc:
        read_dag(tmp_path)
    assert_input_error(exc, "2022-07-27-45-data.h5", "behavior/reversal_vec")


def test_missing_xlsx_column(tmp_path: Path) -> None:
    dag_folder(tmp_path, header=("Neuron Class", "Coordinates ", "ROI", "Confidence"))
    with pytest.raises(InputError) as exc:
        read_dag(tmp_path)
    assert_input_error(exc, "Neuron ID.xlsx", "ROI ID")


def test_missing_yemini_field(tmp_path: Path) -> None:
    import scipy.io
    path = tmp_path / "Head_Activity_OH15500.mat"
    scipy.io.savemat(path, {"fps": 4.0, "files": np.array(["a"], dtype=object)})
    with pytest.raises(InputError) as exc:
        read_yemini(path)
    assert_input_error(exc, path.name, "neurons")


def test_nan_only_labeled_column(tmp_path: Path) -> None:
    x = traces(40, len(KATO_IDS))
    x[:, 0] = np.nan  # AVAL
    kato_nostim(tmp_path, n_worms=1, trace_override=x)
    with pytest.raises(InputError) as exc:
        read_raw_dataset("Kato2015", tmp_path)
    assert_input_error(exc, "WT_NoStim.mat", "traces[WT_NoStim_worm1]")
    assert "AVAL" in str(exc.value)


def test_unknown_neuron_name(tmp_path: Path) -> None:
    kato_nostim(tmp_path, ids=["AVAL", "FOOBAR", "1", "VB01", None, "SMDVR", "2"])
    with pytest.raises(InputError) as exc:
        read_raw_dataset("Kato2015", tmp_path)
    assert_input_error(exc, "WT_NoStim.mat", "ids[WT_NoStim_worm1]")
    assert "FOOBAR" in str(exc.value)
    ds = read_raw_dataset("Kato2015", tmp_path, unknown_neuron_names="unlabel")
    assert labeled_names(ds, 0) == ["AVAL", "SMDVR", "VB1"]


def test_label_vector_wrong_length(tmp_path: Path) -> None:
    kato_nostim(tmp_path, n_worms=1, state_len_delta=-1)
    with pytest.raises(InputError) as exc:
        read_raw_dataset("Kato2015", tmp_path)
    assert_input_error(exc, "WT_NoStim.mat", "WT_NoStim.States{1}.dt")


def test_dag_reversal_wrong_length(tmp_path: Path) -> None:
    dag_folder(tmp_path, reversal_len=59)
    with pytest.raises(InputError) as exc:
        read_dag(tmp_path)
    assert_input_error(exc, "2022-07-27-45-data.h5", "behavior/reversal_vec")


def test_leifer_too_few_labels(tmp_path: Path) -> None:
    write_leifer(tmp_path, 0, traces(720, 4), ["AVAL", "RIS"], np.arange(720) * 0.1)
    with pytest.raises(InputError) as exc:
        read_leifer(tmp_path)
    assert_input_error(exc, "0_labels.txt", "labels")


def test_flavell_label_count_mismatch(tmp_path: Path) -> None:
    write_flavell_h5(tmp_path / "w.h5", traces(20, 3), np.arange(20.0), ["AVAL", "RIS"])
    with pytest.raises(InputError) as exc:
        read_flavell(tmp_path)
    assert_input_error(exc, "w.h5", "neuropal_label")


def test_dag_roi_out_of_range(tmp_path: Path) -> None:
    dag_folder(tmp_path, rows=[("AVAL", 99.0)])
    with pytest.raises(InputError) as exc:
        read_dag(tmp_path)
    assert_input_error(exc, "Neuron ID.xlsx", "ROI ID")
