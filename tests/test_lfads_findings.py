"""The decision rules of claims L1–L5 (Keshtkaran & Pandarinath 2019) on constructed records."""

from __future__ import annotations

import numpy as np
import pytest

from neurodyn.findings import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED
from neurodyn.lfads import findings as F

CONVERGED = [5.0, 3.0, 2.0, 1.5, 1.2, 1.1, 1.05, 1.04, 1.04, 1.04]
FALLING = [5.0, 4.0, 3.0, 2.5, 2.0, 1.8, 1.6, 1.4, 1.2, 1.0]
CFG = {"rnn": {"n_units": 50, "gamma": 2.5, "n_conditions": 32, "trials_per_condition": 10,
               "n_bins": 50},
       "linear_ae": {"n_factors": 5, "n_obs": 40, "noise_sd": 1.0},
       "reaching": {"n_neurons": 40, "n_conditions": 12, "trials_per_condition": 20}}


def _search(arm, r2, metric, curve=CONVERGED):
    """Search records of one arm: rate R² ``r2[i]`` and selection metric ``metric[i]``."""
    key = F.SELECTION[arm]
    return [{"model_id": f"{arm}_{i}", "arm": arm, "hparams": {}, "rate_r2": float(r),
             "valid_recon_heldin_smth": float(m) if key.startswith("valid") else 0.0,
             "train_recon_sv_smth": float(m) if key.startswith("train") else np.nan,
             F.CURVE[arm]: list(curve)} for i, (r, m) in enumerate(zip(r2, metric, strict=True))]


def _frame(arm, r2, metric, curve=CONVERGED):
    return F.search_frame(_search(arm, r2, metric, curve))


def _tracking(n=40, noise=0.01, top=0.9):
    rng = np.random.default_rng(0)
    r2 = np.linspace(0.2, top, n)
    return r2, -r2 + noise * rng.standard_normal(n)


