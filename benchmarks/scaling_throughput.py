"""Training throughput of the scaling models at ~580K parameters: Lightning path vs plain loop.

Usage: python benchmarks/scaling_throughput.py [--steps 10] [--archs lstm,ctrnn] [--quick]

Data: random windows of the paper's shape, by default 284 worms x 32 windows = 9,088 sequences
of L = 180 steps x 302 neurons (float32 inputs and next-step targets, 2 x 2 GB), ~60 labeled
neurons per worm (its windows share the mask; unlabeled entries are 0, like ``Windows``), built
once in memory by the parent process. A full epoch at 580K parameters takes minutes on a 2-core
CPU, so throughput is measured on ``--steps`` optimizer steps of this data (batch ``--batch``)
after 2 warm-up steps, not on a whole epoch; ``2 + --steps`` must fit in one epoch so that no
validation falls in the timing.

For each architecture at the matched size (``hidden_for_params(arch, 580_000)``; ``linear`` is
fixed at 183,616) two paths are timed on the same data, seed, initial weights, thread count,
DataLoader (``shuffle=True`` with a seeded generator, ``num_workers=0``, as ``fit_next_step``)
and ``torch.use_deterministic_algorithms(True)`` (the workflow's ``deterministic=True``):

* plain: a PyTorch loop, AdamW(lr 1e-3), ``masked_mse``, zero_grad / backward / step;
* lightning: the workflow's path, the repo's ``NextStepModule`` (it logs the training loss
  each step; the naive-baseline loss only at validation) under a ``lightning.Trainer``
  configured like
  ``fit_next_step`` (its ModelCheckpoint and EarlyStopping callbacks, ``deterministic=True``, no
  logger / progress bar / summary / sanity check), stopped by ``max_steps = 2 + --steps``. A
  small validation loader (the first 256 windows) runs once, right after the last step
  (``val_check_interval = max_steps``, outside the timed window), so that ``val_loss``, which
  ReduceLROnPlateau, EarlyStopping and ModelCheckpoint monitor, exists when the run stops
  mid-epoch.

Timing (``time.perf_counter``) runs from the end of warm-up step 2 to the end of the last step,
data loading included; for Lightning the two time points are taken in an ``on_train_batch_end``
callback. sequences/s = timed sequences / seconds. ratio = lightning / plain, taken per repeat
(the two runs of a pair are adjacent in time) and then the median over repeats.

Processes: each (arch, path, repeat) runs in a fresh process, forked (multiprocessing ``fork``)
from the parent, which holds only the numpy data and has not imported torch. Every measurement
imports torch itself (and Lightning only on the Lightning path), so neither path inherits the
other's allocator caches, thread pools or imports, and the data is shared copy-on-write instead
of being re-read (reading 4 GB into a fresh ``spawn`` process costs ~12 s on the 2-core VM and
made the default run ~13 min; with ``fork`` it takes ~7.5 min).

Peak memory: once its data and model are in memory (and, on the Lightning path, the Trainer is
built) the process resets its peak resident set size (``echo 5 > /proc/self/clear_refs``, Linux
>= 4.0) and reads ``VmHWM`` from ``/proc/self/status`` right after the last timed step. "peak MB"
is that high-water mark of the whole process: the resident data (~4 GB at paper shape, mapped
into the fork's resident set), libraries (Lightning's add ~150 MB), model, optimizer state and
training activations. "+MB" is the part above the resident size just before training started:
activations, gradients, AdamW state and whatever the training path allocates per step
(Lightning's own objects on the Lightning path). If ``clear_refs`` is
not writable the high-water mark since process start is reported instead.

Paths run alternately (which goes first flips per architecture and repeat), ``--repeats`` times;
the table shows the median over repeats. Wall-clock speed on a shared VM drifts (slow periods of
several x were seen), hence the paired ratios; rerun with more ``--repeats`` if a ratio is near
the threshold. The final line says whether every ratio >= 0.8.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

ARCHS = ("linear", "feedforward", "ctrnn", "lstm", "transformer", "attention")
N_NEURONS = 302
MATCHED_PARAMS = 580_000
WARMUP = 2
VAL_WINDOWS = 256
MIN_RATIO = 0.8


# --------------------------------------------------------------------------------------------
# Data (parent process)
# --------------------------------------------------------------------------------------------

#: The benchmark data, set by the parent before it forks the measurement processes.
DATA: dict[str, np.ndarray] = {}


def make_data(worms: int, windows: int, seq_len: int, seed: int) -> dict[str, np.ndarray]:
    """x, y (n, L, 302) float32 inputs and next-step targets, mask (n, 302) float32."""
    n = worms * windows
    rng = np.random.default_rng(seed)
    x = np.empty((n, seq_len, N_NEURONS), dtype=np.float32)
    y = np.empty_like(x)
    mask = np.zeros((n, N_NEURONS), dtype=np.float32)
    for w in range(worms):  # one worm at a time: no (n, L + 1, 302) temporary
        sl = slice(w * windows, (w + 1) * windows)
        labeled = rng.choice(N_NEURONS, size=rng.binomial(N_NEURONS, 60 / N_NEURONS),
                             replace=False)
        mask[sl, labeled] = 1.0
        series = rng.standard_normal((windows, seq_len + 1, N_NEURONS), dtype=np.float32)
        series *= mask[sl][:, None, :]
        x[sl], y[sl] = series[:, :-1], series[:, 1:]
    return {"x": x, "y": y, "mask": mask}


# --------------------------------------------------------------------------------------------
# One measurement (fresh forked process)
# --------------------------------------------------------------------------------------------

def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # fall back to the high-water mark since process start


def measure(job: dict[str, Any]) -> dict[str, Any]:
    """Train ``job['arch']`` along ``job['path']`` for 2 + steps steps; time and peak memory."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from neurodyn.eval.losses import masked_mse
    from neurodyn.scaling import models as scaling

    torch.set_num_threads(job["threads"])
    torch.use_deterministic_algorithms(True)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    data = TensorDataset(*(torch.from_numpy(DATA[k]) for k in ("x", "y", "mask")))
    arch = job["arch"]
    hidden = None if arch == "linear" else scaling.hidden_for_params(arch, MATCHED_PARAMS)
    torch.manual_seed(job["seed"])
    model = scaling.build_model(arch, hidden)
    loader = DataLoader(data, batch_size=job["batch"], shuffle=True,
                        generator=torch.Generator().manual_seed(job["seed"]))
    total = WARMUP + job["steps"]
    marks: dict[str, float] = {"seqs": 0}

    def on_step_end(step: int, batch_len: int) -> None:  # step counts from 1
        if step == WARMUP:
            marks["t0"] = time.perf_counter()
        elif step > WARMUP:
            marks["seqs"] += batch_len
        if step == total:
            marks["t1"] = time.perf_counter()
            marks["peak"] = _status_mb("VmHWM")

    if job["path"] == "plain":
        base = _status_mb("VmRSS")
        _reset_peak()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        model.train()
        step, batches = 0, iter(loader)
        while step < total:
            xb, yb, mb = next(batches)
            opt.zero_grad()
            loss = masked_mse(model(xb, mb), yb, mb)
            loss.backward()
            opt.step()
            step += 1
            on_step_end(step, xb.shape[0])
    else:
        from lightning.pytorch.callbacks import Callback, EarlyStopping

        from neurodyn.scaling.next_step import NextStepModule, TrainConfig
        from neurodyn.train.device import TrainSettings
        from neurodyn.train.trainer import make_trainer

        class StepTimer(Callback):
            def __init__(self) -> None:
                self.step = 0

            def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
                self.step += 1
                on_step_end(self.step, batch[0].shape[0])

        cfg = TrainConfig(batch_size=job["batch"])
        module = NextStepModule(model, cfg)
        val = TensorDataset(*(t[:VAL_WINDOWS] for t in data.tensors))
        val_loader = DataLoader(val, batch_size=max(cfg.batch_size, 256))
        with tempfile.TemporaryDirectory() as ckpt_dir:
            trainer, _ = make_trainer(
                TrainSettings(device="cpu"), max_epochs=cfg.max_epochs, workdir=Path(ckpt_dir),
                monitor="val_loss", label=arch, max_steps=total, val_check_interval=total,
                callbacks=[EarlyStopping("val_loss", patience=cfg.patience, mode="min"),
                           StepTimer()])
            base = _status_mb("VmRSS")
            _reset_peak()
            trainer.fit(module, loader, val_loader)
        if torch.get_num_threads() != job["threads"]:
            raise RuntimeError(f"Lightning changed the thread count to {torch.get_num_threads()}")
    if "t1" not in marks:
        raise RuntimeError(f"{job['path']} stopped before step {total}")
    seconds = marks["t1"] - marks["t0"]
    return {**job, "hidden": model.hidden, "params": scaling.count_parameters(model),
            "seconds": seconds, "seq_per_s": marks["seqs"] / seconds, "peak_mb": marks["peak"],
            "delta_mb": marks["peak"] - base}


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=None,
                        help="timed optimizer steps per measurement (default 10; quick 2)")
    parser.add_argument("--archs", default=",".join(ARCHS),
                        help=f"comma-separated architectures (default {','.join(ARCHS)})")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--worms", type=int, default=284)
    parser.add_argument("--windows", type=int, default=32, help="sequences per worm")
    parser.add_argument("--seq-len", type=int, default=None, help="default 180; quick 32")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--repeats", type=int, default=None, help="default 3; quick 1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: L = 32, 2 timed steps, 1 repeat")
    args = parser.parse_args()
    args.steps = args.steps or (2 if args.quick else 10)
    args.seq_len = args.seq_len or (32 if args.quick else 180)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.archs = [a.strip() for a in args.archs.split(",") if a.strip()]
    bad = sorted(set(args.archs) - set(ARCHS))
    if bad:
        parser.error(f"unknown or untrainable architectures {bad}; choose from {ARCHS}")
    per_epoch = args.worms * args.windows // args.batch
    if WARMUP + args.steps > per_epoch:
        parser.error(f"{WARMUP} warm-up + {args.steps} steps exceed one epoch "
                     f"({per_epoch} full batches)")
    return args


