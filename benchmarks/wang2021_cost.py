"""Cost of the Wang 2021 grids: batched (fold-vectorised) vs one-fit-at-a-time per fit at a
tier's settings, the fast paths against their plain forms, and the projected cost of a tier.

Usage: python benchmarks/wang2021_cost.py [--tier reproduce] [--epochs 3] [--folds 10]
       [--data results/wang2021/data/real] [--whole-grid]

1. The tier's grid (config/config.yaml merged with config/<tier>.yaml; ``--whole-grid``:
   every classification task over the tier's whole k x folds grid): fits per task kind and
   arch, member-worm steps per epoch (an epoch is one Adam step per training worm).
2. Measured side by side in this run on Wang's own product (``--data``: the native-rate
   Kato file of rule wang2021_data; its real form when built, else synthetic), on whole
   worms, 1 thread, the tier's model settings: for each architecture, ``--epochs`` epochs of
   * one at a time: ``--folds`` fits trained one after another (E = 1 each), and
   * batched: the same fits as one ensemble (E = ``--folds``),
   through the workflow's own ``run_ensemble`` (same seeds). Reported: seconds per
   member-worm-epoch (one training step on one whole worm plus its share of validation) of
   each path and the ratio. Final evaluation and process start-up are excluded.
3. One GNN training step in child processes: glibc keeping freed memory
   (``train.runtime.keep_freed_memory``, the workflow's setting) vs its defaults, and the
   static mean embedding fused (``wang2021.static_embedding``) vs plain.
4. Projection: every fit's epochs (its task's) x training worms x the measured batched rate
   of its arch (SVM and no-change fits cost no epochs), in core-hours and wall hours on 2
   and 8 cores.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TIMED = (("cls2", "mlp"), ("cls2", "gnn_connectome"), ("cls2", "gnn"), ("traj", "mlp"),
         ("traj", "node_mlp"), ("traj", "gnn"), ("traj", "lstm_mlp"), ("traj", "lstm_gnn"))


def merged_config(tier: str) -> dict:
    """wang2021 of config/config.yaml with config/<tier>.yaml merged over it."""
    from neurodyn.configs import load_config

    return load_config(ROOT, f"config/{tier}.yaml")["wang2021"]


def whole_classification_grid(cfg: dict) -> dict:
    """``cfg`` with every classification task that runs at all (a non-empty or absent ``k``)
    on the tier's whole grid: its own ``k``/``folds`` lists dropped (the thesis's grid of
    k = 1..5 x every combination x 10 folds when the tier sets those)."""
    tasks = {}
    for name, spec in cfg["tasks"].items():
        runs = spec.get("k") is None or len(spec["k"]) > 0
        if spec["kind"] == "classify" and runs:
            spec = {k: v for k, v in spec.items() if k not in ("k", "folds")}
        tasks[name] = spec
    return {**cfg, "tasks": tasks}


def grid_summary(cfg: dict) -> tuple[Counter, Counter, Counter]:
    """Fits, member-worm steps per epoch and member-worm steps over the fits' epochs (each
    task's own ``epochs``), per (kind, arch)."""
    from neurodyn.wang2021 import grid as G

    fits, steps, work = Counter(), Counter(), Counter()
    for fit in G.fits(cfg):
        key = (cfg["tasks"][fit.task]["kind"], fit.arch)
        fits[key] += 1
        steps[key] += fit.k
        work[key] += fit.k * G.task_epochs(cfg, fit.task)
    return fits, steps, work


