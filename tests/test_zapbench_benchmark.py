"""ZAPBench rules: splits, padding, prefixes, holdout start and window counts."""

import numpy as np
import pytest
from zapbench_helpers import zapbench_config

from neurodyn.zapbench.benchmark import ZAPBENCH, Benchmark, miniature_benchmark
from neurodyn.zapbench.grid import check, trace_runs, unet_runs

TOY = Benchmark(condition_offsets=(0, 50, 100), condition_names=("a", "b"),
                train_conditions=(0,), holdout_conditions=(1,), padding=1,
                max_context=8, horizon=4)


def test_toy_index_by_hand():
    # condition 0: usable [1, 49), n = 48 → n_test = 9, n_val = 4, n_train = 35
    assert TOY.condition_bounds(0) == (1, 49)
    assert TOY.split_range(0, "train", 2) == (1, 36)
    assert TOY.split_range(0, "val", 2) == (34, 40)  # 2 prefix frames from train
    assert TOY.split_range(0, "test", 2) == (38, 49)  # 2 prefix frames from val
    assert TOY.split_range(0, "train_val", 2) == (1, 40)
    # windows: inputs [s, s+2), targets [s+2, s+6) inside [38, 49) → s = 38..43
    assert TOY.window_starts(0, "test", 2).tolist() == [38, 39, 40, 41, 42, 43]
    assert TOY.window_starts(0, "val", 2).tolist() == [34]
    # holdout condition 1: usable [51, 99); first target frame = 51 + max_context = 59
    assert TOY.split_range(1, "test_holdout", 2) == (57, 99)
    for c in (1, 2, 8):
        first = TOY.window_starts(1, "test_holdout", c)[0]
        assert first + c == 59
    assert TOY.conditions_of("test_holdout") == (1,)
    assert TOY.conditions_of("test") == (0,)


def test_val_and_test_targets_identical_across_contexts():
    for split in ("val", "test", "test_holdout"):
        k = 1 if split == "test_holdout" else 0
        firsts = {int(TOY.window_starts(k, split, c)[0]) + c for c in (1, 4, 8)}
        counts = {TOY.num_windows(k, split, c) for c in (1, 4, 8)}
        assert len(firsts) == 1 and len(counts) == 1, split


def test_zapbench_table_of_spec():
    """The derived table of spec §1.4 (train/val/test ranges and window counts)."""
    expected = {  # k: train range, val (C=4), test (C=4), #train C=4, C=256, #val, #test
        0: ((1, 455), (451, 519), (515, 648), 419, 167, 33, 98),
        1: ((650, 1890), (1886, 2067), (2063, 2421), 1205, 953, 146, 323),
        2: ((2423, 2882), (2878, 2947), (2943, 3077), 424, 172, 34, 99),
        4: ((3736, 4653), (4649, 4784), (4780, 5046), 882, 630, 100, 231),
        5: ((5048, 5462), (5458, 5520), (5516, 5637), 379, 127, 27, 86),
        6: ((5639, 6328), (6324, 6426), (6422, 6622), 654, 402, 67, 165),
        7: ((6624, 7083), (7079, 7148), (7144, 7278), 424, 172, 34, 99),
        8: ((7280, 7700), (7696, 7759), (7755, 7878), 385, 133, 28, 88),
    }
    for k, (train, val, test, n4, n256, nval, ntest) in expected.items():
        assert ZAPBENCH.split_range(k, "train", 4) == train
        assert ZAPBENCH.split_range(k, "val", 4) == val
        assert ZAPBENCH.split_range(k, "test", 4) == test
        assert ZAPBENCH.num_windows(k, "train", 4) == n4
        assert ZAPBENCH.num_windows(k, "train", 256) == n256
        assert ZAPBENCH.num_windows(k, "val", 4) == ZAPBENCH.num_windows(k, "val", 256) == nval
        assert ZAPBENCH.num_windows(k, "test", 4) == ntest
    assert ZAPBENCH.split_range(0, "test", 256) == (263, 648)
    assert ZAPBENCH.split_range(3, "test_holdout", 4) == (3331, 3734)
    assert ZAPBENCH.split_range(3, "test_holdout", 256) == (3079, 3734)
    assert ZAPBENCH.num_windows(3, "test_holdout", 4) == 368
    totals = [sum(ZAPBENCH.num_windows(k, "train", c) for k in ZAPBENCH.train_conditions)
              for c in (4, 256)]
    assert totals == [4772, 2756]


def test_miniature_counts_of_spec():
    mini = miniature_benchmark(520, 5, holdout=3, max_context=64)
    assert mini.num_windows(0, "train", 4) == 329
    assert mini.num_windows(0, "train", 64) == 269
    assert mini.num_windows(0, "val", 4) == 20
    assert mini.num_windows(0, "test", 64) == 72
    assert mini.num_windows(3, "test_holdout", 4) == 423
    assert mini.train_conditions == (0, 1, 2, 4)


def test_bad_rules_are_rejected():
    with pytest.raises(ValueError, match="max_context"):
        TOY.split_range(0, "test", 9)
    with pytest.raises(ValueError, match="unknown split"):
        TOY.split_range(0, "holdout", 2)
    with pytest.raises(ValueError, match="increase"):
        Benchmark((0, 10, 5), ("a", "b"), (0,), (1,))


def test_grid_from_config(tiny_zapbench):
    z = tiny_zapbench
    runs = unet_runs(z)
    assert {(r["variant"], r["context"]) for r in runs} >= {("base", 4), ("base", 8)}
    assert len(trace_runs(z)) == len(z["trace"]["models"]) * len(z["trace"]["contexts"])
    bad = {**z, "unet": {**z["unet"], "variants": {**z["unet"]["variants"],
                                                   "pretrain1": {"contexts": [4],
                                                                 "pretrain_specimens": 5}}}}
    with pytest.raises(ValueError, match="pretrain_specimens"):
        check(bad)
    assert np.all(np.diff([r["seed"] for r in runs]) >= 0)


@pytest.fixture
def tiny_zapbench():
    return zapbench_config()


def test_bad_recording_names_file_and_field(tmp_path):
    import xarray as xr
    from zapbench_helpers import tiny_recording

    from neurodyn.errors import InputError
    from neurodyn.zapbench.dataset import open_video_dataset

    tiny_recording(tmp_path)
    good = tmp_path / "rec0.nc"
    with xr.open_dataset(good) as ds:
        broken = ds.load().drop_vars("segmentation")
    bad = tmp_path / "bad.nc"
    broken.to_netcdf(bad)
    with pytest.raises(InputError, match=r"bad\.nc: field 'segmentation'"):
        open_video_dataset(bad)
    with xr.open_dataset(good) as ds:
        short = ds.load()
    short["condition_offsets"] = short["condition_offsets"] + 1
    short.to_netcdf(tmp_path / "short.nc")
    with pytest.raises(InputError, match="condition_offsets"):
        open_video_dataset(tmp_path / "short.nc")
    with pytest.raises(InputError, match="does not exist"):
        open_video_dataset(tmp_path / "missing.nc")
