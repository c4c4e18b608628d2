"""Workflow steps of the ZAPBench study (called by the thin scripts in workflow/scripts)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from neurodyn.errors import InputError
from neurodyn.io.atomic import write_json
from neurodyn.zapbench.benchmark import Benchmark, miniature_benchmark
from neurodyn.zapbench.dataset import to_dataset, write_video_dataset
from neurodyn.zapbench.grid import unet_settings
from neurodyn.zapbench.synthetic import COVARIATES, GeneratorConfig, generate, segment_means


def check_windows(bench: Benchmark, contexts: Sequence[int], where: str) -> None:
    """Every split needs at least one window for every context (else a config error)."""
    for c in contexts:
        for split in ("train", "val", "test", "test_holdout"):
            for k in bench.conditions_of(split):
                if bench.num_windows(k, split, c) < 1:
                    raise InputError("config", where, f"condition {k} has no {split} window "
                                     f"of C={c} + H={bench.horizon} frames; make the "
                                     "conditions longer or the contexts shorter")


def _flat(prov: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in prov.items() if k != "config_json"}


def write_recording(z: Mapping[str, Any], specimen: int, seed: int, out: str | Path,
                    prov: Mapping[str, Any], contexts: Sequence[int]) -> None:
    """Specimen 0 is the benchmark recording; 1..K are extra synthetic specimens.

    ``contexts``: every context the run trains (each split needs a window for each).
    """
    b = z["benchmark"]
    if z["source"] == "real" and specimen == 0:
        from neurodyn.zapbench.real import Crop, read_crop, real_benchmark

        r = z["real"]
        crop = read_crop(r["base"], int(r["scale"]), Crop(**{k: tuple(v) for k, v in
                                                               r["crop"].items()}),
                         r.get("n_frames"))
        bench = real_benchmark(crop.video.shape[0])
        check_windows(bench, contexts, "zapbench.real")
        traces = (crop.traces if r["trace_source"] == "published"
                  else segment_means(crop.video, crop.segmentation, len(crop.neuron_ids)))
        ds = to_dataset(crop.video, crop.segmentation, traces, crop.covariates,
                        tuple(f"feature{i}" for i in range(crop.covariates.shape[1])), bench,
                        synthetic=False, attrs={**_flat(prov), "source": r["base"],
                                                "neuron_ids": crop.neuron_ids.tolist(),
                                                "scale": int(r["scale"])})
        write_video_dataset(ds, out)
        return
    cfg = GeneratorConfig.from_dict(dict(z["data"]["generator"]))
    bench = miniature_benchmark(cfg.condition_length, len(cfg.conditions),
                                int(z["data"]["holdout_condition"]), int(b["max_context"]),
                                int(b["horizon"]))
    check_windows(bench, contexts, "zapbench.data.generator.condition_length")
    spec_seed = int(seed) * 1000 + int(z["data"]["seed"]) * 100 + int(specimen)
    sp = generate(cfg, spec_seed)
    ds = to_dataset(sp.video, sp.segmentation, sp.traces, sp.covariates, COVARIATES, bench,
                    synthetic=True, attrs={**_flat(prov), "specimen": int(specimen),
                                           "generator_seed": spec_seed,
                                           "generator": json.dumps(z["data"]["generator"],
                                                                   sort_keys=True)})
    write_video_dataset(ds, out)


def fit_key(z: Mapping[str, Any], kind: str, run: Mapping[str, Any]) -> dict[str, Any]:
    """Everything a fit's result depends on (its cache key in the work folder)."""
    common = {"data": z["data"], "benchmark": z["benchmark"], "source": z["source"],
              "real": z.get("real")}
    if kind == "trace":
        t = z["trace"]
        return {**common, "hyper": t["hyper"], "train": t["train"]}
    u = z["unet"]
    return {**common, "model": u["model"], "train": u["train"], "val_pairs": u["val_pairs"],
            "eval_batch": u["eval_batch"], "pretrain_steps": u["pretrain_steps"],
            "variant": u["variants"][run["variant"]]}


def fit_chunk(kind: str, runs: Sequence[Mapping[str, Any]], z: Mapping[str, Any],
              main: str, extras: Sequence[str], workdir: Path, gpus: int, out: str,
              prov: Mapping[str, Any]) -> None:
    """Run the chunk's fits (resuming finished ones) and write their records."""
    from neurodyn.train.runtime import accelerator
    from neurodyn.zapbench.dataset import open_video_dataset
    from neurodyn.zapbench.runs import run_chunk, run_trace, run_unet

    device = "cuda" if accelerator(int(gpus)) == "gpu" else "cpu"
    data = open_video_dataset(main)
    long_context = int(z["benchmark"]["long_context"])
    if kind == "trace":
        def execute(run: dict[str, Any], ckpt: Path) -> dict[str, Any]:
            return run_trace(data, run["model"], run["context"], run["seed"],
                             run["context"] >= long_context, z["trace"], ckpt / "fit.pt")
    else:
        extra_data = [open_video_dataset(p) for p in extras]

        def execute(run: dict[str, Any], ckpt: Path) -> dict[str, Any]:
            settings = unet_settings(z["unet"]["model"], z["unet"]["variants"][run["variant"]])
            return run_unet(data, extra_data, run["variant"], settings, run["context"],
                            run["seed"], z["unet"], ckpt, device=device)
    recording = {"generator_seed": data.attrs.get("generator_seed")}  # follows config seed
    records = run_chunk([{**run, "key": {**fit_key(z, kind, run), **recording}}
                         for run in runs],
                        lambda run, ckpt: execute({k: v for k, v in run.items() if k != "key"},
                                                  ckpt), workdir)
    write_json(out, [{**r, "provenance": _flat(prov)} for r in records])