def measure(cfg: dict, data: Path, task: str, arch: str, epochs: int,
            folds: int) -> tuple[float, float]:
    """Seconds per member-worm-epoch (one at a time, batched) on whole worms, k = 1."""
    import tempfile

    from neurodyn.train.device import TrainSettings
    from neurodyn.wang2021 import grid as G
    from neurodyn.wang2021.run import Inputs, run_ensemble

    kind = cfg["tasks"][task]["kind"]
    run_cfg = {**cfg, kind: {**cfg[kind], "epochs": epochs}}
    inputs = Inputs(str(data / "Kato2015.nc"), str(data.parent / "synthetic/Nichols2017.nc"),
                    run_cfg)
    fits = [G.Fit(task, 1, "w1", f, arch) for f in range(folds)]
    settings = TrainSettings(progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        run_ensemble(inputs, fits[:1], {**run_cfg, kind: {**run_cfg[kind], "epochs": 1}}, 0,
                     settings, Path(tmp, "warmup"))
        t0 = time.perf_counter()
        for i, fit in enumerate(fits):
            run_ensemble(inputs, [fit], run_cfg, 0, settings, Path(tmp, f"single{i}"))
        single = (time.perf_counter() - t0) / (folds * epochs)
        t0 = time.perf_counter()
        run_ensemble(inputs, fits, run_cfg, 0, settings, Path(tmp, "batched"))
        batched = (time.perf_counter() - t0) / (folds * epochs)
    return single, batched


def gnn_step_ms(keep_freed: bool, members: int = 5, repeats: int = 10,
                fused: bool = True) -> float:
    """ms per GNN classifier training step on one whole worm (run in a child process);
    ``fused``: the static mean embedding's fused path (else the plain one)."""
    import torch

    from neurodyn.train.runtime import keep_freed_memory
    from neurodyn.wang2021.batched import MemberAdam, init_members
    from neurodyn.wang2021.models import Classifier

    if keep_freed:
        keep_freed_memory()
    torch.set_num_threads(1)
    model = Classifier("gnn", members, 15, 2, 2, 16)
    model.graph.fused_static_mean = fused
    init_members(model, list(range(members)))
    opt = MemberAdam(model.parameters(), torch.full((members,), 1e-3))
    x = torch.rand(3100, 15, 2).expand(members, -1, -1, -1)
    m, w = torch.ones(3100, 15), torch.ones(members, 3100)
    y = torch.randint(0, 2, (members, 3100))

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(model(x, m, w).transpose(1, 2), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    t0 = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - t0) / repeats * 1e3


def child_gnn_step(keep_freed: bool, fused: bool = True) -> float:
    res = subprocess.run([sys.executable, __file__, "--gnn-step", "on" if keep_freed else "off",
                          *(() if fused else ("--plain",))],
                         capture_output=True, text=True, check=True)
    return float(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tier", default="reproduce", help="config/<tier>.yaml over config.yaml")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--data", type=Path, default=None,
                    help="folder of Wang's Kato2015.nc (default: real if built, else synthetic)")
    ap.add_argument("--whole-grid", action="store_true",
                    help="project every classification task over the tier's whole k x folds "
                         "grid (drops the tasks' own k/folds lists)")
    ap.add_argument("--gnn-step", choices=("on", "off"), help=argparse.SUPPRESS)
    ap.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.gnn_step:
        print(gnn_step_ms(args.gnn_step == "on", fused=not args.plain))
        return
    import torch

    from neurodyn.train.runtime import keep_freed_memory, quiet_lightning

    quiet_lightning()
    keep_freed_memory()
    torch.set_num_threads(1)
    data = args.data or next(d for d in (ROOT / "results/wang2021/data/real",
                                         ROOT / "results/wang2021/data/synthetic")
                             if (d / "Kato2015.nc").exists())
    cfg = merged_config(args.tier)
    if args.whole_grid:
        cfg = whole_classification_grid(cfg)
    fits, steps, work = grid_summary(cfg)
    print(f"Tier '{args.tier}': {sum(fits.values())} fits; classifier "
          f"{cfg['classify']['epochs']} epochs unless a task sets its own (hidden "
          f"{cfg['classify']['hidden']}), "
          f"trajectory {cfg['trajectory']['epochs']} epochs (hidden "
          f"{cfg['trajectory']['hidden']}); data {data}")
    print(f"{'kind':10s} {'arch':15s} {'fits':>6s} {'member-worm steps/epoch':>24s} "
          f"{'over all epochs':>16s}")
    for (kind, arch), n in sorted(fits.items()):
        print(f"{kind:10s} {arch:15s} {n:6d} {steps[(kind, arch)]:24d} "
              f"{work[(kind, arch)]:16d}")

    print(f"\nMeasured (this run): k = 1, {args.folds} folds, {args.epochs} epochs on whole "
          "worms, 1 thread; seconds per member-worm-epoch")
    print(f"{'task':6s} {'arch':15s} {'one-at-a-time':>14s} {'batched':>9s} {'ratio':>7s}")
    rates = {}
    for task, arch in TIMED:
        if task not in cfg["tasks"] or arch not in cfg["tasks"][task]["archs"]:
            continue
        single, batched = measure(cfg, data, task, arch, args.epochs, args.folds)
        rates[(cfg["tasks"][task]["kind"], arch)] = batched
        print(f"{task:6s} {arch:15s} {single:14.4f} {batched:9.4f} {single / batched:6.2f}x")
        sys.stdout.flush()

    default, kept = child_gnn_step(False), child_gnn_step(True)
    plain = child_gnn_step(True, fused=False)
    print(f"\nGNN classifier step, 5 members, one whole worm: glibc defaults {default:.1f} ms, "
          f"freed memory kept {kept:.1f} ms ({default / kept:.2f}x); plain mean embedding "
          f"(H materialised) {plain:.1f} ms, fused {kept:.1f} ms ({plain / kept:.2f}x)")

    core_s = sum(work[key] * rates[key] for key in work if key in rates)
    missing = sorted(a for (k, a) in steps if (k, a) not in rates and a not in ("svm",
                                                                                "nochange"))
    print(f"\nProjected training of the '{args.tier}' grid at the batched rates: "
          f"{core_s / 3600:.2f} core-hours; {core_s / 2 / 3600:.2f} h on 2 cores, "
          f"{core_s / 8 / 3600:.2f} h on 8 cores"
          + (f" (not timed, left out: {', '.join(missing)})" if missing else ""))


if __name__ == "__main__":
    main()
