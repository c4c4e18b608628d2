"""Peak memory of UNet training with the video in memory vs streamed from the file.

    python benchmarks/zapbench_streaming.py [--frames 4000] [--shape 8 48 48] [--steps 5]

Writes a recording of the given size (random video, random segmentation) in the
``neurodyn-zapbench/1`` schema, streamed block by block as the real-data rule writes it,
then runs the same UNet training steps twice, each in a fresh process: with the video
loaded whole (``open_video_dataset``) and streamed (``lazy=True``: each batch's frames read
from the per-frame chunks). Prints peak RSS, frames read and steps/s of each.
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

import numpy as np


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_fixture(path: Path, frames: int, shape: tuple[int, int, int]) -> None:
    from neurodyn.zapbench.benchmark import miniature_benchmark
    from neurodyn.zapbench.dataset import to_dataset, write_video_dataset

    rng = np.random.default_rng(0)
    seg = rng.integers(0, 200, size=shape).astype(np.int32)
    seg[0, 0, 0] = 200
    bench = miniature_benchmark(frames // 5, 5, holdout=3, max_context=64, horizon=32)
    frames = bench.condition_offsets[-1]
    ds = to_dataset(None, seg, np.zeros((frames, 200), np.float32),
                    np.zeros((frames, 1), np.float32), ("onset",), bench, True, {})

    def blocks():
        for t0 in range(0, frames, 100):
            n = min(100, frames - t0)
            yield t0, {"video": rng.normal(size=(n, *shape)).astype(np.float32)}

    write_video_dataset(ds, path, blocks())


def train(path: Path, lazy: bool, steps: int, context: int) -> dict[str, float]:
    import torch

    from neurodyn.zapbench.dataset import open_video_dataset
    from neurodyn.zapbench.grid import unet_settings
    from neurodyn.zapbench.runs import VideoSource, split_starts, unet_step
    from neurodyn.zapbench.unet import UNetConfig, VideoUNet

    torch.manual_seed(0)
    data = open_video_dataset(path, lazy=lazy)
    settings = unet_settings({"features": 8, "groups": 4, "levels": 2, "blocks": 1}, {})
    src = VideoSource(data, settings, "cpu")
    model = VideoUNet(UNetConfig(context=context, features=8, groups=4, levels=2),
                      src.frame_shape)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    starts = torch.from_numpy(split_starts(data, "train", context))
    gen = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for _ in range(steps):
        s = starts[torch.randint(len(starts), (8,), generator=gen)]
        lead = torch.randint(1, 33, (8,), generator=gen)
        pred, frames, traces = unet_step(model, src, s, lead, context, 32)
        loss = src.loss(pred, frames, traces, "trace")
        opt.zero_grad()
        loss.backward()
        opt.step()
    elapsed = time.perf_counter() - t0
    read = data.video.frames_read if lazy else data.video.shape[0]
    return {"peak_rss_mb": peak_rss_mb(), "steps_per_s": steps / elapsed,
            "frames_read": float(read), "video_mb": float(np.prod(data.video.shape)) * 4 / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=4000)
    ap.add_argument("--shape", type=int, nargs=3, default=[8, 48, 48])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--context", type=int, default=4)
    ap.add_argument("--child", choices=["memory", "stream"], help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(train(Path(args.path), args.child == "stream", args.steps,
                               args.context)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recording.nc"
        write_fixture(path, args.frames, tuple(args.shape))
        print(f"recording: {args.frames} frames of {tuple(args.shape)}, "
              f"{path.stat().st_size / 2**20:.0f} MB on disk (compressed)")
        print(f"{'mode':8} {'video MB':>9} {'peak RSS MB':>12} {'frames read':>12} "
              f"{'steps/s':>8}")
        for mode in ("memory", "stream"):
            out = subprocess.run([sys.executable, __file__, "--child", mode, "--path",
                                  str(path), "--steps", str(args.steps), "--context",
                                  str(args.context)], capture_output=True, text=True,
                                 check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{mode:8} {r['video_mb']:9.0f} {r['peak_rss_mb']:12.0f} "
                  f"{r['frames_read']:12.0f} {r['steps_per_s']:8.2f}")


if __name__ == "__main__":
    main()
