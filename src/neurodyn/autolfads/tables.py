"""Table 2 analog (NLB metrics per method and PBT backend as mean and spread over seeds,
percent difference between backends) and the sanity checks of the AutoLFADS reproduction
(per seed)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from neurodyn.eval.nlb import METRICS

KEYS = ["dataset", "source", "method", "backend"]
VALUES = [*METRICS, "rate_r2_truth"]
COLUMNS = [*KEYS, "n_seeds", *(c for m in VALUES for c in (m, f"{m}_sd")), "model_epochs",
           "best_member", "best_score"]
PAPER_TOLERANCE_PCT = 5.0  # the JOSS paper's Ray vs KubeFlow spread was below 5 %
SEEDLESS = ("none",)  # deterministic methods (Gaussian smoothing): one record, no seed


def percent_difference(a: float, b: float) -> float:
    """100 · (b − a) / |a|."""
    return 100.0 * (b - a) / abs(a) if a else math.nan


def per_seed(records: Sequence[Mapping[str, Any]], seeds: Sequence[int]) -> list[dict[str, Any]]:
    """Every record once per seed: a deterministic method's single record (Gaussian smoothing)
    stands for each seed, so the findings can pair it with every seed's runs."""
    out: list[dict[str, Any]] = []
    for r in records:
        if r["backend"] in SEEDLESS:
            out += [{**r, "seed": int(s)} for s in seeds]
        else:
            out.append(dict(r))
    return out


def _spread(values: Sequence[float]) -> float:
    """Sample standard deviation over seeds (NaN with one seed)."""
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return float(pd.Series(finite).std(ddof=1)) if len(finite) >= 2 else math.nan


def _mean(values: Sequence[Any]) -> float:
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return sum(finite) / len(finite) if finite else math.nan


def table2(records: Sequence[Mapping[str, Any]], backends: Sequence[str]) -> pd.DataFrame:
    """One row per (dataset, method/backend): each metric's mean over seeds and its spread
    (``<metric>_sd``, sample SD over seeds; NaN with one seed), the number of seeds and the
    model-epochs; with two PBT backends, a percent-difference row per dataset (second backend
    relative to the first, of the means)."""
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for r in records:
        groups.setdefault(tuple(r.get(k) for k in KEYS), []).append(r)
    rows = []
    for key, group in groups.items():
        row: dict[str, Any] = dict(zip(KEYS, key, strict=True))
        row["n_seeds"] = len({r.get("seed") for r in group})
        for m in VALUES:
            row[m], row[f"{m}_sd"] = _mean([r.get(m) for r in group]), _spread(
                [r.get(m) for r in group])
        row["model_epochs"] = _mean([r.get("model_epochs") for r in group])
        row["best_score"] = _mean([r.get("best_score") for r in group])
        row["best_member"] = group[0].get("best_member") if len(group) == 1 else None
        rows.append(row)
    for dataset in sorted({r["dataset"] for r in records}):
        pbt = {r["backend"]: r for r in rows if r["dataset"] == dataset
               and r["backend"] in backends}
        if len(backends) >= 2 and all(b in pbt for b in backends[:2]):
            rows.append(_backend_difference(records, dataset, backends[0], backends[1],
                                            pbt[backends[0]]["source"]))
    return pd.DataFrame(rows, columns=COLUMNS)


def _backend_difference(records: Sequence[Mapping[str, Any]], dataset: str, first: str,
                        second: str, source: Any) -> dict[str, Any]:
    """Percent difference of ``second`` vs ``first`` (means over the seeds both ran: an
    engine may run fewer replicates, autolfads.ray.replicates)."""
    runs = {b: {r.get("seed"): r for r in records
                if r["dataset"] == dataset and r["backend"] == b} for b in (first, second)}
    common = set(runs[first]) & set(runs[second])

    def mean(b: str, m: str) -> float:
        return _mean([runs[b][s].get(m) for s in common])

    return {"dataset": dataset, "source": source, "method": f"% difference {second} vs {first}",
            "backend": f"{second}-{first}", "n_seeds": len(common),
            **{m: percent_difference(mean(first, m), mean(second, m)) for m in VALUES}}


def sanity(records: Sequence[Mapping[str, Any]], backends: Sequence[str],
           expected_member_generations: int) -> pd.DataFrame:
    """Checks on every PBT backend's run (per seed), and between backends and baselines."""
    rows = []

    def check(dataset: str, backend: str, seed: Any, name: str, value: float,
              reference: float, passed: bool) -> None:
        rows.append({"dataset": dataset, "backend": backend, "seed": seed, "check": name,
                     "value": value, "reference": reference, "pass": bool(passed)})

    by = {(r["dataset"], r["backend"], r.get("seed")): r for r in records}
    smoothing = {r["dataset"]: r for r in records if r["backend"] == "none"}
    for (dataset, backend, seed), r in sorted(by.items(), key=lambda kv: str(kv[0])):
        if backend not in backends:
            continue
        check(dataset, backend, seed,
              "best member's final score < its lineage's generation-0 score",
              r["best_score"], r["lineage_gen0_score"],
              r["best_score"] < r["lineage_gen0_score"])
        check(dataset, backend, seed,
              "best member's final score < its own slot's generation-0 score",
              r["best_score"], r["own_gen0_score"], r["best_score"] < r["own_gen0_score"])
        check(dataset, backend, seed, "best final score < best generation-0 score",
              r["best_score"], r["best_gen0_score"], r["best_score"] < r["best_gen0_score"])
        check(dataset, backend, seed, "member-generations recorded (none dropped)",
              r["member_generations"], expected_member_generations,
              r["member_generations"] == expected_member_generations)
        check(dataset, backend, seed, f"failed member-generations ({r['failed_members']}) all "
              "replaced by a clone of a healthy member in the next generation (none failed "
              "in the final generation)", r["unreplaced_failures"], 0,
              r["unreplaced_failures"] == 0)
        smooth = smoothing.get(dataset)
        if smooth is not None:
            check(dataset, backend, seed, "co-bps above Gaussian smoothing", r["co_bps"],
                  smooth["co_bps"], r["co_bps"] > smooth["co_bps"])
    if len(backends) >= 2:
        pairs = sorted({(d, s) for d, b, s in by if b == backends[0]
                        and (d, backends[1], s) in by}, key=str)
        for dataset, seed in pairs:
            a, b = by[(dataset, backends[0], seed)], by[(dataset, backends[1], seed)]
            for m in METRICS:
                diff = percent_difference(a[m], b[m])
                check(dataset, f"{backends[1]}-{backends[0]}", seed,
                      f"|% difference| of {m} below {PAPER_TOLERANCE_PCT:g} % (paper)",
                      abs(diff), PAPER_TOLERANCE_PCT, abs(diff) < PAPER_TOLERANCE_PCT)
    return pd.DataFrame(rows, columns=["dataset", "backend", "seed", "check", "value",
                                       "reference", "pass"])