def main() -> None:
    args = parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # before any child imports torch
    start = time.perf_counter()
    DATA.update(make_data(args.worms, args.windows, args.seq_len, args.seed))
    n, gb = len(DATA["x"]), (DATA["x"].nbytes + DATA["y"].nbytes) / 1e9
    print(f"data: {args.worms} worms x {args.windows} = {n} sequences x L={args.seq_len} x "
          f"{N_NEURONS} ({gb:.1f} GB x+y) in {time.perf_counter() - start:.0f} s; "
          f"{WARMUP} warm-up + {args.steps} timed steps of batch {args.batch}, "
          f"{args.threads} threads, {args.repeats} repeats", flush=True)
    results: list[dict[str, Any]] = []
    ctx = get_context("fork")
    for rep in range(args.repeats):
        for i, arch in enumerate(args.archs):
            order = ("plain", "lightning") if (rep + i) % 2 == 0 else ("lightning", "plain")
            for path in order:
                job = {"arch": arch, "path": path, "rep": rep, "batch": args.batch,
                       "steps": args.steps, "threads": args.threads, "seed": args.seed}
                with ProcessPoolExecutor(1, mp_context=ctx) as pool:
                    res = pool.submit(measure, job).result()
                results.append(res)
                print(f"  repeat {rep + 1} {arch:<11} {path:<9} {res['seq_per_s']:7.1f} "
                      f"seq/s  peak {res['peak_mb']:6.0f} MB (+{res['delta_mb']:.0f})",
                      flush=True)
    print_table(results, args.archs)


