"""One training job of the study: a chunk of fits through the shared fit runner.

Each fit is keyed by its spec (model or variant, context, seed), the config values it reads
(``fit_config``), the digest of the code it runs and the content of the recordings it reads;
a finished fit with the same key is reused, anything else retrains (resuming from its last
checkpoint when a job was killed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from neurodyn.io.atomic import write_json
from neurodyn.train.device import TrainSettings
from neurodyn.train.runner import FitRunner, PlannedFit
from neurodyn.zapbench.grid import finetune_lrs, unet_settings


def fit_id(run: Mapping[str, Any]) -> str:
    """Folder name of a fit: ``tide_c64_s0``, ``unet-base_c4_s1``."""
    name = f"unet-{run['variant']}" if run["model"] == "unet" else str(run["model"])
    return f"{name}_c{int(run['context'])}_s{int(run['seed'])}"


def fit_config(z: Mapping[str, Any], kind: str, settings: TrainSettings) -> dict[str, Any]:
    """The config values every fit of ``kind`` depends on (a fit's own settings are in its
    spec; its recordings enter the key by content)."""
    common = {"precision": settings.effective_precision}
    if kind == "trace":
        t = z["trace"]
        return {**common, "long_context": int(z["benchmark"]["long_context"]),
                "hyper": t["hyper"], "train": t["train"]}
    u = z["unet"]
    return {**common, "train": u["train"], "val_pairs": u["val_pairs"],
            "eval_batch": u["eval_batch"]}


def fit_spec(z: Mapping[str, Any], kind: str, run: Mapping[str, Any]) -> dict[str, Any]:
    """A fit's spec: the grid entry, plus a UNet variant's resolved settings (and the
    pre-training length when it pre-trains)."""
    if kind == "trace":
        return dict(run)
    u = z["unet"]
    variant = unet_settings(u["model"], u["variants"][run["variant"]])
    spec = {**run, "settings": variant}
    if int(variant["pretrain_specimens"]):
        spec["pretrain_steps"] = int(u["pretrain_steps"])
        spec["pretrain_loss"] = str(u.get("pretrain_loss", "voxel"))
        spec["finetune_lrs"] = finetune_lrs(u)
    return spec


def fit_chunk(kind: str, runs: Sequence[Mapping[str, Any]], z: Mapping[str, Any],
              main: str, extras: Sequence[str], workdir: Path, settings: TrainSettings,
              code: str, out: str, prov: Mapping[str, Any]) -> None:
    """Train and evaluate the chunk's fits (reusing finished ones); write their records."""
    from neurodyn.zapbench.dataset import open_video_dataset
    from neurodyn.zapbench.runs import run_trace, run_unet

    # trace models never read the video; the UNet streams it when configured (and always
    # on real data), reading only the frames of each batch
    stream = kind == "unet" and (bool(z["unet"].get("stream", False))
                                 or z["source"] == "real")
    data = open_video_dataset(main, lazy=kind == "trace" or stream)
    extra_data: dict[int, Any] = {}
    long_context = int(z["benchmark"]["long_context"])

    def train_one(fit: PlannedFit) -> dict[str, Any]:
        spec = fit.spec
        if kind == "trace":
            return run_trace(data, spec["model"], spec["context"], spec["seed"],
                             spec["context"] >= long_context, z["trace"], settings=settings,
                             workdir=fit.dir, label=fit.fit_id)
        n = int(spec["settings"]["pretrain_specimens"])
        for i in range(n):
            if i not in extra_data:
                extra_data[i] = open_video_dataset(extras[i], lazy=stream)
        return run_unet(data, [extra_data[i] for i in range(n)], spec["variant"],
                        spec["settings"], spec["context"], spec["seed"], z["unet"],
                        train=settings, workdir=fit.dir, label=fit.fit_id)

    specs = [fit_spec(z, kind, run) for run in runs]
    config = fit_config(z, kind, settings)
    # one runner per set of recordings read (pre-training variants also read extra specimens)
    groups: dict[int, list[int]] = {}
    for i, spec in enumerate(specs):
        groups.setdefault(int(spec.get("settings", {}).get("pretrain_specimens", 0)),
                          []).append(i)
    records: list[dict[str, Any]] = [{} for _ in specs]
    for n, members in groups.items():
        if n > len(extras):
            raise ValueError(f"config zapbench.unet: a variant pre-trains on {n} specimens, "
                             f"only {len(extras)} generated (zapbench.data.extra_specimens)")
        inputs = {"main": main, **{f"extra{i + 1}": extras[i] for i in range(n)}}
        runner = FitRunner(workdir, config=config, code=code, inputs=inputs,
                           label=f"zapbench {kind}")
        done = runner.run([(fit_id(specs[i]), specs[i]) for i in members], train_one)
        for i, record in zip(members, done, strict=True):
            records[i] = record
    flat = {k: v for k, v in prov.items() if k != "config_json"}
    write_json(out, [{**r, "provenance": flat} for r in records])