def _misleading(n=40):
    """Loss tracks R² except that the lowest loss belongs to a poor model (R² 0.4)."""
    r2, metric = _tracking(n)
    metric[n // 4] = metric.min() - 1.0
    return r2, metric


def test_still_falling_and_spearman_interval():
    assert not F.still_falling(CONVERGED)
    assert F.still_falling(FALLING)
    assert F.still_falling([3.0, 2.0])  # too short to show convergence
    rho, lo, hi = F.spearman_interval(np.arange(40), np.arange(40) ** 2)
    assert rho == pytest.approx(1.0) and lo > 0.9 and np.isnan(F.spearman_interval([1, 2, 3],
                                                                                   [1, 3, 2])[1])


def test_l1_lowest_loss_picks_a_poor_model():
    f = F.l1_standard_misselects(_frame("standard", *_misleading()), "synthetic")
    assert f.verdict == REPRODUCED and "gap" in f.measured and f.n == 40
    tracks = F.l1_standard_misselects(_frame("standard", *_tracking()), "synthetic")
    assert tracks.verdict == NOT_REPRODUCED


def test_l1_inconclusive_with_few_models_poor_best_or_unconverged_fits():
    few = F.l1_standard_misselects(_frame("standard", *_misleading(n=29)), "synthetic")
    assert few.verdict == INCONCLUSIVE and "need 30" in few.reason
    poor = F.l1_standard_misselects(_frame("standard", *_misleading()).assign(
        rate_r2=lambda d: d["rate_r2"] * 0.4), "synthetic")
    assert poor.verdict == INCONCLUSIVE and "learned the rates" in poor.reason
    falling = F.l1_standard_misselects(_frame("standard", *_misleading(), curve=FALLING),
                                       "synthetic")
    assert falling.verdict == INCONCLUSIVE and "still improving" in falling.reason
    empty = F.l1_standard_misselects(F.search_frame([]), "synthetic")
    assert empty.verdict == INCONCLUSIVE and empty.n == 0


def test_l2_cd_loss_tracks_r2_and_selects_near_best():
    assert F.l2_cd_tracks(_frame("cd", *_tracking()), "synthetic").verdict == REPRODUCED
    rng = np.random.default_rng(1)
    r2 = np.linspace(0.2, 0.9, 40)
    weak = F.l2_cd_tracks(_frame("cd", r2, rng.standard_normal(40)), "synthetic")
    assert weak.verdict == NOT_REPRODUCED
    # strong correlation but the pick falls short of the best: not "near the best"
    assert F.l2_cd_tracks(_frame("cd", *_misleading()), "synthetic").verdict == NOT_REPRODUCED
    few = F.l2_cd_tracks(_frame("cd", *_tracking(n=12)), "synthetic")
    assert few.verdict == INCONCLUSIVE and "12 cd models" in few.reason
    # other arms' models do not count for the CD arm
    assert F.l2_cd_tracks(_frame("standard", *_tracking()), "synthetic").verdict == INCONCLUSIVE


def test_l3_sv_metric_selects_near_best():
    assert F.l3_sv_selects(_frame("sv", *_tracking()), "synthetic").verdict == REPRODUCED
    assert F.l3_sv_selects(_frame("sv", *_misleading()), "synthetic").verdict == NOT_REPRODUCED
    few = F.l3_sv_selects(_frame("sv", *_tracking(n=10)), "synthetic")
    assert few.verdict == INCONCLUSIVE


LINEAR = {"plain_mean_abs_diag": 0.9, "cd_mean_abs_diag": 0.01, "plain_clean_loss": 0.5,
          "cd_clean_loss": 0.1, "keep_ratio": 0.8}


def test_l4_cd_prevents_identity():
    ok = F.l4_linear_ae(LINEAR, "synthetic")
    assert ok.verdict == REPRODUCED and "by construction" in ok.rule
    worse = F.l4_linear_ae({**LINEAR, "cd_clean_loss": 0.6}, "synthetic")
    assert worse.verdict == NOT_REPRODUCED
    diag = F.l4_linear_ae({**LINEAR, "cd_mean_abs_diag": 0.4}, "synthetic")
    assert diag.verdict == NOT_REPRODUCED
    never = F.l4_linear_ae({**LINEAR, "plain_mean_abs_diag": 0.2}, "synthetic")
    assert never.verdict == INCONCLUSIVE and "identity" in never.reason
    assert F.l4_linear_ae({}, "synthetic").verdict == INCONCLUSIVE


def _sizes(gain, fractions=(0.05, 0.2, 1.0), draws=3, fixed=0.6, best_last=False):
    """Dataset-size records: fixed-HP R² ``fixed`` + noise, HPO R² = fixed + gain(fraction)."""
    rows = []
    for f in fractions:
        for d in range(draws):
            base = fixed + 0.01 * d
            for arm, r2 in (("fixed", base), ("hpo", base + gain(f) + 0.005 * d)):
                rows.append({"model_id": f"{arm}_{f}_{d}", "arm": arm, "fraction": f, "draw": d,
                             "hparams": {}, "velocity_r2": r2, "n_train_trials": 10,
                             "epochs_run": 10, "best_epoch": 9 if best_last else 6})
    return rows


def _l5(rows, smooth=0.5):
    frame = F.records_frame(rows)
    return F.l5_datasize(frame, smooth, "synthetic reaching stand-in")


def test_l5_hpo_gain_largest_at_small_sizes_and_both_beat_smoothing():
    shrinking = _sizes(lambda f: 0.2 * (1 - f) + 0.02)
    f = _l5(shrinking)
    assert f.verdict == REPRODUCED and f.n == 3 and "HPO over fixed" in f.measured
    growing = _sizes(lambda f: 0.2 * f + 0.02)
    assert _l5(growing).verdict == NOT_REPRODUCED  # gain largest at the largest size
    assert _l5(shrinking, smooth=0.7).verdict == NOT_REPRODUCED  # smoothing wins
    assert _l5(_sizes(lambda f: -0.1)).verdict == NOT_REPRODUCED  # HPO worse


def test_l5_inconclusive_with_few_draws_sizes_or_unconverged_fits():
    gain = lambda f: 0.2 * (1 - f) + 0.02  # noqa: E731
    draws = _l5(_sizes(gain, draws=2))
    assert draws.verdict == INCONCLUSIVE and "draws" in draws.reason
    sizes = _l5(_sizes(gain, fractions=(0.1, 1.0)))
    assert sizes.verdict == INCONCLUSIVE and "dataset sizes" in sizes.reason
    last = _l5(_sizes(gain, best_last=True))
    assert last.verdict == INCONCLUSIVE and "best epoch last" in last.reason
    assert F.l5_datasize(F.records_frame([]), 0.5, "x").verdict == INCONCLUSIVE


def test_lfads_findings_rows_and_data_labels():
    records = (_search("standard", *_misleading()) + _search("cd", *_tracking())
               + _search("sv", *_tracking()))
    rows = F.lfads_findings(records, _sizes(lambda f: 0.2 * (1 - f) + 0.02), 0.5, LINEAR, CFG)
    assert [r.claim for r in rows] == ["L1", "L2", "L3", "L4", "L5"]
    assert all(r.verdict == REPRODUCED for r in rows)
    assert "synthetic" in rows[0].data and "400" in rows[0].data
    assert "stand-in" in rows[4].data and "Monkey J" in rows[4].data
    empty = F.lfads_findings([], [], float("nan"), {}, CFG)
    assert all(r.verdict == INCONCLUSIVE for r in empty)


def test_write_lfads_findings_reads_jobs_table_and_summary(tmp_path):
    import json
    from types import SimpleNamespace

    import pandas as pd

    search = tmp_path / "search.json"
    search.write_text(json.dumps(_search("standard", *_misleading()) + _search("cd", *_tracking())
                                 + _search("sv", *_tracking(n=5))))
    sizes = tmp_path / "sizes.json"
    sizes.write_text(json.dumps(_sizes(lambda f: 0.2 * (1 - f) + 0.02)))
    table = tmp_path / "datasize_r2.csv"
    pd.DataFrame({"fraction": [0.05], "smoothing_r2": [0.55]}).to_csv(table, index=False)
    linear = tmp_path / "summary.json"
    linear.write_text(json.dumps(LINEAR))
    out = SimpleNamespace(findings=tmp_path / "findings.csv", findings_md=tmp_path / "f.md")
    F.write_lfads_findings([search], [sizes], table, linear, CFG, out, {"rule": "test"})
    got = pd.read_csv(out.findings)
    assert got["verdict"].tolist() == [REPRODUCED, REPRODUCED, INCONCLUSIVE, REPRODUCED,
                                       REPRODUCED]
    assert "smoothing 0.550" in got.loc[4, "measured"]
    assert "SYNTHETIC" in out.findings_md.read_text()
    # dataset-size experiment off: no jobs, no table -> L5 inconclusive
    F.write_lfads_findings([search], [], None, linear, CFG, out, {"rule": "test"})
    assert pd.read_csv(out.findings)["verdict"].iloc[4] == INCONCLUSIVE


def test_no_cell_breaks_the_markdown_table():
    records = _search("standard", *_misleading())
    rows = F.lfads_findings(records, _sizes(lambda f: 0.1), 0.5, LINEAR, CFG)
    never = F.l4_linear_ae({**LINEAR, "plain_mean_abs_diag": 0.2}, "synthetic")
    for row in [*rows, never]:
        for cell in (row.statement, row.paper, row.measured, row.rule, row.reason, row.data):
            assert "|" not in cell, cell
