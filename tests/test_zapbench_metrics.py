"""Metrics and baselines: aggregation order, correlations, mean/last value vs NumPy."""

import json

import numpy as np
import pytest
import torch
from zapbench_helpers import tiny_recording, zapbench_config

from neurodyn.train.device import TrainSettings
from neurodyn.zapbench.metrics import (
    average_conditions,
    condition_step_mae,
    corr_h,
    corr_w,
    window_step_mae,
)
from neurodyn.zapbench.results import per_step_frame
from neurodyn.zapbench.runs import evoked_response, run_trace
from neurodyn.zapbench.trace_models import MeanBaseline

CPU = TrainSettings(device="cpu")


def test_mae_order_neurons_windows_conditions():
    rng = np.random.default_rng(0)
    # condition A: 1 window, condition B: 3 windows; 2 steps, 4 neurons
    pa, ta = rng.normal(size=(1, 2, 4)), rng.normal(size=(1, 2, 4))
    pb, tb = rng.normal(size=(3, 2, 4)), rng.normal(size=(3, 2, 4))
    by_hand = []
    for p, t in ((pa, ta), (pb, tb)):
        per_window = [[np.mean(np.abs(p[w, h] - t[w, h])) for h in range(2)]
                      for w in range(len(p))]
        by_hand.append(np.mean(per_window, axis=0))
    expected = (by_hand[0] + by_hand[1]) / 2  # conditions weighted equally
    got = average_conditions({"A": condition_step_mae(pa, ta), "B": condition_step_mae(pb, tb)})
    np.testing.assert_allclose(got, expected)
    pooled = np.abs(np.concatenate([pa, pb]) - np.concatenate([ta, tb])).mean(axis=(0, 2))
    assert not np.allclose(got, pooled)  # window-pooled averaging would differ
    assert window_step_mae(pa, ta).shape == (1, 2)


def test_nan_counts_as_zero():
    p = np.array([[[np.nan, 1.0]]])
    t = np.array([[[1.0, np.nan]]])
    np.testing.assert_allclose(condition_step_mae(p, t), [1.0])


def test_correlations():
    rng = np.random.default_rng(1)
    t = rng.normal(size=(5, 8, 3))
    assert corr_h(t, t)[0] == pytest.approx(1.0)
    assert corr_w(t, t)[0] == pytest.approx(1.0)
    assert corr_h(-t, t)[0] == pytest.approx(-1.0)
    const = np.repeat(t[:, :1], 8, axis=1)  # constant over the horizon
    value, skipped = corr_h(const, t)
    assert np.isnan(value) and skipped == 1.0


def test_mean_and_last_value_equal_numpy(tmp_path):
    data = tiny_recording(tmp_path)
    z = zapbench_config()
    bench, h = data.benchmark, data.benchmark.horizon
    for name, window in (("mean", 4), ("last", 1)):
        rec = run_trace(data, name, 4, 0, False, z["trace"], settings=CPU)
        for k in bench.train_conditions:
            starts = bench.window_starts(k, "test", 4)
            pred = np.stack([np.repeat(data.traces[s + 4 - window : s + 4].mean(axis=0,
                                                                                keepdims=True),
                                       h, axis=0) for s in starts])
            target = np.stack([data.traces[s + 4 : s + 4 + h] for s in starts])
            expected = np.abs(pred - target).mean(axis=2).mean(axis=0)
            got = rec["metrics"]["test"][bench.condition_names[k]]["mae"]
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
        frame = per_step_frame([rec])
        curve = frame[frame["split"] == "test"].sort_values("step")["mae"].to_numpy()
        per_cond = [rec["metrics"]["test"][c]["mae"] for c in rec["metrics"]["test"]]
        np.testing.assert_allclose(curve, np.mean(per_cond, axis=0))
    x = torch.randn(3, 6, 5)
    np.testing.assert_allclose(MeanBaseline(6, 2)(x).numpy()[:, 0], x.mean(1).numpy(), 1e-6)
    np.testing.assert_allclose(MeanBaseline(1, 2)(x).numpy()[:, 1], x[:, -1].numpy())


def test_stimulus_baseline_uses_no_scored_frames(tmp_path):
    data = tiny_recording(tmp_path)
    bench = data.benchmark
    base = evoked_response(data)
    changed = data.traces.copy()
    for k in bench.train_conditions:
        lo, hi = bench.split_range(k, "test", 0)
        changed[lo:hi] += 10.0  # scored frames must not enter the evoked response
    from dataclasses import replace
    again = evoked_response(replace(data, traces=changed))
    for k in bench.train_conditions:
        lo, _ = bench.split_range(k, "test", 0)
        first = bench.condition_offsets[k]
        np.testing.assert_allclose(again[first:lo], base[first:lo])
    lo, hi = bench.split_range(0, "test", 0)
    np.testing.assert_allclose(again[lo:hi], base[lo:hi])


def test_trained_model_is_deterministic_and_learns(tmp_path):
    data = tiny_recording(tmp_path)
    z = zapbench_config()
    cfg = {**z["trace"], "train": {**z["trace"]["train"], "max_steps": 200, "val_every": 20,
                                   "patience": 100, "lr": 1.0e-2}}
    a = run_trace(data, "linear", 4, 0, False, cfg, settings=CPU, workdir=tmp_path / "a")
    b = run_trace(data, "linear", 4, 0, False, cfg, settings=CPU, workdir=tmp_path / "b")
    assert json.dumps(a["metrics"]) == json.dumps(b["metrics"])  # NaN-safe comparison
    assert json.dumps(a["fit"]) == json.dumps(b["fit"])
    assert a["fit"]["steps"] > 0
    assert a["fit"]["best_val"] < a["fit"]["initial_val"] - 1e-3  # the validation loss fell
    mean = run_trace(data, "mean", 4, 0, False, cfg, settings=CPU)
    mae = [np.mean([c["mae"] for c in r["metrics"]["test"].values()]) for r in (a, mean)]
    assert mae[0] < mae[1]  # and it beats the mean baseline it starts from
