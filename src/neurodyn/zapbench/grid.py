"""The experiment grid from config (torch-free, used by Snakemake to plan the fan-out)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neurodyn.zapbench.compute import block_counts, input_offset


def trace_runs(z: dict[str, Any]) -> list[dict[str, Any]]:
    """(model × context × seed) for the trace models."""
    t = z["trace"]
    return [{"model": m, "context": int(c), "seed": int(s)}
            for s in z["seeds"] for c in t["contexts"] for m in t["models"]]


def unet_runs(z: dict[str, Any]) -> list[dict[str, Any]]:
    """(UNet variant × context × seed); each variant lists its contexts."""
    variants = z["unet"]["variants"]
    return [{"model": "unet", "variant": v, "context": int(c), "seed": int(s)}
            for s in z["seeds"] for v in z["unet"]["run"] for c in variants[v]["contexts"]]


def contexts_used(z: dict[str, Any]) -> list[int]:
    """Every context of a trace model or a UNet variant that this run trains."""
    u = z["unet"]
    return sorted({int(c) for c in z["trace"]["contexts"]}
                  | {int(c) for v in u["run"] for c in u["variants"][v]["contexts"]})


def check(z: dict[str, Any]) -> None:
    """Config errors the schema cannot express, named by key (raised at planning time)."""
    u, b = z["unet"], z["benchmark"]
    for name in u["run"]:
        if name not in u["variants"]:
            raise ValueError(f"config zapbench.unet.run: {name!r} is not in unet.variants")
    if u["reference"] not in u["run"]:
        raise ValueError(f"config zapbench.unet.reference: {u['reference']!r} is not run")
    for name in u["run"]:
        n = int(u["variants"][name].get("pretrain_specimens", 0))
        if n > int(z["data"]["extra_specimens"]):
            raise ValueError(f"config zapbench.unet.variants.{name}.pretrain_specimens={n} "
                             f"exceeds zapbench.data.extra_specimens="
                             f"{z['data']['extra_specimens']}")
    for name, s in all_unet_settings(z).items():
        try:
            block_counts(s["blocks"], int(s["levels"]))
            if input_offset(int(s["input_downsample"])) > int(s["levels"]):
                raise ValueError(f"input_downsample={s['input_downsample']} needs levels ≥ "
                                 f"{input_offset(int(s['input_downsample']))} (constant field "
                                 "of view)")
        except ValueError as err:
            raise ValueError(f"config zapbench.unet.variants.{name}: {err}") from None
    if z.get("source") == "real":
        pre = [n for n, s in all_unet_settings(z).items() if int(s["pretrain_specimens"])]
        if pre:
            raise ValueError(f"config zapbench.unet.run: {pre} pre-train on extra specimens, "
                             "which are synthetic; with source: real remove them from run")
        if "real" not in z:
            raise ValueError("config zapbench.real: required with source: real (base, scale, "
                             "crop, trace_source)")
        if z["real"]["trace_source"] != "video":
            raise ValueError("config zapbench.real.trace_source: 'published' scores the "
                             "trace models on full-resolution published traces but the UNet "
                             "on segment means of the cropped video (not like with like); "
                             "use 'video'")
    contexts = {int(c) for c in z["trace"]["contexts"]} | {
        int(c) for name in u["run"] for c in u["variants"][name]["contexts"]}
    if max(contexts) > int(b["max_context"]):
        raise ValueError(f"config zapbench: context {max(contexts)} exceeds "
                         f"benchmark.max_context={b['max_context']}")
    for key in ("short_context", "long_context"):
        if int(b[key]) not in contexts:
            raise ValueError(f"config zapbench.benchmark.{key}={b[key]} is not a context "
                             "of any trace model or UNet variant")


def chunks(runs: list[dict[str, Any]], per_job: int) -> list[list[dict[str, Any]]]:
    """Consecutive groups of ``per_job`` fits (one process each)."""
    return [runs[i : i + per_job] for i in range(0, len(runs), per_job)]


def n_chunks(z: dict[str, Any], kind: str) -> int:
    runs = trace_runs(z) if kind == "trace" else unet_runs(z)
    return len(chunks(runs, int(z[kind]["fits_per_job"])))


def chunk(z: dict[str, Any], kind: str, index: int) -> list[dict[str, Any]]:
    runs = trace_runs(z) if kind == "trace" else unet_runs(z)
    return chunks(runs, int(z[kind]["fits_per_job"]))[index]


# The reference loss is the trace MAE (segment means of the predicted frames), as the paper
# trains every model "for a fair comparison"; ``loss: voxel`` is the ablation variant.
UNET_DEFAULTS = {"input_mask": "none", "loss": "trace", "train_split": "train",
                 "input_downsample": 1, "direct": False, "pretrain_specimens": 0,
                 "holdout": False, "dropout": 0.0}


def unet_settings(model_cfg: dict[str, Any], variant: dict[str, Any]) -> dict[str, Any]:
    """Resolved settings of a UNet variant: model defaults, then the variant's overrides."""
    settings = {**UNET_DEFAULTS, **model_cfg, **variant}
    settings.pop("contexts", None)
    return settings


def all_unet_settings(z: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: unet_settings(z["unet"]["model"], z["unet"]["variants"][name])
            for name in z["unet"]["run"]}


def finetune_lrs(ucfg: Mapping[str, Any]) -> list[float]:
    """Learning rates a pre-trained UNet is fine-tuned with (the best on validation is kept);
    the training lr alone when ``zapbench.unet.finetune_lrs`` is not set."""
    return [float(v) for v in ucfg.get("finetune_lrs") or [ucfg["train"]["lr"]]]
