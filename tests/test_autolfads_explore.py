"""PBT explore steps: log-scaled hyperparameters move by multiplying or dividing (symmetric in
log space), linear ones by adding a fraction of their range (a value at 0 can move)."""

import math

import numpy as np

from neurodyn.autolfads.pbt import explore
from neurodyn.autolfads.space import search_space

SPACE = search_space({
    "kl_ic_scale": {"low": 1e-6, "high": 1.0, "log": True, "explore_weight": 0.8},
    "dropout_rate": {"low": 0.0, "high": 0.6, "log": False, "explore_weight": 0.3},
}, elements_per_trial=1)


def _steps(start: dict[str, float], n: int = 4000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    new = [explore(start, SPACE, rng) for _ in range(n)]
    return {k: np.array([h[k] for h in new]) for k in start}


def test_log_hp_steps_multiply_or_divide():
    """With explore weight 0.8 a log HP moves by a factor in [1/1.8, 1.8], and up and down
    steps are mirror images in log space (a linear step 1 − 0.8 would reach 0.2x)."""
    x = _steps({"kl_ic_scale": 1e-3, "dropout_rate": 0.3})["kl_ic_scale"]
    log_ratio = np.log(x / 1e-3)
    assert log_ratio.min() >= -math.log(1.8) - 1e-12 and log_ratio.max() <= math.log(1.8) + 1e-12
    assert abs(np.median(np.abs(log_ratio[log_ratio < 0])) - np.median(log_ratio[log_ratio > 0])
               ) < 0.03
    assert abs(log_ratio.mean()) < 0.03  # no drift in log space


def test_linear_hp_steps_add_a_fraction_of_the_range():
    """A linear HP moves by ± U(0.002 w, w) · (high − low): from 0 it moves up (a
    multiplicative step would keep it at 0 forever), from the middle by at most 0.18."""
    steps = _steps({"kl_ic_scale": 1e-3, "dropout_rate": 0.0})["dropout_rate"]
    assert (steps > 0).all() and steps.max() <= 0.3 * 0.6 + 1e-12
    mid = _steps({"kl_ic_scale": 1e-3, "dropout_rate": 0.3})["dropout_rate"] - 0.3
    assert np.abs(mid).max() <= 0.18 + 1e-12 and np.abs(mid).min() >= 0.002 * 0.18 - 1e-12
    assert abs(mid.mean()) < 0.01 and np.abs(mid).max() > 0.15
