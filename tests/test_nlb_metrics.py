"""NLB metrics: hand-made arrays, limiting cases, and an independent loop implementation."""

import math

import numpy as np
import pytest

from neurodyn.eval.nlb import (
    NLBRates,
    NLBTargets,
    bits_per_spike,
    condition_psth,
    gaussian_kernel,
    gaussian_smooth,
    lag_behavior,
    nlb_metrics,
    poisson_nll,
    psth_r2,
    ridge_r2,
)

# --- an independent, deliberately plain implementation of the same formulas ---------------


def loop_nll(rates, spikes):
    total = 0.0
    for r, n in zip(np.ravel(rates), np.ravel(spikes), strict=True):
        if math.isnan(n):
            continue
        r = r if r > 0 else 1e-9
        total += r - n * math.log(r) + math.lgamma(n + 1)
    return total


def loop_bps(rates, spikes):
    trials, time, neurons = spikes.shape
    null = np.zeros_like(spikes, dtype=float)
    for j in range(neurons):
        vals = [spikes[i, t, j] for i in range(trials) for t in range(time)
                if not math.isnan(spikes[i, t, j])]
        null[:, :, j] = sum(vals) / len(vals)
    count = sum(n for n in np.ravel(spikes) if not math.isnan(n))
    return (loop_nll(null, spikes) - loop_nll(rates, spikes)) / count / math.log(2)


def loop_r2(true, pred):
    """R² per column, averaged (sklearn's uniform average)."""
    scores = []
    for j in range(true.shape[1]):
        mean = sum(true[:, j]) / len(true)
        ss_res = sum((true[i, j] - pred[i, j]) ** 2 for i in range(len(true)))
        ss_tot = sum((true[i, j] - mean) ** 2 for i in range(len(true)))
        scores.append(1 - ss_res / ss_tot)
    return sum(scores) / len(scores)


def closed_form_ridge(x, y, alpha):
    xm, ym = x.mean(0), y.mean(0)
    xc = x - xm
    w = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ (y - ym))
    return lambda z: (z - xm) @ w + ym


