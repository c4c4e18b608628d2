"""The decision rules of claims S1–S6 on constructed fits tables, and the grid's capped levels."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from neurodyn.findings import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, mean_interval
from neurodyn.scaling import findings as F
from neurodyn.scaling.grid import grid, worm_counts

ARCHS = ("Linear", "Feedforward", "CTRNN", "LSTM", "Transformer", "PureAttention")
LEVELS = (1, 2, 3, 5, 8, 12)


def _fits(loss, cohort="real", seeds=(0, 1, 2), levels=LEVELS, archs=ARCHS, baseline=0.04,
          stopped=True):
    """Data-scaling rows with ``loss(arch, seed, n_worms)`` and a baseline row per level."""
    rows = []
    for seed, n in itertools.product(seeds, levels):
        rows.append(dict(cohort=cohort, experiment="data_scaling", arch="Baseline", seed=seed,
                         n_worms=n, n_train_steps=300 * n, n_params=1, min_val_loss=baseline,
                         val_baseline=baseline, stopped_early=None))
        for arch in archs:
            rows.append(dict(cohort=cohort, experiment="data_scaling", arch=arch, seed=seed,
                             n_worms=n, n_train_steps=300 * n, n_params=50_000,
                             min_val_loss=loss(arch, seed, n), val_baseline=baseline,
                             stopped_early=stopped))
    return pd.DataFrame(rows)


def _power(slope, noise=0.02):
    rng = np.random.default_rng(0)
    return lambda arch, seed, n: 0.1 * n ** slope * np.exp(noise * rng.standard_normal())


def test_mean_interval_is_a_t_interval():
    iv = mean_interval([1.0, 2.0, 3.0])
    assert iv.mean == 2.0 and iv.n == 3
    assert iv.high - iv.mean == pytest.approx(4.302653 * 1.0 / np.sqrt(3), rel=1e-5)
    assert mean_interval([1.0]).n == 1 and not mean_interval([1.0]).below


def test_s1_power_law_reproduced_flat_not_capped_inconclusive():
    assert F.s1_data_scaling(_fits(_power(-0.4)), "real").verdict == REPRODUCED
    assert F.s1_data_scaling(_fits(_power(0.0, noise=0.2)), "real").verdict == NOT_REPRODUCED
    capped = F.s1_data_scaling(_fits(_power(-0.4), stopped=False), "real")
    assert capped.verdict == INCONCLUSIVE and "epoch cap" in capped.reason
    few = F.s1_data_scaling(_fits(_power(-0.4), seeds=(0, 1)), "real")
    assert few.verdict == INCONCLUSIVE and "seed" in few.reason
    levels = F.s1_data_scaling(_fits(_power(-0.4), levels=(1, 2, 4)), "real")
    assert levels.verdict == INCONCLUSIVE and "worm counts" in levels.reason


def test_s1_one_flat_architecture_fails_the_claim():
    def loss(arch, seed, n):
        return 0.1 * (1.0 if arch == "Linear" else n ** -0.5) * (1 + 0.01 * seed)
    assert F.s1_data_scaling(_fits(loss), "real").verdict == NOT_REPRODUCED


def test_s2_recurrent_below_memoryless():
    def loss(gap):
        return lambda arch, seed, n: 0.05 * (gap if arch in F.RECURRENT else 1.0) * (
            1 + 0.01 * seed)
    assert F.s2_recurrent_best(_fits(loss(0.8)), "real").verdict == REPRODUCED
    assert F.s2_recurrent_best(_fits(loss(1.2)), "real").verdict == NOT_REPRODUCED
    no_ctrnn = _fits(loss(0.8), archs=("Linear", "Feedforward", "LSTM"))
    assert F.s2_recurrent_best(no_ctrnn, "real").verdict == INCONCLUSIVE


def test_s3_effect_size_against_baseline():
    better = F.s3_beat_baseline(_fits(lambda a, s, n: 0.039 - 0.0001 * s), "real")
    assert better.verdict == REPRODUCED and "-2." in better.measured
    worse = F.s3_beat_baseline(_fits(lambda a, s, n: 0.08 + 0.001 * s), "real")
    assert worse.verdict == NOT_REPRODUCED and "+10" in worse.measured
    # capped fits: their minimum could only fall with more epochs, so a pass stands ...
    capped_pass = F.s3_beat_baseline(_fits(lambda a, s, n: 0.039 - 0.0001 * s,
                                           stopped=False), "real")
    assert capped_pass.verdict == REPRODUCED
    # ... but a failure could turn with more training
    capped_fail = F.s3_beat_baseline(_fits(lambda a, s, n: 0.08 + 0.001 * s, stopped=False),
                                     "real")
    assert capped_fail.verdict == INCONCLUSIVE and "epoch cap" in capped_fail.reason


def test_curve_shape_words():
    assert F.curve_shape([1, 2, 3, 4], [1.0, 0.5, 0.49, 0.6]) == "falls, flattens, rises"
    assert F.curve_shape([4, 1, 2], [0.49, 1.0, 0.5]) == "falls, flattens"
    assert F.curve_shape([1, 2, 3], [1.0, 0.5, 0.2]) == "falls"


def _model_scaling(shape):
    rows = []
    for arch in ("Feedforward", "CTRNN", "LSTM", "Transformer", "PureAttention"):
        for i, loss in enumerate(shape):
            rows.append(dict(cohort="real", experiment="model_scaling", arch=arch, seed=0,
                             n_worms=12, n_train_steps=3600, n_params=10 ** (3 + i),
                             min_val_loss=loss, val_baseline=0.04, stopped_early=True))
    return pd.DataFrame(rows)


def test_s4_falls_then_flattens_or_rises():
    assert F.s4_model_scaling(_model_scaling([1, 0.5, 0.3, 0.31]), "real").verdict == REPRODUCED
    assert F.s4_model_scaling(_model_scaling([1, 0.5, 0.3, 0.4]), "real").verdict == REPRODUCED
    assert (F.s4_model_scaling(_model_scaling([1, 0.5, 0.3, 0.1]), "real").verdict
            == NOT_REPRODUCED)
    assert F.s4_model_scaling(_model_scaling([1, 0.5, 0.3]), "real").verdict == INCONCLUSIVE


def test_s5_sines_factor_and_s6_randomwalk_margin():
    sines = _fits(lambda a, s, n: 0.01 + 0.001 * s, cohort="sines", levels=(4,))
    assert F.s5_sines(sines).verdict == REPRODUCED
    weak = _fits(lambda a, s, n: 0.03 + 0.001 * s, cohort="sines", levels=(4,))
    assert F.s5_sines(weak).verdict == NOT_REPRODUCED  # only 1.3x below the baseline
    flat = _fits(lambda a, s, n: 0.0395, cohort="randomwalk", levels=(4,))
    assert F.s6_randomwalk(flat).verdict == REPRODUCED  # 1.25 % below: within 2 %
    # a capped RandomWalk fit might still fall below the margin: no decision
    capped = _fits(lambda a, s, n: 0.0395, cohort="randomwalk", levels=(4,), stopped=False)
    assert F.s6_randomwalk(capped).verdict == INCONCLUSIVE
    leak = _fits(lambda a, s, n: 0.03 if a == "LSTM" else 0.041, cohort="randomwalk",
                 levels=(4,))
    row = F.s6_randomwalk(leak)
    assert row.verdict == NOT_REPRODUCED and "LSTM" in row.measured


def test_synthetic_cohort_is_never_evidence():
    fits = pd.concat([_fits(_power(-0.4), cohort="synthetic"),
                      _fits(lambda a, s, n: 0.01, cohort="sines", levels=(4,))])
    rows = {r.claim: r for r in F.scaling_findings(fits)}
    for claim in ("S1", "S2", "S3", "S4"):
        assert rows[claim].verdict == INCONCLUSIVE and "never evidence" in rows[claim].reason
    assert rows["S5"].verdict == REPRODUCED
    assert rows["S6"].verdict == INCONCLUSIVE  # no RandomWalk fits in this table


def test_capped_levels_are_planned_once():
    assert worm_counts([1, 5, 10, 15, 284], 12) == [1, 5, 10, 12]
    cfg = {"seeds": [0], "archs": ["LSTM"], "data_scaling": {"worm_levels": [1, 5, 15, 20]},
           "model_scaling": {"hidden": [8]}}
    fits = grid(cfg, n_worms=12)
    assert [f.level for f in fits if f.experiment == "data_scaling"] == [1, 5, 12]
    assert len({f.fit_id for f in fits}) == len(fits)


def test_paper_config_plans_no_duplicate_fits():
    from workflow_helpers import merged_config

    scaling = merged_config("config/paper.yaml")["scaling"]
    for n_worms in (12, 200, 284):
        fits = grid(scaling, n_worms=n_worms)
        keys = [(f.experiment, f.arch, f.seed, f.level) for f in fits]
        assert len(set(keys)) == len(keys)
        levels = {f.level for f in fits if f.experiment == "data_scaling"}
        assert max(levels) == min(n_worms, 284) and len(levels) == len(
            {min(n, n_worms) for n in scaling["data_scaling"]["worm_levels"]})


def test_controls_grid_overrides_the_real_grid():
    cfg = {"seeds": [0, 1, 2], "archs": ["LSTM"], "data_scaling": {"worm_levels": [1, 12]},
           "model_scaling": {"hidden": [4, 8], "seeds": [0]},
           "controls": {"grid": {"seeds": [5], "worm_levels": [4], "hidden": [16]}}}
    real = grid(cfg, 12, "real")
    assert {f.seed for f in real if f.experiment == "model_scaling"} == {0}
    assert len(real) == 3 * 2 + 2
    assert grid(cfg, 4, "sines") == [
        F_ for F_ in grid(cfg, 4, "sines") if F_.seed == 5 and F_.level in (4, 16)]
    assert len(grid(cfg, 4, "sines")) == 2


def test_findings_markdown_escapes_pipes(tmp_path):
    from neurodyn.findings import Finding, write_findings

    row = Finding("X1", "a | b", "p", "|x|", "r", NOT_REPRODUCED, "", "synthetic", 1)
    write_findings([row], tmp_path / "f.csv", tmp_path / "f.md", {"seed": 0}, "t")
    table = [ln for ln in (tmp_path / "f.md").read_text().splitlines() if ln.startswith("| X1")]
    assert len(table) == 1 and table[0].count(" | ") == 8  # 9 cells, none split
    assert "a | b" in (tmp_path / "f.csv").read_text()  # the CSV keeps the text as is