def print_table(results: list[dict[str, Any]], archs: list[str]) -> None:
    def med(arch: str, path: str, key: str) -> float:
        return statistics.median(r[key] for r in results
                                 if r["arch"] == arch and r["path"] == path)

    print(f"{'arch':<11} {'hidden':>6} {'params':>8} {'plain seq/s':>11} "
          f"{'lightning seq/s':>15} {'ratio':>6} {'plain peak MB':>13} "
          f"{'lightning peak MB':>17} {'plain +MB':>9} {'lightning +MB':>13}")
    ratios = []
    for arch in archs:
        row = next(r for r in results if r["arch"] == arch)
        plain, light = med(arch, "plain", "seq_per_s"), med(arch, "lightning", "seq_per_s")
        speed = {(r["rep"], r["path"]): r["seq_per_s"] for r in results if r["arch"] == arch}
        ratio = statistics.median(speed[rep, "lightning"] / speed[rep, "plain"]
                                  for rep, path in speed if path == "plain")
        ratios.append(ratio)
        print(f"{arch:<11} {row['hidden']:>6} {row['params']:>8} {plain:>11.1f} {light:>15.1f} "
              f"{ratio:>6.2f} {med(arch, 'plain', 'peak_mb'):>13.0f} "
              f"{med(arch, 'lightning', 'peak_mb'):>17.0f} "
              f"{med(arch, 'plain', 'delta_mb'):>9.0f} "
              f"{med(arch, 'lightning', 'delta_mb'):>13.0f}")
    print(f"all ratios >= {MIN_RATIO}: {'yes' if all(r >= MIN_RATIO for r in ratios) else 'no'}")


if __name__ == "__main__":
    main()
