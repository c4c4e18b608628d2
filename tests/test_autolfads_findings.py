"""The decision rules of AutoLFADS claims A1–A3 on constructed evaluation records."""

from __future__ import annotations

import pytest

from neurodyn.autolfads import findings as F
from neurodyn.findings import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED

PBT = {"population": 4, "generations": 3, "first_generation_epochs": 16,
       "epochs_per_generation": 12}
BASE = {"co_bps": 0.30, "vel_r2": 0.90, "psth_r2": 0.60, "fp_bps": 0.20}


def _rec(backend, seed, shift=0.0, dataset="SyntheticReaching", **extra):
    """A record whose metrics are BASE + shift (+ a small per-seed jitter)."""
    metrics = {m: v + shift + 0.002 * (seed % 3) for m, v in BASE.items()}
    pbt = {"stopped_early": True, "generations_trained": 3} if backend in (
        "snakemake", "ray") else {}
    return {"dataset": dataset, "source": "synthetic", "backend": backend, "seed": seed,
            **metrics, **pbt, **extra}


def _a1(auto=0.05, seeds=(0, 1, 2), stopped=True):
    return ([_rec("snakemake", s, auto, stopped_early=stopped) for s in seeds]
            + [_rec("fixed", s) for s in seeds] + [_rec("none", s, -0.01) for s in seeds])


def test_a1_beats_both_baselines():
    row = F.a1_beats_baselines(_a1(0.05), "snakemake")
    assert row.verdict == REPRODUCED and row.n == 3 and "smoothing" in row.measured
    assert "SYNTHETIC" in row.data.upper()


def test_a1_worse_than_a_baseline_fails():
    assert F.a1_beats_baselines(_a1(-0.05), "snakemake").verdict == NOT_REPRODUCED


def test_a1_one_seed_or_unconverged_pbt_is_inconclusive():
    one = F.a1_beats_baselines(_a1(0.05, seeds=(0,)), "snakemake")
    assert one.verdict == INCONCLUSIVE and "1 seed(s), need 3" in one.reason
    assert "no interval" in one.measured
    capped = F.a1_beats_baselines(_a1(0.05, stopped=False), "snakemake")
    assert capped.verdict == INCONCLUSIVE and "not converged" in capped.reason
    no_fixed = [r for r in _a1(0.05) if r["backend"] != "fixed"]
    assert "fixed-HP" in F.a1_beats_baselines(no_fixed, "snakemake").reason


def test_a1_intervals_spanning_zero_decide_nothing():
    records = _a1(0.0)  # equal up to the shared per-seed jitter: every difference 0
    records += [_rec("snakemake", 3, 0.05), _rec("fixed", 3), _rec("none", 3)]
    row = F.a1_beats_baselines(records, "snakemake")
    assert row.verdict == INCONCLUSIVE and "neither way" in row.reason


def _a2(delta=0.01, seeds=(0,), seed_offset=7, backends=("snakemake", "ray"), fp=0.2):
    records = [_rec("snakemake", s, fp_bps=fp) for s in seeds]
    records += [{**_rec("ray", s), **{m: v * (1 + delta) for m, v in BASE.items()},
                 "fp_bps": fp * (1 + delta)} for s in seeds]
    return F.a2_engines_agree(records, backends, seed_offset)


def test_a2_independent_engines_within_five_percent():
    row = _a2(0.03)
    assert row.verdict == REPRODUCED and row.n == 1 and "no interval" in row.measured
    assert "0.3364" in row.paper and "KubeFlow" in row.paper


def test_a2_engines_apart_fail():
    assert _a2(0.08).verdict == NOT_REPRODUCED


def test_a2_shared_seeds_or_no_ray_is_inconclusive():
    shared = _a2(0.0, seed_offset=0)
    assert shared.verdict == INCONCLUSIVE and "identical by construction" in shared.reason
    no_ray = F.a2_engines_agree(_a1(0.05), ["snakemake"], 7)
    assert no_ray.verdict == INCONCLUSIVE and "Ray Tune backend is not in this run" in (
        no_ray.reason)
    null = _a2(0.01, fp=-0.02)
    assert null.verdict == INCONCLUSIVE and "fp_bps <= 0" in null.reason


def _a3(delta=0.0, seeds=(0, 1, 2), epochs=4 * 40, with_random=True):
    records = [_rec("snakemake", s, 0.0) for s in seeds]
    if with_random:
        budget = {} if epochs is None else {"model_epochs": epochs}
        records += [_rec("random", s, -delta, **budget) for s in seeds]
    return F.a3_pbt_vs_random(records, "snakemake", PBT)


def test_pbt_model_epochs_from_schedule():
    assert F.pbt_model_epochs({"generations_trained": 3}, PBT) == 4 * (16 + 2 * 12)
    assert F.pbt_model_epochs({"generations_trained": 2}, PBT) == 4 * (16 + 12)
    assert F.pbt_model_epochs({"model_epochs": 7}, PBT) == 7


def test_a3_pbt_matches_or_beats_random_search():
    assert _a3(0.0).verdict == REPRODUCED  # matches
    assert _a3(0.05).verdict == REPRODUCED  # beats


def test_a3_pbt_worse_than_random_fails():
    assert _a3(-0.1).verdict == NOT_REPRODUCED


@pytest.mark.parametrize("kwargs, reason", [
    ({"with_random": False}, "no random-search arm"),
    ({"epochs": 4 * 60}, "different model-epochs"),
    ({"seeds": (0, 1)}, "2 seed(s), need 3"),
    ({"epochs": None}, "state no model_epochs"),
])
def test_a3_inconclusive(kwargs, reason):
    row = _a3(0.0, **kwargs)
    assert row.verdict == INCONCLUSIVE and reason in row.reason


def test_default_run_rows_state_their_reasons():
    """The default run: one seed, Snakemake backend only, fixed 3 generations, no random."""
    records = [_rec("snakemake", 0, 0.05, stopped_early=False), _rec("fixed", 0),
               _rec("none", 0)]
    rows = F.autolfads_findings(records, ["snakemake"], PBT, seed_offset=0)
    assert [r.claim for r in rows] == ["A1", "A2", "A3"]
    assert all(r.verdict == INCONCLUSIVE for r in rows)
    assert "seed" in rows[0].reason and "Ray" in rows[1].reason
    assert "random-search" in rows[2].reason


def test_tables_script_writes_the_findings(tmp_path):
    """The tables rule's script writes findings.{csv,md} next to Table 2 (default run)."""
    import pandas as pd
    from autolfads_helpers import run_tables_script

    summary = {"best_member": 0, "best_score": 1.0, "lineage_gen0_score": 2.0,
               "own_gen0_score": 2.0, "best_gen0_score": 1.5, "member_generations": 12,
               "failed_members": 0, "unreplaced_failures": 0, "stopped_early": False,
               "generations_trained": 3}
    records = [{**_rec("snakemake", 0, 0.05), **summary, "method": "AutoLFADS"},
               {**_rec("fixed", 0), "method": "LFADS (fixed HPs)"},
               {**_rec("none", 0), "method": "Gaussian smoothing"}]
    for r in records:
        r.pop("seed")
        r["rate_r2_truth"] = 0.5
    out = run_tables_script(tmp_path, records, backends=["snakemake"], population=4,
                            generations=3, pbt=PBT, seeds=[0], seed_offset=0)
    table = pd.read_csv(out.findings)
    assert list(table["claim"]) == ["A1", "A2", "A3"]
    assert set(table["verdict"]) == {INCONCLUSIVE}
    assert "SYNTHETIC" in (tmp_path / "findings.md").read_text()
