"""LFADS training throughput (trials/s) and peak memory at the spec's MC_Maze model sizes.

Usage: python benchmarks/lfads_throughput.py [--threads 2] [--steps 8] [--configs mc_maze]

Configurations (spec §1.11 and its "Performance reference" table, the same shapes and
batch sizes as the lfads-torch measurements there):

* ``mc_maze`` — ``nlb_mc_maze``: 20 ms bins, 35 observed + 10 forward bins, 137 held-in /
  182 total neurons, IC/CI encoders and controller 64, CO 4, IC 64, generator 200, factors
  100, batch 256;
* ``mc_maze_large`` — 5 ms bins, 140 + 40 bins, 122 / 162 neurons, encoders 100/80,
  controller 80, CO 4, IC 100, generator 100, factors 40, batch 256;
* ``rnn2019`` — the 2019 synthetic RNN data (50 neurons x 100 bins) with lfadslite sizes
  (generator 200, 128-unit encoders/controller, CO 1, IC 64, factors 50), batch 128.

A training step is the full ``LFADS.training_step`` (CD 0.3, dropout, all KL/L2 terms), then
backward, gradient clipping at 200 and AdamW — what the Lightning trainer runs, without its
per-step bookkeeping. Each configuration runs in a fresh process with ``--threads`` torch
threads on Poisson data of its shape; 2 warm-up steps, then ``--steps`` timed steps. Peak
memory = the process's maximum resident set size (``ru_maxrss``), including Python and torch.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

CONFIGS = {
    "mc_maze": dict(shape=(35, 10, 137, 182), batch=256,
                    hp=dict(ic_enc_dim=64, ci_enc_dim=64, con_dim=64, co_dim=4, ic_dim=64,
                            gen_dim=200, fac_dim=100)),
    "mc_maze_large": dict(shape=(140, 40, 122, 162), batch=256,
                          hp=dict(ic_enc_dim=100, ci_enc_dim=80, con_dim=80, co_dim=4,
                                  ic_dim=100, gen_dim=100, fac_dim=40)),
    "rnn2019": dict(shape=(100, 0, 50, 50), batch=128,
                    hp=dict(ic_enc_dim=128, ci_enc_dim=128, con_dim=128, co_dim=1, ic_dim=64,
                            gen_dim=200, fac_dim=50)),
}
REFERENCE = {"mc_maze": 319, "mc_maze_large": 91, "rnn2019": 142}  # lfads-torch, spec table


def benchmark_hp(cfg: dict) -> dict:
    """LFADS hyperparameters of one benchmark configuration (fixed regularisers)."""
    t_obs, t_fwd, n_in, n_all = cfg["shape"]
    return dict(encod_data_dim=n_in, recon_data_dim=n_all, encod_seq_len=t_obs,
                recon_seq_len=t_obs + t_fwd, dropout_rate=0.05, cd_rate=0.3,
                kl_ic_scale=1e-4, kl_co_scale=1e-4, l2_gen_scale=1e-4, l2_con_scale=1e-4,
                **cfg["hp"])


def fake_batch(cfg: dict) -> dict:
    """One batch of Poisson counts in the LFADS batch layout."""
    import torch

    t_obs, t_fwd, n_in, n_all = cfg["shape"]
    recon = torch.poisson(torch.full((cfg["batch"], t_obs + t_fwd, n_all), 0.3))
    return {"encod_data": recon[:, :t_obs, :n_in].clone(), "recon_data": recon,
            "sv_mask": torch.ones(cfg["batch"], t_obs, n_in, dtype=torch.bool)}


def lone_step(model, data: dict):
    """A full training step of one LFADS model (AdamW, clipping) as a closure."""
    import torch

    from neurodyn.models.lfads import GRAD_CLIP

    opt = torch.optim.AdamW(model.parameters(), lr=4e-3)

    def step() -> None:
        loss = model.training_step(data, 0)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        opt.step()

    return step


def measure(name: str, threads: int, steps: int) -> dict:
    """Run one configuration in this process and return its numbers."""
    import torch

    from neurodyn.models.lfads import LFADS
    from neurodyn.train.runtime import keep_freed_memory

    keep_freed_memory()  # as every training job (neurodyn.workflow.train_settings)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = CONFIGS[name]
    t_obs, t_fwd, n_in, n_all = cfg["shape"]
    batch = cfg["batch"]
    model = LFADS(benchmark_hp(cfg))
    step = lone_step(model, fake_batch(cfg))

    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - start
    return {"config": name, "shape": f"{t_obs}+{t_fwd} bins, {n_in}/{n_all} neurons",
            "batch": batch, "params": sum(p.numel() for p in model.parameters()),
            "trials_per_s": steps * batch / seconds,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
            "lfads_torch_trials_per_s": REFERENCE[name]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--configs", default="mc_maze,mc_maze_large,rnn2019")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.threads, args.steps)))
        return
    rows = []
    for name in args.configs.split(","):
        out = subprocess.run([sys.executable, __file__, "--one", name, "--threads",
                              str(args.threads), "--steps", str(args.steps)],
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    head = ("config", "shape", "batch", "params", "trials/s", "lfads-torch trials/s (spec)",
            "ratio", "peak RSS (GB)")
    print(f"threads: {args.threads}, timed steps: {args.steps}")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        ratio = r["trials_per_s"] / r["lfads_torch_trials_per_s"]
        print(f"| {r['config']} | {r['shape']} | {r['batch']} | {r['params']:,} | "
              f"{r['trials_per_s']:.0f} | {r['lfads_torch_trials_per_s']} | {ratio:.2f} | "
              f"{r['peak_rss_gb']:.2f} |")


if __name__ == "__main__":
    main()
