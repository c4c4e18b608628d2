"""Time to plan the workflow (``snakemake -n``) for each shipped configuration.

Usage: python benchmarks/plan_time.py [--rounds 2]
Plans in a throw-away copy of the repository (so results/ does not shorten the plan) and
prints, per configuration, the number of planned jobs and the wall time of each round, side by
side in one run. The paper configuration should plan in well under 30 s on 2 idle cores.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COPIED = ("Snakefile", "rules", "workflow", "config", "envs", "profiles", "src")
CONFIGS = {"default": [], "paper": ["--configfile", "config/paper.yaml"]}


def planned_jobs(stdout: str) -> int:
    """The ``total`` row of a ``-n --quiet rules`` job table."""
    return next(int(line.split()[1]) for line in stdout.splitlines()
                if line.startswith("total"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name in COPIED:
            src, dst = REPO / name, Path(tmp) / name
            if src.is_dir():
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, dst)
        print(f"{'config':<10}{'jobs':>8}  " + "  ".join(
            f"round {i + 1:>2} (s)" for i in range(args.rounds)))
        for label, extra in CONFIGS.items():
            times, jobs = [], 0
            for _ in range(args.rounds):
                start = time.perf_counter()
                res = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--quiet",
                                      "rules", *extra], cwd=tmp, capture_output=True,
                                     text=True, check=True)
                times.append(time.perf_counter() - start)
                jobs = planned_jobs(res.stdout)
            print(f"{label:<10}{jobs:>8}  " + "  ".join(f"{t:>14.1f}" for t in times))


if __name__ == "__main__":
    main()
