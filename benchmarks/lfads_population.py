"""Population-batched LFADS vs one model at a time: training throughput and peak memory.

Usage: python benchmarks/lfads_population.py [--threads 2] [--seconds 6] [--rounds 1]

One run measures, side by side, each configuration in a fresh process (``ru_maxrss`` = that
process's peak resident memory, Python and torch included):

* ``reproduce`` — the LFADS study's random-search models at its reproduce sizes: the
  ``lfads.model`` architecture and ``lfads.train.batch_size`` of ``config/config.yaml``
  overlaid with the ``lfads`` section of ``config/reproduce.yaml`` (if it has one), on the
  paper's chaotic-RNN data (``lfads.rnn.n_units`` neurons × 100 bins, the issue's reproduce
  data; ``lfads.rnn.n_bins`` of the reproduce overlay if it sets one). Modes: ``lone`` (one
  :class:`LFADS` at a time, the module the Lightning fits train) and populations of P = 1, 8,
  16 (:class:`LFADSPopulation`, :mod:`neurodyn.models.lfads_population_fit`'s step);
* the three reference shapes of ``benchmarks/lfads_throughput.py`` (mc_maze, mc_maze_large,
  rnn2019), single-model speed: ``lone`` and the population path with P = 1.

A step is a full training step (CD 0.3, dropout 0.05, all KL/L2 terms, backward, per-model
gradient clipping at 200, AdamW) with every member's own random draws, on Poisson data of the
configuration's shape. Per-model throughput = trials/s × P (model-trials per second); the
population target is ≥ 5× ``lone`` at the reproduce sizes, the single-model target ≥ 1.5× the
lfads-torch figures quoted in ``lfads_throughput.py`` (479 / 137 / 213 trials/s).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from lfads_throughput import (  # noqa: E402
    CONFIGS,
    REFERENCE,
    benchmark_hp,
    fake_batch,
    lone_step,
)

TARGET_SPEEDUP = 5.0  # population per-model throughput over one at a time (reproduce sizes)
TARGET_VS_TORCH = 1.5  # single-model throughput over the quoted lfads-torch figures
N_BINS_REPRODUCE = 100  # the reproduce data: the paper's RNN at 100 bins


def reproduce_config() -> tuple[dict, str]:
    """The reproduce sizes from the configs, and where they came from."""
    import yaml

    base = yaml.safe_load((ROOT / "config/config.yaml").read_text())["lfads"]
    over_path = ROOT / "config/reproduce.yaml"
    over = (yaml.safe_load(over_path.read_text()) or {}).get("lfads", {}) \
        if over_path.exists() else {}
    model = {**base["model"], **over.get("model", {})}
    rnn = {**base["rnn"], **over.get("rnn", {})}
    train = {**base["train"], **over.get("train", {})}
    n_bins = int(over.get("rnn", {}).get("n_bins", N_BINS_REPRODUCE))
    arch = {k: model[k] for k in ("ic_enc_dim", "ci_enc_dim", "con_dim", "co_dim", "ic_dim",
                                  "gen_dim", "fac_dim")}
    source = ("config/config.yaml lfads.model/train" + (" + config/reproduce.yaml lfads"
                                                        if over else "")
              + f", {rnn['n_units']} neurons x {n_bins} bins")
    cfg = {"shape": (n_bins, 0, int(rnn["n_units"]), int(rnn["n_units"])),
           "batch": int(train["batch_size"]), "hp": arch}
    return cfg, source


def measure(config: str, mode: str, threads: int, steps: int, seconds: float) -> dict:
    """Time at least ``steps`` training steps and ``seconds`` of one configuration and mode
    in this process (after 2 warm-up steps)."""
    import torch

    from neurodyn.models.lfads import GRAD_CLIP, LFADS
    from neurodyn.models.lfads_population import LFADSPopulation, poisson_stirling
    from neurodyn.models.lfads_population_fit import MemberAdamW, clip_member_grads, stack_noise
    from neurodyn.train.runtime import keep_freed_memory

    keep_freed_memory()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = reproduce_config()[0] if config == "reproduce" else CONFIGS[config]
    t_obs, t_fwd, n_in, n_all = cfg["shape"]
    batch = cfg["batch"]
    hp = benchmark_hp(cfg)
    data = fake_batch(cfg)
    recon = data["recon_data"]
    if mode == "lone":
        members = 1
        model = LFADS(hp)
        step = lone_step(model, data)
    else:
        members = int(mode.removeprefix("pop"))
        pop = LFADSPopulation([LFADS({**hp, "lr_init": 4e-3 * (1 + p / members)})
                               for p in range(members)])
        params = dict(pop.named_parameters())
        popt = MemberAdamW(params, members)
        stacked = {k: v[None].expand(members, *v.shape).contiguous() for k, v in data.items()}
        stacked["stirling"] = poisson_stirling(stacked["recon_data"])
        gens = [torch.Generator().manual_seed(p) for p in range(members)]
        lr, decay = pop.hp_tensor("lr_init", recon), torch.zeros(members)

        def step() -> None:
            noise = stack_noise(pop, batch, gens, recon, training=True, sample=True, cd=True,
                                kl=True)
            loss, metrics = pop.shared_step(stacked, "train", noise, [0] * members)
            for p in params.values():
                p.grad = None
            loss.backward()
            clip_member_grads(list(params.values()), GRAD_CLIP)
            popt.step(params, lr, decay)
            {k: v.tolist() for k, v in metrics.items()}  # the per-epoch bookkeeping's read

    for _ in range(2):
        step()
    start = time.perf_counter()
    done = 0
    while done < steps or time.perf_counter() - start < seconds:
        step()
        done += 1
    elapsed = time.perf_counter() - start
    return {"config": config, "mode": mode, "members": members, "batch": batch,
            "shape": f"{t_obs}+{t_fwd} bins, {n_in}/{n_all} neurons",
            "steps": done, "trials_per_s_per_model": done * batch / elapsed,
            "model_trials_per_s": done * batch * members / elapsed,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}


def run_one(config: str, mode: str, args: argparse.Namespace) -> dict:
    rows = []
    for _ in range(args.rounds):
        out = subprocess.run([sys.executable, __file__, "--one", f"{config}:{mode}",
                              "--threads", str(args.threads), "--steps", str(args.steps),
                              "--seconds", str(args.seconds)],
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = dict(rows[0])
    for key in ("trials_per_s_per_model", "model_trials_per_s", "peak_rss_gb"):
        best[key] = statistics.median(r[key] for r in rows)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3, help="at least this many timed steps")
    parser.add_argument("--seconds", type=float, default=6.0,
                        help="and at least this many seconds of timed steps")
    parser.add_argument("--rounds", type=int, default=1, help="fresh processes per cell "
                        "(median reported)")
    parser.add_argument("--populations", default="8,16")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        config, mode = args.one.split(":")
        print(json.dumps(measure(config, mode, args.threads, args.steps, args.seconds)))
        return
    _, source = reproduce_config()
    pops = [f"pop{p}" for p in args.populations.split(",")]
    print(f"threads: {args.threads}, timed: >= {args.steps} steps and >= {args.seconds:g} s "
          f"per cell, rounds: {args.rounds}; "
          f"reproduce sizes: {source}")
    rows = [run_one("reproduce", mode, args) for mode in ["lone", "pop1", *pops]]
    lone = rows[0]["model_trials_per_s"]
    head = ("config", "mode", "shape", "batch", "trials/s per model", "model-trials/s",
            "vs lone", "peak RSS (GB)")
    print("\nPopulation vs one model at a time (reproduce sizes); target "
          f">= {TARGET_SPEEDUP:g}x model-trials/s vs lone")
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for r in rows:
        ratio = r["model_trials_per_s"] / lone
        print(f"| {r['config']} | {r['mode']} | {r['shape']} | {r['batch']} | "
              f"{r['trials_per_s_per_model']:.0f} | {r['model_trials_per_s']:.0f} | "
              f"{ratio:.2f}x | {r['peak_rss_gb']:.2f} |")
    for r in rows[2:]:
        ratio = r["model_trials_per_s"] / lone
        verdict = "met" if ratio >= TARGET_SPEEDUP else \
            f"MISSED by {TARGET_SPEEDUP / ratio:.2f}x"
        print(f"target {r['mode']}: {ratio:.2f}x vs {TARGET_SPEEDUP:g}x -> {verdict}")
    print("\nSingle-model speed at the reference shapes; target >= "
          f"{TARGET_VS_TORCH:g}x the quoted lfads-torch figures")
    head = ("config", "mode", "shape", "batch", "trials/s", "target trials/s", "ratio to target",
            "peak RSS (GB)")
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for name in CONFIGS:
        target = TARGET_VS_TORCH * REFERENCE[name]
        for mode in ("lone", "pop1"):
            r = run_one(name, mode, args)
            ratio = r["model_trials_per_s"] / target
            print(f"| {name} | {mode} | {r['shape']} | {r['batch']} | "
                  f"{r['model_trials_per_s']:.0f} | {target:.0f} | {ratio:.2f} "
                  f"{'(met)' if ratio >= 1 else '(missed)'} | {r['peak_rss_gb']:.2f} |")


if __name__ == "__main__":
    main()
