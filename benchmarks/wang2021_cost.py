"""Cost of the Wang 2021 paper grid, and batched (fold-vectorised) vs one-fit-at-a-time.

Usage: python benchmarks/wang2021_cost.py [--epochs 2] [--folds 10] [--timesteps 200]

1. The paper grid (config/config.yaml merged with config/paper.yaml): jobs, fits per task
   kind and arch, epochs.
2. Measured in this run, side by side on the same data (the processed Kato/Nichols files,
   synthetic by default), thread count (1) and paper settings (batch 8 timesteps/windows,
   hidden 16 / 256): for each architecture, ``--epochs`` epochs of
   * one at a time: ``--folds`` fits trained one after another (E = 1 each), and
   * batched: the same ``--folds`` fits as one ensemble (E = ``--folds``),
   on k = 3 training worms, timed on the first ``--timesteps`` samples of each worm and
   scaled linearly to whole worms (the cost per step does not depend on T). Reported: wall
   time per fit-epoch (training steps + per-epoch validation) of each path and the speed-up
   per fit (one-at-a-time time / batched time per fit). Same code path (the workflow's
   ``run_ensemble``), same seeds; final evaluation and process start-up (~10 s for torch +
   Lightning per job) are excluded from the per-epoch numbers.
3. Projection: paper fits × 800 epochs × measured time per fit-epoch, on 8 cores (8
   single-thread batched jobs in parallel) and per GPU. No GPU was measured here: the GPU
   line assumes one fit per job at the one-at-a-time CPU step rate (these models are tiny,
   so a GPU is bound by per-step launch overhead, not FLOPs) — an assumption, not a
   measurement.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def merged_config() -> dict:
    base = yaml.safe_load((ROOT / "config/config.yaml").read_text())["wang2021"]
    paper = yaml.safe_load((ROOT / "config/paper.yaml").read_text()).get("wang2021", {})
    for key, value in paper.items():
        if isinstance(value, dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def grid_summary(cfg: dict) -> tuple[Counter, int]:
    from neurodyn.wang2021 import grid as G

    fits = G.fits(cfg)
    per = Counter((cfg["tasks"][f.task]["kind"], f.arch) for f in fits)
    return per, len(G.job_groups(cfg))


def measure(cfg: dict, data: Path, arch: str, task: str, epochs: int, folds: int,
            timesteps: int, device: str = "cpu") -> tuple[float, float]:
    """Seconds per fit-epoch on whole worms (one at a time, batched), extrapolated from the
    first ``timesteps`` samples of each training worm. Each run checkpoints every epoch into
    a fresh folder, as the workflow's jobs do."""
    import tempfile

    import torch

    from neurodyn.train.device import TrainSettings
    from neurodyn.train.runtime import quiet_lightning
    from neurodyn.wang2021 import grid as G
    from neurodyn.wang2021.run import Inputs, run_ensemble

    quiet_lightning()
    torch.set_num_threads(1)
    kind = cfg["tasks"][task]["kind"]
    run_cfg = {**cfg, "kato_worms": 5, "nichols_worms": 1,
               kind: {**cfg[kind], "epochs": epochs}}

    class Truncated(Inputs):
        """The first ``timesteps`` samples of every worm (cost scales linearly)."""

        def worms(self, which, neurons, n_states):  # noqa: ANN001, ANN202
            w = super().worms(which, neurons, n_states)
            w.n_steps = w.n_steps.clip(max=timesteps)
            return w

    inputs = Truncated(str(data / "Kato2015.nc"), str(data / "Nichols2017.nc"), run_cfg)
    full = int(Inputs.worms(inputs, "kato", ("AVAL",), None).n_steps[:3].sum())
    scale = full / (3 * min(timesteps, full // 3))
    fits = [G.Fit(task, 3, "w1-2-3", f, arch) for f in range(folds)]
    settings = TrainSettings.from_config({"device": device, "progress": False})
    with tempfile.TemporaryDirectory() as tmp:
        run_ensemble(inputs, fits[:1], {**run_cfg, kind: {**run_cfg[kind], "epochs": 1}}, 0,
                     settings, Path(tmp, "warmup"))
        t0 = time.perf_counter()
        for i, fit in enumerate(fits):
            run_ensemble(inputs, [fit], run_cfg, 0, settings, Path(tmp, f"single{i}"))
        single = (time.perf_counter() - t0) / (folds * epochs) * scale
        t0 = time.perf_counter()
        run_ensemble(inputs, fits, run_cfg, 0, settings, Path(tmp, "batched"))
        batched = (time.perf_counter() - t0) / (folds * epochs) * scale
    return single, batched


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--timesteps", type=int, default=200,
                    help="samples per training worm in the timed runs (extrapolated)")
    ap.add_argument("--data", type=Path, default=ROOT / "results/data/synthetic/processed")
    ap.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu",
                    help="train.device of the timed runs")
    args = ap.parse_args()
    cfg = merged_config()
    per, jobs = grid_summary(cfg)
    n_fits = sum(per.values())
    print(f"Paper grid: {n_fits} fits in {jobs} jobs (job mode '{cfg['job']}'); "
          f"{len(cfg['k'])} values of k, {len(cfg['folds'])} folds, "
          f"{len(cfg['tasks'])} tasks, {cfg['classify']['epochs']} epochs")
    for (kind, arch), n in sorted(per.items()):
        print(f"  {kind:10s} {arch:15s} {n:6d} fits")
    t0 = time.perf_counter()
    import lightning  # noqa: F401
    import torch  # noqa: F401
    print(f"\nimport torch + lightning in this process: {time.perf_counter() - t0:.1f} s "
          "(paid once per job)")
    print(f"\nMeasured: k=3, {args.folds} folds, {args.epochs} epochs on the first "
          f"{args.timesteps} samples per worm, 1 thread, paper batch sizes; seconds per "
          "fit-epoch, extrapolated to whole worms")
    print(f"{'task':13s} {'arch':15s} {'one-at-a-time':>14s} {'batched':>9s} {'speed-up':>9s}")
    rates = {}
    for task, arch in (("cls2", "mlp"), ("cls2", "gnn"), ("cls2", "gnn_connectome"),
                       ("traj", "gnn"), ("traj", "lstm_gnn")):
        single, batched = measure(cfg, args.data, arch, task, args.epochs, args.folds,
                                  args.timesteps, args.device)
        rates[(cfg["tasks"][task]["kind"], arch)] = (single, batched)
        print(f"{task:13s} {arch:15s} {single:14.3f} {batched:9.3f} {single / batched:8.1f}x")
        sys.stdout.flush()
    epochs = cfg["classify"]["epochs"]
    fallback = {"classify": rates[("classify", "gnn")], "trajectory": rates[("trajectory",
                                                                              "gnn")]}
    cpu = gpu = 0.0
    for (kind, arch), n in per.items():
        if arch in ("svm", "nochange"):
            continue
        single, batched = rates.get((kind, arch), fallback[kind])
        cpu += n * epochs * batched
        gpu += n * epochs * single
    print(f"\nProjected training time of the paper grid ({epochs} epochs, k=3-sized fits; "
          "larger k cost proportionally more, smaller k less):")
    print(f"  8 CPU cores, batched ensembles: {cpu / 8 / 3600:8.1f} h "
          f"({cpu / 3600:.0f} core-hours)")
    print(f"  1 GPU, one fit per job (assumed at the CPU one-at-a-time rate): "
          f"{gpu / 3600:8.1f} h ({gpu / 86400:.1f} days)")


if __name__ == "__main__":
    main()
