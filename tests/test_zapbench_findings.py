"""The decision rules of claims Z1–Z13 on constructed per-step frames (each able to fail)."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest

from neurodyn.findings import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED
from neurodyn.zapbench import findings as F
from neurodyn.zapbench.grid import unet_settings
from neurodyn.zapbench.report import findings_table

SHORT, LONG, H = 4, 64, 32
VARIANTS = {"base": {}, "rf0": {"levels": 0}, "masked": {"input_mask": "segments"},
            "trainval": {"train_split": "train_val"}, "pretrain2": {"pretrain_specimens": 2},
            "in_x2": {"input_downsample": 2}, "direct": {"direct": True}}
SETTINGS = {k: unet_settings({"features": 8, "groups": 2, "levels": 2, "blocks": 1}, v)
            for k, v in VARIANTS.items()}
CLAIMS = [f"Z{i}" for i in range(1, 14)]


def _world() -> dict[tuple[str, int], float]:
    """Test MAE per (label, context) in a world where every claim holds."""
    w = {}
    for c, shift in ((SHORT, 0.0), (LONG, -0.1)):
        w |= {("mean", c): 1.0, ("last", c): 1.1, ("stimulus", c): 0.9,
              ("linear", c): 0.8 + shift, ("tsmixer", c): 0.75 + shift,
              ("tide", c): 0.78 + shift}
    w |= {("timemix", SHORT): 0.7, ("timemix", LONG): 0.5,
          ("unet:base", SHORT): 0.6, ("unet:base", LONG): 0.48,
          ("unet:rf0", SHORT): 0.65, ("unet:rf0", LONG): 0.49,
          ("unet:masked", SHORT): 0.6012, ("unet:trainval", SHORT): 0.59,
          ("unet:pretrain2", SHORT): 0.603, ("unet:in_x2", SHORT): 0.605,
          ("unet:direct", SHORT): 0.7}
    return w


def _noise(label: str, context: int, seed: int) -> float:
    """Deterministic seed noise of about 0.1 % (so every interval is finite)."""
    rng = np.random.default_rng(zlib.crc32(f"{label}{context}{seed}".encode()))
    return 1 + 1e-3 * float(rng.standard_normal())


def _steps(world, seeds=(0, 1, 2), early=None) -> pd.DataFrame:
    """Per-step frame; ``early`` overrides MAEs at lead times 1–8."""
    rows = []
    for (label, c), mae in world.items():
        kind = "unet" if label.startswith("unet:") else "trace"
        for s in seeds:
            for h in range(1, H + 1):
                v = (early or {}).get((label, c), mae) if h <= 8 else mae
                rows.append({"label": label, "kind": kind, "context": c, "seed": s,
                             "split": "test", "step": h, "mae": v * _noise(label, c, s)})
    return pd.DataFrame(rows)


def _fits(world, seeds=(0, 1, 2), capped=()) -> pd.DataFrame:
    return pd.DataFrame([{"label": lb, "context": c, "seed": s,
                          "trained": lb not in ("mean", "last", "stimulus"),
                          "capped": (lb, c) in capped} for lb, c in world for s in seeds])


def _run(world=None, by_construction=False, **kw) -> dict[str, F.Finding]:
    world = world or _world()
    steps = _steps(world, kw.pop("seeds", (0, 1, 2)), kw.pop("early", None))
    fits = kw.pop("fits", None)
    fits = _fits(world, capped=kw.pop("capped", ())) if fits is None else fits
    settings = {k: v for k, v in SETTINGS.items() if (f"unet:{k}", SHORT) in world}
    rows = F.zapbench_findings(steps, fits, settings, "base", SHORT, LONG, "test data",
                               by_construction)
    return {r.claim: r for r in rows}


def test_every_claim_reproduced_where_it_holds():
    rows = _run()
    assert list(rows) == CLAIMS
    assert {c: r.verdict for c, r in rows.items()} == dict.fromkeys(CLAIMS, REPRODUCED)
    assert all("(published)" in r.paper and r.n == 3 for r in rows.values())
    assert "another scale" in rows["Z11"].paper and "0.02590" in rows["Z11"].paper


def test_miniature_construction_claims_are_never_evidence():
    rows = _run(by_construction=True)
    for claim in CLAIMS:
        if claim in F.BY_CONSTRUCTION:
            assert rows[claim].verdict == INCONCLUSIVE
            assert "by construction" in rows[claim].reason
        else:
            assert rows[claim].verdict == REPRODUCED, claim
    assert F.BY_CONSTRUCTION == {"Z7", "Z10"}


def test_only_one_way_synthetic_waves_make_claims_true_by_construction():
    assert F.waves_fix_direction("synthetic", {})
    assert F.waves_fix_direction("synthetic", {"wave_direction": "-y"})
    assert not F.waves_fix_direction("synthetic", {"wave_direction": "mixed"})
    assert not F.waves_fix_direction("real", {})


FAIL = {  # one change of the world that each claim's rule must reject
    "Z1": {("linear", SHORT): 1.2},
    "Z2": {("timemix", LONG): 0.75},
    "Z3": {("tsmixer", LONG): 0.4},
    "Z4": {("unet:base", SHORT): 0.8},
    "Z6": {("unet:masked", SHORT): 0.62},
    "Z7": {("unet:rf0", SHORT): 0.55},
    "Z8": {("unet:trainval", SHORT): 0.62},
    "Z9": {("unet:base", LONG): 0.3, ("unet:rf0", LONG): 0.31},
    "Z10": {("unet:rf0", LONG): 0.7},
    "Z11": {("unet:pretrain2", SHORT): 0.57},
    "Z12": {("unet:in_x2", SHORT): 0.57},
    "Z13": {("unet:direct", SHORT): 0.55},
}


@pytest.mark.parametrize("claim", sorted(FAIL))
def test_each_rule_can_fail(claim):
    rows = _run(_world() | FAIL[claim])
    assert rows[claim].verdict == NOT_REPRODUCED, rows[claim]


def test_short_lead_claim_fails_when_only_late_leads_are_won():
    """Z5 looks at lead times 1–8 only: a UNet worse there fails Z5 but still wins Z4."""
    rows = _run(early={("unet:base", SHORT): 0.72})
    assert rows["Z5"].verdict == NOT_REPRODUCED
    assert rows["Z4"].verdict == REPRODUCED


def test_masking_fails_both_ways():
    assert _run(_world() | {("unet:masked", SHORT): 0.58})["Z6"].verdict == NOT_REPRODUCED


def test_thin_evidence_is_inconclusive():
    rows = _run(seeds=(0, 1))
    assert all(r.verdict == INCONCLUSIVE and "2 seed(s), need 3" in r.reason
               for r in rows.values())
    capped = _run(capped={("unet:direct", SHORT)})
    assert capped["Z13"].verdict == INCONCLUSIVE and "step cap" in capped["Z13"].reason
    assert capped["Z4"].verdict == REPRODUCED  # the capped fit is not part of Z4
    world = {k: v for k, v in _world().items() if k[0] != "unet:direct"}
    assert "missing arm" in _run(world)["Z13"].reason


def test_no_effect_within_noise_is_inconclusive():
    """A relative change whose interval straddles −1 % decides neither way."""
    world = _world()
    steps = _steps(world)
    sel = steps["label"] == "unet:pretrain2"
    steps.loc[sel, "mae"] = 0.6 * (0.99 + 0.01 * (steps.loc[sel, "seed"] - 1))
    rows = F.zapbench_findings(steps, _fits(world), SETTINGS, "base", SHORT, LONG, "d", False)
    assert rows[10].claim == "Z11" and rows[10].verdict == INCONCLUSIVE
    # the mean change is about −1 %, on the band's edge: only a huge run would decide it
    assert rows[10].reason.startswith("the intervals decide neither way; at the observed means "
                                      "and spreads about ")
    assert rows[10].reason.endswith(" seeds would decide it (3 now)")
    assert _projected(rows[10].reason) > 1000
    steps.loc[sel, "mae"] = 0.6 * (0.995 + 0.01 * (steps.loc[sel, "seed"] - 1))
    rows = F.zapbench_findings(steps, _fits(world), SETTINGS, "base", SHORT, LONG, "d", False)
    assert rows[10].verdict == INCONCLUSIVE and 3 < _projected(rows[10].reason) < 100


def _projected(reason: str) -> int:
    """The seed count an inconclusive reason projects."""
    return int(reason.split("about ")[1].split(" seeds")[0])


def _spread(mean: float, sd: float, n: int) -> F.Interval:
    """The t-interval of ``n`` values with exactly this mean and sample standard deviation."""
    z = np.linspace(-1, 1, n)
    return F.mean_interval(mean + sd * z / z.std(ddof=1))


@pytest.mark.parametrize(("mean", "sd", "bounds"), [
    (0.4, 1.0, (0.0,)), (-0.3, 0.2, (0.0,)), (-0.5, 1.5, (-1.0, 1.0)), (-1.3, 1.0, (-1.0,))])
def test_seeds_to_decide_is_the_first_seed_count_whose_interval_clears_the_bounds(
        mean, sd, bounds):
    need = F.seeds_to_decide(_spread(mean, sd, 3), bounds)
    assert need is not None and need > 3

    def clears(n: int) -> bool:
        iv = _spread(mean, sd, n)
        return not any(iv.low <= b <= iv.high for b in bounds)

    assert clears(need) and not clears(need - 1)


def test_seeds_to_decide_when_decided_or_out_of_reach():
    assert F.seeds_to_decide(_spread(2.0, 0.1, 3), (0.0,)) == 3
    assert F.seeds_to_decide(_spread(1e-6, 1.0, 3), (0.0,)) is None
    assert F.seeds_to_decide(F.mean_interval([1.0]), (0.0,)) is None


def test_fits_frame_marks_capped_fits():
    records = [
        {"kind": "trace", "model": "mean", "context": 4, "seed": 0, "fit": {}},
        {"kind": "trace", "model": "linear", "context": 4, "seed": 0,
         "fit": {"stopped_early": False, "steps": 400}},
        {"kind": "unet", "variant": "base", "context": 4, "seed": 0,
         "fit": {"stopped_early": True, "selection": "best validation"}},
        {"kind": "unet", "variant": "trainval", "context": 4, "seed": 0,
         "fit": {"stopped_early": False, "selection": "last step"}},
    ]
    f = F.fits_frame(records).set_index("label")
    assert f["trained"].tolist() == [False, True, True, True]
    assert f["capped"].tolist() == [False, True, False, False]


def test_findings_table_is_written_with_provenance(tmp_path):
    z = {"source": "synthetic", "benchmark": {"short_context": SHORT, "long_context": LONG},
         "unet": {"reference": "base"},
         "data": {"generator": {"shape": [4, 16, 16], "n_cells": 60}}}
    world = _world()
    records = [{"kind": "unet" if lb.startswith("unet:") else "trace", "model": lb,
                "variant": lb.removeprefix("unet:"), "context": c, "seed": s,
                "fit": {"stopped_early": True}} for lb, c in world for s in (0, 1, 2)]
    out = {"findings": str(tmp_path / "findings.csv"),
           "findings_md": str(tmp_path / "findings.md")}
    table = findings_table(records, _steps(world), z, SETTINGS, out, {"rule": "test"})
    assert list(table["claim"]) == CLAIMS
    written = pd.read_csv(out["findings"])
    assert written["data"].str.startswith("synthetic miniature").all()
    assert (tmp_path / "findings.provenance.json").exists()
    assert "SYNTHETIC" in (tmp_path / "findings.md").read_text().upper()


def test_data_column_names_the_weight_average_deviation():
    from neurodyn.zapbench.report import data_label

    z = {"source": "synthetic", "unet": {"train": {"ema_decay": 0.0}},
         "data": {"generator": {"shape": [4, 16, 16], "n_cells": 60}}}
    assert "EMA" not in data_label(z)
    z["unet"]["train"]["ema_decay"] = 0.99
    assert data_label(z).startswith("synthetic miniature")
    assert "moving average of its weights (EMA 0.99" in data_label(z)


def test_tables_step_writes_findings_sweep_and_table2(tmp_path):
    """``write_tables`` on fake records of the default grid: every output, the findings
    first-class (Z1–Z13), the sweep and Table 2 with receptive field and compute."""
    import json

    from zapbench_helpers import zapbench_config

    from neurodyn.zapbench.compute import receptive_field_xy, unet_cost
    from neurodyn.zapbench.grid import all_unet_settings, trace_runs, unet_runs
    from neurodyn.zapbench.report import write_tables

    z = zapbench_config(tiny=False)
    settings, shape = all_unet_settings(z), z["data"]["generator"]["shape"]
    records = []
    for r in trace_runs(z) + unet_runs(z):
        mae = [0.1 + 0.001 * h + 0.002 * r["seed"] for h in range(H)]
        cond = {"condition 0": {"mae": mae, "corr_h": 0.1, "corr_w": 0.2}}
        rec = {**r, "kind": "unet" if r["model"] == "unet" else "trace",
               "fit": {"stopped_early": True}, "metrics": {"test": cond}}
        if rec["kind"] == "unet":
            s = settings[r["variant"]]
            rec |= {"n_parameters": 1, "rf_xy": receptive_field_xy(s),
                    "macs": unet_cost(s, r["context"], H, shape)["macs"]}
        records.append(rec)
    (tmp_path / "fits.json").write_text(json.dumps(records))
    names = ["per_step", "table1", "table2", "table3", "rf_sweep", "findings"]
    out = {"steps": tmp_path / "steps.csv", "conditions": tmp_path / "cond.csv",
           **{n: tmp_path / f"{n}.csv" for n in names},
           **{f"{n}_md": tmp_path / f"{n}.md" for n in names}}
    write_tables([str(tmp_path / "fits.json")], z, {k: str(v) for k, v in out.items()},
                 {"rule": "test"})
    findings = pd.read_csv(out["findings"])
    assert list(findings["claim"]) == CLAIMS
    assert (findings["verdict"] == INCONCLUSIVE).all()  # the default runs one seed
    sweep = pd.read_csv(out["rf_sweep"])
    assert set(sweep["variant"]) == {"base", "rf0"} and sweep["macs"].notna().all()
    assert sweep["macs_vs_reference"].between(1 / 1.3, 1.3).all()
    t2 = pd.read_csv(out["table2"]).set_index("variant")
    assert set(t2.index) == {"base", "in_x2", "in_x4"}
    assert (abs(t2["rf_xy"] - t2.loc["base", "rf_xy"]) <= 0.1 * t2.loc["base", "rf_xy"]).all()


def test_findings_open_the_report_section():
    """The report sorts a category's subcategories by name: "findings" must come first."""
    import re
    from pathlib import Path

    rules = (Path(__file__).resolve().parents[1] / "rules/zapbench.smk").read_text()
    subs = set(re.findall(r'subcategory="([^"]+)"', rules))
    assert "findings" in subs and len(subs) >= 3
    assert sorted(subs, key=str.casefold)[0] == "findings"
    assert 'f"{ZAPBENCH_OUT}/findings.csv"' in rules
