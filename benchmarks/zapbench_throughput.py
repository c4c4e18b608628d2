"""UNet training throughput at the miniature size, and a projection of the real s2 cost.

    python benchmarks/zapbench_throughput.py [--steps 20] [--threads 2]

Measures samples/s and peak memory of full training steps (forward, MAE on segmented voxels,
backward, AdamW) for the miniature UNet, side by side with torch's own convolution backward
and with the weight gradient taken as a convolution (``zapbench.conv.SameConv3d``, the
default; alternating runs, the faster of two each), then the same step with the whole UNet
under ``torch.compile`` (not used by the fits; its compile time printed), the evaluation
forward per sample by batch size (``no_grad`` vs ``inference_mode``), counts convolution
FLOPs per sample with forward hooks, and projects the cost of one step on the real ZAPBench
s2 crop (72 × 512 × 288 voxels, spec §5.2) from the FLOP ratio (FLOPs scale with the voxel
count at every level). Prints a table; measured numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from neurodyn.zapbench.conv import SameConv3d
from neurodyn.zapbench.unet import UNetConfig, VideoUNet, count_parameters

REAL_S2 = (72, 512, 288)  # z, x, y after the centre crop at s2
MINIATURE = (4, 24, 24)  # paper-scale miniature
DEFAULT_GRID = (4, 16, 16)  # the default and reproduce tiers' miniature


def conv_flops(model: torch.nn.Module, x: torch.Tensor, lead: torch.Tensor) -> float:
    """Multiply-add FLOPs (×2) of every Conv3d in one forward pass of one sample."""
    total = [0.0]

    def hook(mod: torch.nn.Conv3d, inp: tuple[torch.Tensor], out: torch.Tensor) -> None:
        k = mod.kernel_size[0] * mod.kernel_size[1] * mod.kernel_size[2]
        total[0] += 2.0 * k * mod.in_channels * mod.out_channels * out[0].numel() \
            / mod.out_channels

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, torch.nn.Conv3d)]
    with torch.no_grad():
        model(x[:1], lead[:1])
    for h in handles:
        h.remove()
    return total[0]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(cfg: UNetConfig, shape: tuple[int, int, int], batch: int, steps: int,
            device: str, weight_grad_as_conv: bool = True,
            compiled: bool = False) -> dict[str, float]:
    SameConv3d.weight_grad_as_conv = weight_grad_as_conv
    torch.manual_seed(0)
    model = VideoUNet(cfg, shape).to(device)
    forward = torch.compile(model) if compiled else model
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-5, fused=True)  # as fit.py
    x = torch.randn(batch, cfg.context, *shape, device=device)
    y = torch.randn(batch, 1, *shape, device=device)
    mask = (torch.rand(shape, device=device) < 0.25).float()
    lead = torch.randint(1, 33, (batch,), device=device).float()
    flops = conv_flops(model, x, lead)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    warm = time.perf_counter()
    for i in range(steps + 2):  # two warm-up steps (and the compilation)
        if i == 2:
            warmup_s = time.perf_counter() - warm
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        loss = ((forward(x, lead) - y).abs() * mask).sum() / (mask.sum() * batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    peak = (torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else peak_rss_mb())
    return {"params": count_parameters(model), "s_per_step": elapsed / steps,
            "samples_per_s": batch * steps / elapsed, "peak_mb": peak,
            "fwd_gflops_per_sample": flops / 1e9, "warmup_s": warmup_s}


def forward_ms(cfg: UNetConfig, shape: tuple[int, int, int], batch: int, mode: str,
               seconds: float = 2.0) -> float:
    """ms per sample of evaluation forwards (as the test metrics run them) under ``mode``
    (``no_grad``, the fits' setting, or ``inference_mode``)."""
    torch.manual_seed(0)
    model = VideoUNet(cfg, shape).eval()
    x = torch.randn(batch, cfg.context, *shape)
    lead = torch.randint(1, 33, (batch,)).float()
    with torch.no_grad() if mode == "no_grad" else torch.inference_mode():
        model(x, lead)
        t0, samples = time.perf_counter(), 0
        while time.perf_counter() - t0 < seconds:
            model(x, lead)
            samples += batch
        return (time.perf_counter() - t0) / samples * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    rows = []
    for label, cfg, shape in (
            ("miniature UNet (F=16, 2 levels)", UNetConfig(context=4), DEFAULT_GRID),
            ("miniature UNet, C=64", UNetConfig(context=64), DEFAULT_GRID),
            ("miniature UNet (F=16, 2 levels)", UNetConfig(context=4), MINIATURE),
            ("miniature UNet, C=64", UNetConfig(context=64), MINIATURE),
            ("miniature UNet, no pooling", UNetConfig(context=4, levels=0), MINIATURE)):
        runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
        for as_conv in (False, True, False, True):
            runs[as_conv].append(measure(cfg, shape, args.batch, args.steps, device, as_conv))
        torch_bw, conv_bw = (min(runs[k], key=lambda r: r["s_per_step"]) for k in (False, True))
        rows.append((label, cfg, shape, conv_bw, torch_bw))
    print(f"device: {device}, threads: {args.threads}, batch: {args.batch}\n")
    print("| model | grid z×x×y | params | s/step torch backward | s/step weight grad as conv "
          "| speed-up | samples/s | peak MB | fwd GFLOP/sample |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, _, shape, r, t in rows:
        print(f"| {label} | {'×'.join(map(str, shape))} | {r['params']:,} | "
              f"{t['s_per_step']:.3f} | {r['s_per_step']:.3f} | "
              f"{t['s_per_step'] / r['s_per_step']:.2f}× | {r['samples_per_s']:.1f} | "
              f"{r['peak_mb']:.0f} | {r['fwd_gflops_per_sample']:.3f} |")
    # a lever not used by the fits yet: torch.compile of the whole UNet (same process, after
    # the eager runs above; the warm-up column includes the compilation)
    print("\ntorch.compile of the whole UNet (weight gradient as conv in both columns):")
    print("| model | grid z×x×y | s/step eager | s/step compiled | speed-up | "
          "compile + 2 warm-up steps s |")
    print("|---|---|---|---|---|---|")
    for label, cfg, shape, r, _ in rows[:2]:
        c = measure(cfg, shape, args.batch, args.steps, device, True, compiled=True)
        print(f"| {label} | {'×'.join(map(str, shape))} | {r['s_per_step']:.3f} | "
              f"{c['s_per_step']:.3f} | {r['s_per_step'] / c['s_per_step']:.2f}× | "
              f"{c['warmup_s']:.1f} |")
    # evaluation (the test metrics: every window x lead time): forward cost per sample
    print("\nEvaluation forward, ms per sample (no_grad as the fits / inference_mode):")
    print("| model | grid z×x×y | batch 8 | batch 64 | batch 256 |")
    print("|---|---|---|---|---|")
    for label, cfg, shape, _, _ in rows[:2]:
        cells = [f"{forward_ms(cfg, shape, b, 'no_grad'):.2f} / "
                 f"{forward_ms(cfg, shape, b, 'inference_mode'):.2f}" for b in (8, 64, 256)]
        print(f"| {label} | {'×'.join(map(str, shape))} | {' | '.join(cells)} |")
    # projection: FLOPs per voxel of the same architecture, times the real voxel count;
    # training ≈ 3 × forward FLOPs; time from this machine's measured FLOP rate.
    base = rows[2][3]  # the paper-scale miniature, weight gradient as a convolution
    rate = 3 * base["fwd_gflops_per_sample"] * base["samples_per_s"]  # GFLOP/s achieved
    voxels = REAL_S2[0] * REAL_S2[1] * REAL_S2[2]
    mini_vox = MINIATURE[0] * MINIATURE[1] * MINIATURE[2]
    print("\nProjection to the real s2 crop (72 × 512 × 288 voxels, batch 1, 250 000 steps):")
    print("| model | fwd TFLOP/sample | s/step here | days for 250k steps here | "
          "activation GB (fp32, est.) |")
    print("|---|---|---|---|---|")
    for label, features in (("same architecture (F=16)", 16), ("released width F=128", 128)):
        fwd = base["fwd_gflops_per_sample"] * voxels / mini_vox * (features / 16) ** 2 / 1e3
        step_s = 3 * fwd * 1e3 / rate
        # ~ 12 stored activations of F channels per block at full resolution (rough)
        act_gb = 12 * features * voxels * 4 * 2 / 2**30
        print(f"| {label} | {fwd:.2f} | {step_s:.1f} | {step_s * 250_000 / 86400:.0f} | "
              f"{act_gb:.0f} |")
    print(f"\nAchieved rate on this machine: {rate:.1f} GFLOP/s (training, 3× forward FLOPs).")


if __name__ == "__main__":
    main()
