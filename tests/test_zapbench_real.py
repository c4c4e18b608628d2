"""Real-data path offline: a small zarr3 fixture in the ZAPBench layout, written with
tensorstore; the published-results loader on a small combined.json."""

import json

import numpy as np
import pandas as pd
import pytest
from zapbench_helpers import zapbench_config

from neurodyn.errors import InputError
from neurodyn.zapbench.benchmark import ZAPBENCH
from neurodyn.zapbench.dataset import open_video_dataset
from neurodyn.zapbench.grid import check, contexts_used
from neurodyn.zapbench.prepare import write_recording
from neurodyn.zapbench.real import (
    Crop,
    load_published,
    published_curves,
    read_crop,
    real_benchmark,
)
from neurodyn.zapbench.runs import evoked_response

ts = pytest.importorskip("tensorstore")
# 3000 frames: not a condition boundary (the first two ZAPBench conditions end at 2422)
T, X, Y, Z, N = 3000, 16, 12, 3, 20


def _write(base, sub, driver, array):
    store = ts.open({"driver": driver, "kvstore": f"file://{base}/{sub}/",
                     "metadata": {"shape": list(array.shape),
                                  **({"data_type": str(array.dtype)} if driver == "zarr3"
                                     else {"dtype": array.dtype.str})},
                     "create": True, "delete_existing": True}).result()
    store.write(array).result()


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    base = tmp_path_factory.mktemp("zapbench-release")
    rng = np.random.default_rng(0)
    seg = rng.integers(0, N + 1, size=(X, Y, Z)).astype(np.uint32)  # s0 labels, XYZ
    video0 = rng.normal(size=(X, Y, Z, T)).astype(np.float32)
    _write(base, "segmentation", "zarr3", seg)
    _write(base, "df_over_f_xyz_chunked/s0", "zarr3", video0)
    video1 = video0.reshape(X // 2, 2, Y // 2, 2, Z, T).mean(axis=(1, 3)).astype(np.float32)
    _write(base, "df_over_f_xyz_chunked/s1", "zarr3", video1)
    _write(base, "traces", "zarr3", rng.normal(size=(T, N)).astype(np.float32))
    _write(base, "stimuli_features", "zarr", rng.normal(size=(T, 26)).astype(np.float32))
    evoked = rng.normal(size=(T, N)).astype(np.float32)
    _write(base, "stimulus_evoked_response", "zarr3", evoked)
    return base, seg, video1, evoked


def test_read_crop_matches_fixture(release):
    base, seg, video1, evoked = release
    crop = read_crop(base, 1, Crop(x=(1, 5), y=(2, 6)), n_frames=100)
    assert crop.video.shape == (100, Z, 4, 4)  # T Z X Y
    np.testing.assert_allclose(crop.video, np.transpose(video1[1:5, 2:6, :, :100],
                                                        (3, 2, 0, 1)))
    sub = seg[1::2, 1::2][1:5, 2:6]  # every 2nd voxel from offset 1, then the crop
    ids = np.unique(sub[sub > 0])
    np.testing.assert_array_equal(crop.neuron_ids, ids)
    relabelled = np.transpose(crop.segmentation, (1, 2, 0))
    np.testing.assert_array_equal(ids[relabelled[relabelled > 0] - 1], sub[sub > 0])
    traces = ts.open({"driver": "zarr3", "kvstore": f"file://{base}/traces/"}).result()
    np.testing.assert_allclose(crop.traces, traces[:100].read().result()[:, ids - 1])
    assert crop.covariates.shape == (100, 26)
    np.testing.assert_allclose(crop.evoked, evoked[:100, ids - 1])


def test_missing_array_names_file_and_field(tmp_path):
    with pytest.raises(InputError, match="video_s2"):
        read_crop(tmp_path, 2, Crop())


def _real_config(base, n_frames):
    z = zapbench_config()
    z["source"] = "real"
    z["real"] = {"base": str(base), "scale": 1, "crop": {"x": [0, 8], "y": [0, 6]},
                 "n_frames": n_frames, "trace_source": "video"}
    return z


@pytest.mark.parametrize("n_frames", [None, 2800])
def test_real_recording_cut_at_the_last_condition_boundary(release, tmp_path, n_frames):
    """A video (or n_frames) ending inside a condition is cut at the last boundary, so the
    fit rule's reader accepts it; the stimulus baseline is the released evoked response."""
    base, _, _, evoked = release
    z = _real_config(base, n_frames)
    out = tmp_path / "real.nc"
    write_recording(z, 0, 0, out, {"neurodyn_version": "test"}, contexts_used(z))
    data = open_video_dataset(out)
    assert not data.synthetic
    assert data.benchmark.condition_offsets == (0, 649, 2422)
    assert data.benchmark.train_conditions == (0,) and data.benchmark.holdout_conditions == (1,)
    assert data.video.shape == (2422, Z, 8, 6)
    ids = np.asarray(json.loads(data.attrs["neuron_ids"]))
    np.testing.assert_allclose(data.evoked, evoked[:2422, ids - 1])
    np.testing.assert_allclose(evoked_response(data), data.evoked)
    assert real_benchmark(7879) is ZAPBENCH
    with pytest.raises(InputError, match="extra_specimens"):
        write_recording(z, 1, 0, tmp_path / "extra.nc", {}, contexts_used(z))


def test_real_video_is_streamed_to_the_file_in_blocks(release, tmp_path, monkeypatch):
    """The data rule never holds the whole video: it copies it in blocks and takes the
    traces as segment means block by block; the result equals an in-memory read."""
    import neurodyn.zapbench.real as real
    from neurodyn.zapbench.synthetic import segment_means

    base = release[0]
    z = _real_config(base, None)
    monkeypatch.setattr(real, "BLOCK_BYTES", 500 * 4 * Z * 8 * 6)  # 500 frames of the crop
    reads = []
    frames = real.CropReader.frames
    monkeypatch.setattr(real.CropReader, "frames",
                        lambda self, a, b: reads.append(b - a) or frames(self, a, b))
    out = tmp_path / "real.nc"
    write_recording(z, 0, 0, out, {"neurodyn_version": "test"}, contexts_used(z))
    assert max(reads) <= 500 and sum(reads) == 2422
    data = open_video_dataset(out)
    whole = read_crop(base, 1, Crop(x=(0, 8), y=(0, 6)), n_frames=2422)
    np.testing.assert_array_equal(data.video, whole.video)
    np.testing.assert_allclose(data.traces, segment_means(whole.video, whole.segmentation,
                                                          len(whole.neuron_ids)), rtol=1e-6)


def test_real_source_rejects_synthetic_pretraining_and_published_traces(release):
    base = release[0]
    z = _real_config(base, None)
    with pytest.raises(ValueError, match="pretrain1.*synthetic"):
        check(z)  # the tiny run pre-trains on synthetic specimens
    z["unet"]["run"] = [v for v in z["unet"]["run"] if v != "pretrain1"]
    check(z)
    z["real"]["trace_source"] = "published"
    with pytest.raises(ValueError, match="like with like"):
        check(z)


def test_published_results_loader(tmp_path):
    rows = []
    for xid, offset in ((1, 0.0), (2, 0.02)):
        for cond in ("gain", "dots", "taxis"):
            for step in (1, 2):
                rows.append({"method": "linear", "context": 4, "condition": cond,
                             "steps_ahead": step, "xid": xid,
                             "MAE": step * 0.01 + offset + (0.1 if cond == "dots" else 0)})
    path = tmp_path / "combined.json"
    pd.DataFrame(rows).to_json(path)
    curves = published_curves(load_published(path))
    test = curves[curves["split"] == "test"].sort_values("steps_ahead")["MAE"].to_numpy()
    # mean over xids (0.01 offset), then over gain and dots (0.05 offset)
    np.testing.assert_allclose(test, [0.01 + 0.01 + 0.05, 0.02 + 0.01 + 0.05])
    hold = curves[curves["split"] == "test_holdout"]["MAE"].to_numpy()
    np.testing.assert_allclose(sorted(hold), [0.02, 0.03])
    # a deterministic baseline run twice at one context (two window lengths) is two curves
    rows = [{"method": "mean", "context": 256, "condition": "gain", "steps_ahead": 1,
             "xid": xid, "MAE": mae} for xid, mae in (("7/1", 0.03), ("8/1", 0.05))]
    rows += [{"method": "linear", "context": 256, "condition": "gain", "steps_ahead": 1,
              "xid": xid, "MAE": mae} for xid, mae in (("9/1", 0.02), ("9/2", 0.04))]
    pd.DataFrame(rows).to_json(path)
    curves = published_curves(load_published(path)).set_index("method")["MAE"]
    assert curves.to_dict() == pytest.approx({"mean (xid 7/1)": 0.03, "mean (xid 8/1)": 0.05,
                                              "linear": 0.03})  # seeds are averaged
    path.write_text(json.dumps({"method": {"0": "mean"}}))
    with pytest.raises(InputError, match="context"):
        load_published(path)


def test_published_figure_and_table(tmp_path):
    from neurodyn.zapbench.report import write_published

    rows = [{"method": m, "context": c, "condition": cond, "steps_ahead": h, "MAE": 0.02 + h / 1e3}
            for m in ("mean", "linear") for c in (4, 256) for cond in ("gain", "taxis")
            for h in range(1, 33)]
    pd.DataFrame(rows).to_json(tmp_path / "combined.json")
    steps = pd.DataFrame([{"label": lab, "kind": "trace", "context": c, "seed": 0,
                           "split": "test", "step": h, "mae": 0.1}
                          for lab in ("mean", "unet:base") for c in (4, 64)
                          for h in range(1, 33)])
    steps.to_csv(tmp_path / "steps.csv", index=False)
    z = zapbench_config()
    z["benchmark"] = {**z["benchmark"], "short_context": 4, "long_context": 64}
    out = {"figure": tmp_path / "published.png", "table": tmp_path / "published.csv",
           "table_md": tmp_path / "published.md"}
    write_published(str(tmp_path / "combined.json"), str(tmp_path / "steps.csv"), z, out,
                    {"neurodyn_version": "test"})
    table = pd.read_csv(out["table"])
    assert set(table["source"]) == {"published (combined.json)"}
    assert out["figure"].stat().st_size > 10_000
    assert json.loads((tmp_path / "published.provenance.json").read_text()) == {
        "neurodyn_version": "test"}  # the sidecar rule zapbench_published declares
