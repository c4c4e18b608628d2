"""Time and memory of generating + preprocessing the paper-scale synthetic data (284 worms).

Usage: python benchmarks/preprocess_paper_scale.py [--config config/paper.yaml]
Prints one row per dataset and a total: worms, generation and preprocessing wall time,
and the peak of traced (numpy/Python) memory during each step.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from neurodyn.data.celegans.preprocess import PreprocessParams, preprocess_dataset
from neurodyn.data.celegans.synthetic import synthetic_dataset

REPO = Path(__file__).resolve().parents[1]


def measured(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``fn``; return its result, wall seconds and traced peak memory in MB."""
    tracemalloc.start()
    start = time.perf_counter()
    out = fn()
    wall = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=str(REPO / "config" / "paper.yaml"))
    args = parser.parse_args()
    base = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    worms = yaml.safe_load(Path(args.config).read_text())["data"]["synthetic"]["worms"]
    params = PreprocessParams(**base["data"]["preprocess"])
    print(f"{'dataset':<12} {'worms':>5} {'generate s':>10} {'gen peak MB':>11} "
          f"{'preprocess s':>12} {'prep peak MB':>12}")
    totals = [0, 0.0, 0.0, 0.0, 0.0]
    for dataset, n in worms.items():
        raw, t_gen, m_gen = measured(lambda d=dataset, k=n: synthetic_dataset(d, k, seed=0))
        _, t_pre, m_pre = measured(lambda r=raw: preprocess_dataset(r, params))
        print(f"{dataset:<12} {n:>5} {t_gen:>10.2f} {m_gen:>11.0f} {t_pre:>12.2f} "
              f"{m_pre:>12.0f}")
        totals = [totals[0] + n, totals[1] + t_gen, max(totals[2], m_gen), totals[3] + t_pre,
                  max(totals[4], m_pre)]
    print(f"{'total':<12} {totals[0]:>5} {totals[1]:>10.2f} {totals[2]:>11.0f} "
          f"{totals[3]:>12.2f} {totals[4]:>12.0f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS: {rss:.0f} MB (preprocessing runs one dataset per job in the "
          "workflow; peaks above are per dataset)")


if __name__ == "__main__":
    main()
