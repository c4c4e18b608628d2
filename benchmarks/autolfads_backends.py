"""Both AutoLFADS PBT backends on the same population: wall-clock and Table 2.

Usage: python benchmarks/autolfads_backends.py [--config tiny|default] [--cores 2] [--keep DIR]

Runs the AutoLFADS targets of the workflow in a throw-away copy of the repository (as a fresh
clone would) with ``autolfads.backends: [snakemake, ray]`` and the chosen config (``tiny`` =
``tests/data/tiny.yaml`` over the default, ``default`` = the embedded default), then prints
the wall-clock of each backend's training jobs (from Snakemake's job timestamps: first start
to last end of the ``autolfads_member``/``autolfads_select`` jobs vs the ``autolfads_ray``
job; the two backends may run side by side, so on 2 cores each slows the other) and Table 2
with the percent difference between the backends. Needs ``ray[tune]`` (``pip install -e '.[ray]'``).
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from workflow_helpers import clone_repo, snakemake_cmd  # noqa: E402

TARGET = "results/autolfads/tables/table2.md"
STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]$")


def job_spans(log: str) -> dict[str, list[tuple[datetime, datetime]]]:
    """(start, end) of every job per rule, from Snakemake's console log."""
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    starts: dict[str, tuple[str, datetime]] = {}
    stamp = None
    for line in log.splitlines():
        m = STAMP.match(line.strip())
        if m:
            stamp = datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
            continue
        rule = re.match(r"^\s*(?:local)?rule (\w+):", line)
        if rule and stamp:
            current = rule.group(1)
            starts["pending"] = (current, stamp)
        job = re.match(r"^\s*jobid: (\d+)", line)
        if job and "pending" in starts:
            starts[job.group(1)] = starts.pop("pending")
        done = re.match(r"^Finished jobid: (\d+)", line.strip())
        if done and stamp and done.group(1) in starts:
            rule_name, begin = starts.pop(done.group(1))
            spans.setdefault(rule_name, []).append((begin, stamp))
    return spans


def wall(spans: dict[str, list[tuple[datetime, datetime]]], rules: tuple[str, ...]) -> float:
    times = [t for r in rules for t in spans.get(r, [])]
    if not times:
        return float("nan")
    return (max(e for _, e in times) - min(s for s, _ in times)).total_seconds()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", choices=("tiny", "default"), default="tiny")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="run in this folder and keep it")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="autolfads_bench_"))
    repo = clone_repo(work / "repo")
    configs = ["config/config.yaml"] + (["tests/data/tiny.yaml"] if args.config == "tiny"
                                        else [])
    cmd = snakemake_cmd("--cores", str(args.cores), "--configfile", *configs, "--config",
                        'autolfads={"backends": ["snakemake", "ray"]}', "--", TARGET)
    start = time.perf_counter()
    res = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    total = time.perf_counter() - start
    if res.returncode != 0:
        sys.exit(res.stdout[-3000:] + res.stderr[-3000:])
    spans = job_spans(res.stdout + res.stderr)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"config {args.config}, {args.cores} cores, whole AutoLFADS DAG: {total:.0f} s wall, "
          f"{usage.ru_utime + usage.ru_stime:.0f} CPU-s (on a busy machine compare CPU-s)")
    print("| backend | training jobs wall-clock (s) |\n|---|---|")
    print(f"| snakemake | {wall(spans, ('autolfads_member', 'autolfads_select')):.0f} |")
    print(f"| ray | {wall(spans, ('autolfads_ray',)):.0f} |\n")
    print((repo / TARGET).read_text())
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
