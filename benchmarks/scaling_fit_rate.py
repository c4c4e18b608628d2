"""Fits per hour of a scaling run and the process-start overhead per fit, side by side.

Usage: python benchmarks/scaling_fit_rate.py [--results results] [--logs logs] [--rounds 3]

Reads what a finished run left behind (run it after, e.g.,
``snakemake scaling_all --cores all --configfile config/reproduce.yaml``):

* ``logs/scaling/benchmark/<cohort>/chunk*.tsv`` (Snakemake ``benchmark:`` of each training
  job: wall seconds, peak RSS) and ``results/scaling/<cohort>/fits/chunk*.json`` (the fits a
  job trained, with their epochs);

and measures, in fresh processes, what a training job pays before its first fit: starting
Python and importing torch, Lightning and the scaling code (``--rounds`` repeats, median).

Prints per cohort: jobs, fits (trained / evaluated only), summed job seconds, fits per hour
per core and on 2 cores, median and max job seconds, epochs per trained fit, peak RSS, and
the start-up overhead per fit (start-up seconds / fits per job) as a share of a fit's time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
IMPORTS = ("import torch, lightning; import neurodyn.scaling.run, neurodyn.scaling.next_step")


def startup_seconds(rounds: int) -> float:
    """Median wall time of a fresh interpreter importing what a training job imports."""
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", IMPORTS], check=True,
                       env={"PYTHONPATH": str(REPO / "src")}, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cohort_rows(results: Path, logs: Path) -> list[dict]:
    rows = []
    for bench_dir in sorted((logs / "scaling" / "benchmark").glob("*")):
        cohort = bench_dir.name
        chunks = sorted(bench_dir.glob("chunk*.tsv"))
        if not chunks:
            continue
        bench = pd.concat([pd.read_csv(p, sep="\t") for p in chunks], ignore_index=True)
        records = [r for p in sorted((results / "scaling" / cohort / "fits").glob("chunk*.json"))
                   for r in json.loads(p.read_text())]
        trained = [r for r in records if r.get("epochs_run", 0) > 0]
        seconds = float(bench["s"].sum())
        rows.append({
            "cohort": cohort, "jobs": len(chunks), "fits": len(records),
            "trained": len(trained), "job_s_sum": round(seconds),
            "fits_per_hour_1core": round(3600 * len(records) / seconds, 1),
            "fits_per_hour_2cores": round(2 * 3600 * len(records) / seconds, 1),
            "job_s_median": round(float(bench["s"].median()), 1),
            "job_s_max": round(float(bench["s"].max()), 1),
            "epochs_per_trained_fit": round(statistics.mean(
                r["epochs_run"] for r in trained), 1) if trained else 0.0,
            "capped_fits": sum(1 for r in trained if r.get("stopped_early") is False),
            "peak_rss_mb": round(float(bench["max_rss"].max())),
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=REPO / "results")
    parser.add_argument("--logs", type=Path, default=REPO / "logs")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = cohort_rows(args.results, args.logs)
    if not rows:
        sys.exit(f"no scaling benchmark files under {args.logs}/scaling/benchmark: run the "
                 "scaling target first")
    start = startup_seconds(args.rounds)
    table = pd.DataFrame(rows)
    per_fit = table["job_s_sum"] / table["fits"]
    fits_per_job = table["fits"] / table["jobs"]
    table["startup_s_per_fit"] = (start / fits_per_job).round(2)
    table["startup_share"] = (start / fits_per_job / per_fit).map("{:.1%}".format)
    total = {"cohort": "all", "jobs": int(table["jobs"].sum()), "fits": int(table["fits"].sum()),
             "trained": int(table["trained"].sum()), "job_s_sum": int(table["job_s_sum"].sum())}
    total["fits_per_hour_2cores"] = round(2 * 3600 * total["fits"] / total["job_s_sum"], 1)
    print(f"process start-up (python + torch + lightning + scaling code, median of "
          f"{args.rounds}): {start:.2f} s")
    print(table.to_string(index=False))
    print("total:", ", ".join(f"{k} {v}" for k, v in total.items() if k != "cohort"))


if __name__ == "__main__":
    main()