def loop_ridge_r2(tx, ty, ex, ey, alphas, folds=5):
    n = len(tx)
    # contiguous folds as in KFold(shuffle=False): the first n % folds folds get one extra
    sizes = [n // folds + (1 if k < n % folds else 0) for k in range(folds)]
    starts = np.cumsum([0] + sizes)
    best, best_score = None, -np.inf
    for alpha in alphas:
        scores = []
        for k in range(folds):
            test = np.arange(starts[k], starts[k + 1])
            train = np.setdiff1d(np.arange(n), test)
            f = closed_form_ridge(tx[train], ty[train], alpha)
            scores.append(loop_r2(ty[test], f(tx[test])))
        if np.mean(scores) > best_score + 1e-12:
            best, best_score = alpha, np.mean(scores)
    return loop_r2(ey, closed_form_ridge(tx, ty, best)(ex))


# --- hand-made arrays ------------------------------------------------------------------------


def test_nll_by_hand():
    # λ=1, n=2: 1 − 2·log 1 + log 2! = 1 + log 2 ; λ=2, n=0: 2
    assert poisson_nll(np.array([[[1.0, 2.0]]]), np.array([[[2.0, 0.0]]])) == pytest.approx(
        1 + math.log(2) + 2)
    # NaN spikes are ignored
    assert poisson_nll(np.array([1.0, 5.0]), np.array([2.0, np.nan])) == pytest.approx(
        1 + math.log(2))
    with pytest.raises(ValueError, match="negative"):
        poisson_nll(np.array([-1.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="NaN rate"):
        poisson_nll(np.array([np.nan]), np.array([1.0]))


def test_bps_by_hand():
    # one neuron, two bins with counts 0 and 2: null rate 1.
    spikes = np.array([[[0.0], [2.0]]])
    rates = np.array([[[0.5], [1.5]]])
    nll_null = 1 + (1 - 2 * math.log(1) + math.log(2))
    nll_model = 0.5 + (1.5 - 2 * math.log(1.5) + math.log(2))
    expected = (nll_null - nll_model) / 2 / math.log(2)
    assert bits_per_spike(rates, spikes) == pytest.approx(expected)
    assert bits_per_spike(rates, spikes) == pytest.approx(loop_bps(rates, spikes))


def test_r2_and_psth_by_hand():
    # two conditions × 2 bins × 1 neuron; eval trials 0, 1 are condition 0, trial 2 condition 1
    psth = np.array([[[1.0], [3.0]], [[2.0], [6.0]]])
    rates = np.array([[[1.0], [2.0]], [[1.0], [4.0]], [[2.0], [5.0]]])
    # predicted PSTH: cond 0 → [1, 3], cond 1 → [2, 5]; true rows [1, 3, 2, 6]
    true = np.array([1.0, 3.0, 2.0, 6.0])
    pred = np.array([1.0, 3.0, 2.0, 5.0])
    expected = 1 - np.sum((true - pred) ** 2) / np.sum((true - true.mean()) ** 2)
    assert psth_r2(psth, rates, [np.array([0, 1]), np.array([2])]) == pytest.approx(expected)
    # NaN-padded PSTH rows are skipped
    padded = np.concatenate([psth, np.full((2, 1, 1), np.nan)], axis=1)
    longer = np.concatenate([rates, np.ones((3, 1, 1))], axis=1)
    assert psth_r2(padded, longer, [np.array([0, 1]), np.array([2])]) == pytest.approx(expected)
    # a condition without evaluation trials is skipped (nlb_tools), not a crash
    three = np.concatenate([psth, [[[9.0], [9.0]]]], axis=0)
    conds = [np.array([0, 1]), np.array([2]), np.array([], dtype=int)]
    assert psth_r2(three, rates, conds) == pytest.approx(expected)
    with pytest.raises(ValueError, match="no PSTH condition"):
        psth_r2(psth, rates, [np.array([], dtype=int)] * 2)


def test_kernel_smoothing_and_lag():
    k = gaussian_kernel(2.0)
    assert k.sum() == pytest.approx(1.0) and len(k) == 12 and np.allclose(k, k[::-1])
    spikes = np.zeros((1, 30, 1))
    spikes[0, 15, 0] = 1
    sm = gaussian_smooth(spikes, 2.0)
    assert sm.sum() == pytest.approx(1.0) and sm[0, :, 0].argmax() in (14, 15)
    beh = np.arange(10, dtype=float).reshape(1, 5, 2)  # 3 observed bins + 2 beyond
    lagged = lag_behavior(beh, 2, 3)  # nlb_tools: the window shifted by the lag, no NaN tail
    np.testing.assert_array_equal(lagged, beh[:, 2:5])
    np.testing.assert_array_equal(lag_behavior(beh, 0, 3), beh[:, :3])
    with pytest.raises(ValueError, match="does not cover"):
        lag_behavior(beh, 3, 3)
    psth, ids = condition_psth(np.arange(12.0).reshape(3, 2, 2), np.array([1, 0, 1]))
    assert ids == [0, 1]
    np.testing.assert_allclose(psth[1], (np.arange(4.0) + np.arange(8.0, 12.0)).reshape(2, 2) / 2)


# --- limiting cases on synthetic Poisson data --------------------------------------------------


@pytest.fixture(scope="module")
def poisson_data():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, 40)
    phases = rng.uniform(0, 2 * np.pi, size=(30, 1, 1))
    gains = rng.uniform(0.2, 1.5, size=(1, 1, 12))
    rates = gains * (1.2 + np.sin(t[None, :, None] + phases))  # counts per bin
    return rates, rng.poisson(rates).astype(float)


def test_mean_rate_is_zero_bps(poisson_data):
    _, spikes = poisson_data
    mean = np.broadcast_to(spikes.mean(axis=(0, 1), keepdims=True), spikes.shape)
    assert bits_per_spike(mean, spikes) == pytest.approx(0.0, abs=1e-12)


def test_true_rates_are_the_maximum(poisson_data):
    rates, spikes = poisson_data
    best = bits_per_spike(rates, spikes)
    assert best > 0.1
    mean = spikes.mean(axis=(0, 1), keepdims=True)
    other_draw = np.random.default_rng(9).poisson(rates).astype(float)
    for alt in (rates * 0.7, rates * 1.4, 0.5 * rates + 0.5 * mean,
                gaussian_smooth(other_draw, 3.0) + 1e-3, np.roll(rates, 5, axis=1)):
        assert bits_per_spike(alt, spikes) < best


def test_matches_loop_implementation(poisson_data):
    rates, spikes = poisson_data
    noisy = rates * np.exp(np.random.default_rng(1).normal(0, 0.3, rates.shape))
    spikes = spikes.copy()
    spikes[0, :3, 0] = np.nan
    assert bits_per_spike(noisy, spikes) == pytest.approx(loop_bps(noisy, spikes), rel=1e-10)


def test_ridge_matches_closed_form():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 5))
    y = x @ rng.normal(size=(5, 2)) + rng.normal(0, 2.0, size=(60, 2))
    ex = rng.normal(size=(40, 5))
    ey = ex @ np.ones((5, 2)) * 0.3 + rng.normal(size=(40, 2))
    alphas = np.logspace(-4, 3, 8)
    assert ridge_r2(x, y, ex, ey, alphas) == pytest.approx(
        loop_ridge_r2(x, y, ex, ey, alphas), rel=1e-8)


def test_all_metrics_on_nlb_layout(poisson_data):
    rates, spikes = poisson_data
    rng = np.random.default_rng(3)
    heldin, heldout, obs = slice(0, 8), slice(8, 12), slice(0, 30)
    fwd = slice(30, 40)
    vel = rates[..., :2] @ np.array([[1.0, -0.5], [0.3, 1.0]]) + rng.normal(0, 0.05, (30, 40, 2))
    tr, ev = slice(0, 20), slice(20, 30)
    cond = np.arange(30) % 2
    psth, _ = condition_psth(rates[ev, obs], cond[ev])
    targets = NLBTargets(
        eval_spikes_heldout=spikes[ev, obs, heldout],
        eval_spikes_heldin_forward=spikes[ev, fwd, heldin],
        eval_spikes_heldout_forward=spikes[ev, fwd, heldout],
        train_behavior=vel[tr, obs], eval_behavior=vel[ev, obs], psth=psth,
        eval_cond_idx=[np.flatnonzero(cond[ev] == c) for c in (0, 1)])

    def as_rates(r):
        return NLBRates(r[tr, obs, heldin], r[tr, obs, heldout], r[ev, obs, heldin],
                        r[ev, obs, heldout], r[ev, fwd, heldin], r[ev, fwd, heldout])

    true = nlb_metrics(as_rates(rates), targets)
    assert true["psth_r2"] == pytest.approx(1.0) and true["vel_r2"] > 0.9
    assert true["co_bps"] == pytest.approx(loop_bps(rates[ev, obs, heldout],
                                                    spikes[ev, obs, heldout]))
    flat = np.broadcast_to(spikes.mean(axis=(0, 1), keepdims=True), spikes.shape)
    worse = nlb_metrics(as_rates(np.ascontiguousarray(flat) + 0.0), targets)
    for key in ("co_bps", "fp_bps", "psth_r2"):
        assert worse[key] < true[key]
