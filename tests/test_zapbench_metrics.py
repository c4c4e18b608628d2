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
    t = rng.normal(size=(12, 8, 3))  # ≥ H windows: Corr_W has a full 8-frame snippet
    assert corr_h(t, t)[0] == pytest.approx(1.0)
    assert corr_w(t, t)[0] == pytest.approx(1.0)
    assert corr_h(-t, t)[0] == pytest.approx(-1.0)
    const = np.repeat(t[:, :1], 8, axis=1)  # constant over the horizon
    value, skipped = corr_h(const, t)
    assert np.isnan(value) and skipped == 1.0


def _windows(series: np.ndarray, n_windows: int, horizon: int) -> np.ndarray:
    """Stride-1 target windows of a (T, N) series: (W, H, N), window w = frames w..w+H−1."""
    return np.stack([series[w : w + horizon] for w in range(n_windows)])


def test_corr_w_correlates_snippets_at_a_fixed_lead_time():
    rng = np.random.default_rng(2)
    h, n, w = 4, 3, 11
    target = _windows(rng.normal(size=(w + h, n)), w, h)
    pred = target + rng.normal(scale=0.7, size=target.shape)
    by_hand = [np.corrcoef(pred[s : s + h, k, j], target[s : s + h, k, j])[0, 1]
               for s in range(w - h + 1) for k in range(h) for j in range(n)]
    value, skipped = corr_w(pred, target)
    assert value == pytest.approx(np.mean(by_hand)) and skipped == 0.0
    # a forecast right inside every 4-frame snippet but off by a level that drifts slowly
    # across the condition is perfectly correlated per snippet, not across all windows
    long = _windows(rng.normal(size=(400 + h, n)), 400, h)
    trend = long + np.linspace(0, 40, 400)[:, None, None]
    assert corr_w(trend, long)[0] > 0.9
    across = np.mean([np.corrcoef(trend[:, k, j], long[:, k, j])[0, 1]
                      for k in range(h) for j in range(n)])
    assert across < 0.3
    const = np.ones_like(target)  # constant at every lead: skipped, not 0
    assert np.isnan(corr_w(const, target)[0]) and corr_w(const, target)[1] == 1.0
    assert np.isnan(corr_w(pred[: h - 1], target[: h - 1])[0])  # no full snippet


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


def test_stimulus_baseline_finds_onsets_by_covariate_name(tmp_path):
    """Trial onsets come from the covariate named 'onset', wherever it is (real stimulus
    features have no onset column: the released evoked response is used there)."""
    from dataclasses import replace

    data = tiny_recording(tmp_path)
    assert data.covariate_names[0] == "onset"
    base = evoked_response(data)
    flipped = replace(data, covariates=data.covariates[:, ::-1].copy(),
                      covariate_names=data.covariate_names[::-1])
    np.testing.assert_array_equal(evoked_response(flipped), base)
    with pytest.raises(ValueError, match="onset"):
        evoked_response(replace(data, covariate_names=("a", "b", "c", "d")))
    released = np.full_like(data.traces, 0.5)
    np.testing.assert_array_equal(evoked_response(replace(data, evoked=released)), released)


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
