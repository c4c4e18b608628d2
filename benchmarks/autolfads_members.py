"""AutoLFADS member training: one member at a time (the shared trainer) vs one population.

Usage: python benchmarks/autolfads_members.py [--tier reproduce|default] [--members 8]
       [--epochs 4] [--threads 1]

A generation-0 chunk of ``--members`` PBT members (HPs drawn from the tier's search space,
the tier's ``autolfads.model``, ``batch_size`` and synthetic reaching data) trained for
``--epochs`` epochs, each mode in a fresh process with ``--threads`` torch threads: ``lone``
(:func:`neurodyn.autolfads.member.train_member` per member, what the GPU and Ray paths run)
and ``population`` (:func:`neurodyn.autolfads.member_population.train_population`, what a CPU
job runs). Prints wall time, member-epochs per second, the ratio to ``lone`` and the peak RSS
of each process (``ru_maxrss``: Python and torch included), plus the largest difference in
the members' final selection metric between the modes (same seeds, so it should be float
noise).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def measure(tier: str, mode: str, members: int, epochs: int, threads: int) -> dict:
    import numpy as np
    import torch

    from neurodyn.autolfads.data import nlb_split, synthetic_reaching
    from neurodyn.autolfads.member import MemberTask, train_member
    from neurodyn.autolfads.member_population import train_population
    from neurodyn.autolfads.space import search_space
    from neurodyn.configs import load_config
    from neurodyn.train.device import TrainSettings
    from neurodyn.train.runtime import quiet_lightning

    quiet_lightning()
    torch.set_num_threads(threads)
    overlays = ["config/reproduce.yaml"] if tier == "reproduce" else []
    cfg = load_config(ROOT, *overlays)["autolfads"]
    split = nlb_split(synthetic_reaching(cfg["synthetic"], 0), "bench", cfg["eval"])
    space = search_space(cfg["search_space"], split.elements_per_trial)
    rng = np.random.default_rng(0)
    tasks = [MemberTask(m, 0, space.sample(rng, use_init=False), seed=100 + m,
                        target_epochs=epochs) for m in range(members)]
    settings = TrainSettings(device="cpu", progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        if mode == "lone":
            results = [train_member(t, split.train, split.valid, cfg["model"],
                                    cfg["batch_size"], cfg["metric"], Path(tmp) / t.fit_id,
                                    settings=settings) for t in tasks]
        else:
            results = train_population(tasks, split.train, split.valid, cfg["model"],
                                       cfg["batch_size"], cfg["metric"],
                                       [Path(tmp) / t.fit_id for t in tasks], progress=False)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "scores": [r.score for r in results],
            "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
            "trials": int(split.train["encod_data"].shape[0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", choices=["reproduce", "default"], default="reproduce")
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--child", choices=["lone", "population"])
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.tier, args.child, args.members, args.epochs,
                                 args.threads)))
        return
    rows = {}
    for mode in ("lone", "population"):
        out = subprocess.run([sys.executable, __file__, "--tier", args.tier, "--members",
                              str(args.members), "--epochs", str(args.epochs), "--threads",
                              str(args.threads), "--child", mode],
                             check=True, capture_output=True, text=True, cwd=ROOT)
        rows[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    base = rows["lone"]["seconds"]
    print(f"{args.tier} tier, {args.members} members x {args.epochs} epochs, "
          f"{rows['lone']['trials']} training trials, {args.threads} thread(s)\n")
    print("| mode | wall (s) | member-epochs/s | vs lone | peak RSS (GB) |")
    print("|---|---|---|---|---|")
    for mode, row in rows.items():
        rate = args.members * args.epochs / row["seconds"]
        print(f"| {mode} | {row['seconds']:.1f} | {rate:.2f} | {base / row['seconds']:.2f}x "
              f"| {row['rss_gb']:.2f} |")
    diffs = [abs(a - b) / abs(b) for a, b in zip(rows["population"]["scores"],
                                                 rows["lone"]["scores"], strict=True)]
    print(f"\nlargest relative difference of a member's final selection metric: "
          f"{max(diffs):.1e}")


if __name__ == "__main__":
    main()
