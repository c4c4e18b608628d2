"""One fit = train (if the model learns) + evaluate on test and holdout, as a JSON record.

Trace models and UNet variants share the windowing (``gather``), the training (``fit``, on
the shared Lightning trainer) and the evaluation (``evaluate_predictor``). ``jobs`` runs a
chunk of them through the shared fit runner.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from neurodyn.train.device import TrainSettings
from neurodyn.zapbench.compute import receptive_field_xy, unet_cost
from neurodyn.zapbench.dataset import LazyVideo, VideoData
from neurodyn.zapbench.fit import FitConfig, FitResult, fit
from neurodyn.zapbench.grid import finetune_lrs
from neurodyn.zapbench.metrics import score_condition
from neurodyn.zapbench.trace_models import build_trace_model
from neurodyn.zapbench.unet import SegmentAverager, VideoUNet, count_parameters, unet_config

Predictor = Callable[[np.ndarray], np.ndarray]  # window starts → (W, H, N) forecasts
EVAL_SPLITS = ("test", "test_holdout")


def gather(series: Tensor, starts: Tensor, length: int, offset: int = 0) -> Tensor:
    """Stack ``series[s + offset : s + offset + length]`` for every start: (W, length, ...)."""
    idx = starts[:, None] + offset + torch.arange(length)
    return series[idx.to(series.device)]


def split_starts(data: VideoData, split: str, context: int) -> np.ndarray:
    """Window starts of ``split`` over the conditions it covers, concatenated."""
    bench = data.benchmark
    starts = np.concatenate([bench.window_starts(k, split, context)
                             for k in bench.conditions_of(split)])
    if len(starts) == 0:
        raise ValueError(f"split {split!r} has no window of {context} + {bench.horizon} "
                         "frames: the conditions are too short for this horizon")
    return starts


def evaluate_predictor(predict: Predictor, data: VideoData, context: int,
                       splits: Sequence[str] = EVAL_SPLITS) -> dict[str, dict[str, Any]]:
    """Per split and condition: per-step MAE, Corr_H, Corr_W on all stride-1 windows."""
    bench, traces = data.benchmark, torch.from_numpy(data.traces)
    out: dict[str, dict[str, Any]] = {}
    for split in splits:
        out[split] = {}
        for k in bench.conditions_of(split):
            starts = bench.window_starts(k, split, context)
            target = gather(traces, torch.from_numpy(starts), bench.horizon, context).numpy()
            out[split][bench.condition_names[k]] = score_condition(predict(starts), target)
    return out


def evoked_response(data: VideoData) -> np.ndarray:
    """Stimulus baseline (T, N): the released stimulus-evoked response when the recording
    carries one (real data), else per condition the mean response across stimulus trials.

    Trials are delimited by the covariate named ``onset``; only trials that end before the
    scored frames (the test split, or the holdout's scoring start) enter the average.
    Frames before the first onset and conditions without trials get the per-neuron mean
    of the frames before the scored part.
    """
    if data.evoked is not None:
        return data.evoked.astype(np.float32)
    if "onset" not in data.covariate_names:
        raise ValueError(f"the stimulus baseline needs the released evoked response or an "
                         f"'onset' covariate; covariates are {data.covariate_names}")
    bench, traces = data.benchmark, data.traces.astype(np.float64)
    onset = data.covariates[:, data.covariate_names.index("onset")] > 0.5
    out = np.zeros_like(traces)
    for k in range(bench.n_conditions):
        lo, hi = bench.condition_bounds(k)
        first, last = bench.condition_offsets[k], bench.condition_offsets[k + 1]
        if k in bench.holdout_conditions:
            fit_end = lo + bench.max_context
        else:
            fit_end = bench.split_range(k, "test", 0)[0]
        fallback = traces[lo:fit_end].mean(axis=0)
        out[first:last] = fallback
        onsets = np.flatnonzero(onset[first:last]) + first
        if len(onsets) == 0:
            continue
        ends = np.append(onsets[1:], last)
        used = [(a, b) for a, b in zip(onsets, ends, strict=True) if b <= fit_end]
        if not used:
            continue
        longest = max(b - a for a, b in used)
        stack = np.full((len(used), longest, traces.shape[1]), np.nan)
        for i, (a, b) in enumerate(used):
            stack[i, : b - a] = traces[a:b]
        response = np.nanmean(stack, axis=0)
        for a, b in zip(onsets, ends, strict=True):
            n = min(b - a, longest)
            out[a : a + n] = response[:n]
    return out.astype(np.float32)


def _batched(fn: Callable[[np.ndarray], Tensor], starts: np.ndarray, batch: int) -> np.ndarray:
    with torch.no_grad():
        return np.concatenate([fn(starts[i : i + batch]).cpu().numpy()
                               for i in range(0, len(starts), batch)])


def _fit_info(res: FitResult) -> dict[str, Any]:
    return {"initial_val": res.initial_val, "best_val": res.best_val,
            "best_step": res.best_step, "steps": res.steps, "stopped_early": res.stopped_early}


def run_trace(data: VideoData, name: str, context: int, seed: int, long_context: bool,
              cfg: dict[str, Any], *, settings: TrainSettings, workdir: Path | None = None,
              label: str = "") -> dict[str, Any]:
    """Train (if learnable) and evaluate one trace model; ``workdir`` holds its checkpoints."""
    torch.manual_seed(int(seed))
    horizon, device = data.benchmark.horizon, settings.device
    traces = torch.from_numpy(data.traces).to(device)
    cov = torch.from_numpy(data.covariates).to(device)
    fit_info: dict[str, Any] = {}
    if name == "stimulus":
        evoked = torch.from_numpy(evoked_response(data))

        def forecast(starts: np.ndarray) -> Tensor:
            return gather(evoked, torch.from_numpy(starts), horizon, context)
        n_params = 0
    else:
        model = build_trace_model(name, context, horizon, data.n_neurons,
                                  cov.shape[1], long_context, cfg["hyper"]).to(device)
        n_params = count_parameters(model)

        def forecast(starts: np.ndarray) -> Tensor:
            s = torch.from_numpy(starts)
            return model(gather(traces, s, context), gather(cov, s, horizon, context))

        if model.trainable:
            fcfg = FitConfig.from_dict(cfg["train"])
            train = torch.from_numpy(split_starts(data, "train", context))
            val = split_starts(data, "val", context)

            def train_loss(m: torch.nn.Module, gen: torch.Generator) -> Tensor:
                s = train[torch.randint(len(train), (fcfg.batch_size,), generator=gen)]
                pred = m(gather(traces, s, context), gather(cov, s, horizon, context))
                return (pred - gather(traces, s, horizon, context)).abs().mean()

            val_target = gather(traces, torch.from_numpy(val), horizon, context).cpu().numpy()

            def val_loss(m: torch.nn.Module) -> float:
                return float(np.abs(_batched(forecast, val, 256) - val_target).mean())

            res = fit(model, train_loss, val_loss, fcfg, seed, settings, workdir, label)
            fit_info = _fit_info(res)
        model.eval()
    metrics = evaluate_predictor(lambda s: _batched(forecast, s, 256), data, context)
    return {"kind": "trace", "model": name, "context": int(context), "seed": int(seed),
            "n_parameters": n_params, "fit": fit_info, "metrics": metrics}


class VideoSource:
    """Input frames (masked / downsampled as the variant says), targets, loss helpers.

    An in-memory video goes to the device whole; a ``LazyVideo`` (streaming) stays on disk
    and only the frames a batch needs are read, prepared and moved."""

    def __init__(self, data: VideoData, settings: dict[str, Any], device: str) -> None:
        seg = torch.from_numpy(data.segmentation).to(device)
        self.device = device
        self.mask = (seg > 0).float()
        self.masked = settings["input_mask"] == "segments"
        self.d = int(settings["input_downsample"])
        _, _, x, y = data.video.shape
        if self.d > 1 and (x % self.d or y % self.d):
            raise ValueError(f"frame size {x}x{y} is not divisible by input_downsample "
                             f"{self.d}")
        self.lazy = isinstance(data.video, LazyVideo)
        self.store = data.video if isinstance(data.video, LazyVideo) else None
        self.video: Tensor | None = None
        self.inp: Tensor | None = None
        if not isinstance(data.video, LazyVideo):
            self.video = torch.from_numpy(data.video).to(device)
            self.inp = self._prepare(self.video)
        self.traces = torch.from_numpy(data.traces).to(device)
        self.averager = SegmentAverager(seg, data.n_neurons).to(device)
        self.frame_shape = tuple(int(n) for n in data.video.shape[1:])

    def _prepare(self, frames: Tensor) -> Tensor:
        """(..., Z, X, Y) frames → model input (masked, XY-averaged by ``d``)."""
        inp = frames * self.mask if self.masked else frames
        if self.d > 1:
            *lead, z, x, y = inp.shape
            inp = inp.reshape(*lead, z, x // self.d, self.d, y // self.d, self.d).mean(
                dim=(-3, -1))
        return inp

    def frames(self, idx: Tensor) -> Tensor:
        """Target frames at integer indices ``idx``: idx.shape + (Z, X, Y)."""
        if self.store is not None:
            return torch.from_numpy(self.store.read(idx.cpu().numpy())).to(self.device)
        assert self.video is not None
        return self.video[idx.to(self.video.device)]

    def inputs(self, idx: Tensor) -> Tensor:
        """Model-input frames at integer indices ``idx``."""
        if self.store is not None:
            return self._prepare(self.frames(idx))
        assert self.inp is not None
        return self.inp[idx.to(self.inp.device)]

    def loss(self, pred: Tensor, frames: Tensor, traces: Tensor, kind: str) -> Tensor:
        """pred/frames (B, K, Z, X, Y); traces (B, K, N). MAE on voxels or on traces."""
        if kind == "trace":
            return (self.averager(pred) - traces).abs().mean()
        err = (pred - frames).abs() * self.mask
        return err.sum() / (self.mask.sum() * pred.shape[0] * pred.shape[1])


def unet_step(model: VideoUNet, src: VideoSource, s: Tensor, lead: Tensor, context: int,
              horizon: int) -> tuple[Tensor, Tensor, Tensor]:
    """Prediction, target frames and target traces for window starts ``s`` and lead times.

    Only the context frames [s, s + C) enter the model; the target of lead τ is frame
    s + C − 1 + τ (direct models: all H target frames at once).
    """
    x = src.inputs(s[:, None] + torch.arange(context))
    device = next(model.parameters()).device
    if model.cfg.direct:
        pred = model(x)
        idx = s[:, None] + context + torch.arange(horizon)
    else:
        pred = model(x, lead.float().to(device))
        idx = (s + context - 1 + lead.cpu())[:, None]
    return pred, src.frames(idx), src.traces[idx.to(src.traces.device)]


def unet_forecast(model: VideoUNet, src: VideoSource, s: Tensor, context: int,
                  horizon: int) -> Tensor:
    """Trace forecasts (W, H, N): one pass per lead time, predicted frames → segment means."""
    if model.cfg.direct:
        return src.averager(unet_step(model, src, s, s, context, horizon)[0])
    cols = [src.averager(unet_step(model, src, s, torch.full_like(s, h), context,
                                   horizon)[0])[:, 0] for h in range(1, horizon + 1)]
    return torch.stack(cols, dim=1)


def _finetune(model: torch.nn.Module, train_loss: Callable[..., Tensor],
              val_loss: Callable[[torch.nn.Module], float], fcfg: FitConfig, seed: int,
              train: TrainSettings, workdir: Path | None, label: str,
              lrs: Sequence[float]) -> dict[str, Any]:
    """Fine-tune the pre-trained ``model`` once per learning rate, each from the pre-trained
    weights, and keep (in ``model``) the one with the lowest validation loss (the paper
    chooses fine-tuning learning rates on validation). With ``select_best`` off (validation
    is trained on) only the first rate runs: nothing unseen is left to choose with."""
    start = copy.deepcopy(model.state_dict())
    lrs = list(lrs) if fcfg.select_best else list(lrs)[:1]
    best: tuple[float, float, FitResult, dict[str, Tensor]] | None = None
    tried = []
    for lr in lrs:
        model.load_state_dict(start)
        model.train()
        sub = f"finetune_lr{lr:g}" if len(lrs) > 1 else "train"
        res = fit(model, train_loss, val_loss, replace(fcfg, lr=float(lr)), seed, train,
                  workdir / sub if workdir else None, f"{label} lr {lr:g}".strip())
        tried.append({"lr": float(lr), "best_val": res.best_val, "steps": res.steps})
        if best is None or res.best_val < best[0]:
            best = (res.best_val, float(lr), res, copy.deepcopy(model.state_dict()))
    if best is None:
        raise ValueError("zapbench.unet.finetune_lrs is empty")
    model.load_state_dict(best[3])
    return {**_fit_info(best[2]), "finetune": {"lr": best[1], "tried": tried}}


def run_unet(data: VideoData, extras: Sequence[VideoData], variant: str,
             settings: dict[str, Any], context: int, seed: int, ucfg: dict[str, Any], *,
             train: TrainSettings, workdir: Path | None = None,
             label: str = "") -> dict[str, Any]:
    """Train one UNet variant (optionally pre-trained on extra specimens) and evaluate it.

    ``workdir`` holds the checkpoints of the pre-training (``pretrain/``) and the training
    (``train/``) stages."""
    torch.manual_seed(int(seed))
    device = train.device
    horizon = data.benchmark.horizon
    mcfg = unet_config(settings, context, horizon)
    main = VideoSource(data, settings, device)
    model = VideoUNet(mcfg, main.frame_shape).to(device)

    def predict_frames(src: VideoSource, s: Tensor, lead: Tensor) -> tuple[Tensor, Tensor,
                                                                             Tensor]:
        return unet_step(model, src, s, lead, context, horizon)

    def sampler(sources: list[tuple[VideoSource, Tensor]], batch: int,
                loss: str = settings["loss"]):
        def train_loss(m: torch.nn.Module, gen: torch.Generator) -> Tensor:
            src, starts = sources[int(torch.randint(len(sources), (1,), generator=gen))]
            s = starts[torch.randint(len(starts), (batch,), generator=gen)]
            lead = torch.randint(1, horizon + 1, (batch,), generator=gen).to(device)
            pred, frames, traces = predict_frames(src, s, lead)
            return src.loss(pred, frames, traces, loss)
        return train_loss

    # fixed validation pairs (window, lead), drawn once per seed
    val = torch.from_numpy(split_starts(data, "val", context))
    gen = torch.Generator().manual_seed(int(seed) + 7919)
    pick = torch.randperm(len(val), generator=gen)[: int(ucfg["val_pairs"])]
    val_s = val[pick]
    val_lead = torch.randint(1, horizon + 1, (len(val_s),), generator=gen)

    def val_loss(m: torch.nn.Module) -> float:
        total = 0.0
        for i in range(0, len(val_s), 64):
            pred, frames, traces = predict_frames(main, val_s[i : i + 64], val_lead[i : i + 64])
            total += float(main.loss(pred, frames, traces, settings["loss"])) * len(pred)
        return total / len(val_s)

    fcfg = FitConfig.from_dict(ucfg["train"])
    fit_info: dict[str, Any] = {}
    starts = torch.from_numpy(split_starts(data, settings["train_split"], context))
    if settings["train_split"] == "train_val":  # val is trained on: never select on it
        # and no plateau to detect either: a plateau schedule decays on a cosine instead
        fcfg = replace(fcfg, select_best=False, schedule="cosine" if fcfg.schedule == "plateau"
                       else fcfg.schedule)
    fit_info["selection"] = "best validation" if fcfg.select_best else "last step"
    main_loss = sampler([(main, starts)], fcfg.batch_size)
    n_extra = int(settings["pretrain_specimens"])
    if not n_extra:
        res = fit(model, main_loss, val_loss, fcfg, seed, train,
                  workdir / "train" if workdir else None, label)
        fit_info.update(_fit_info(res))
    else:
        if len(extras) < n_extra:
            raise ValueError(f"variant {variant} pre-trains on {n_extra} specimens, "
                             f"only {len(extras)} generated")
        sources = []
        for extra in extras[:n_extra]:
            src = VideoSource(extra, settings, device)
            t = extra.video.shape[0]
            sources.append((src, torch.arange(0, t - context - horizon + 1)))
        pre_settings = {**settings, "loss": ucfg.get("pretrain_loss", "voxel")}
        pcfg = FitConfig.from_dict({**ucfg["train"], "max_steps": int(ucfg["pretrain_steps"]),
                                    "patience": 10**6})
        pre_loss = sampler(sources, pcfg.batch_size, pre_settings["loss"])
        pre = fit(model, pre_loss, val_loss, pcfg, seed + 1, train,
                  workdir / "pretrain" if workdir else None, f"{label} pretrain".strip())
        fit_info["pretrain"] = {"steps": pre.steps, "best_val": pre.best_val,
                                "loss": pre_settings["loss"]}
        fit_info.update(_finetune(model, main_loss, val_loss, fcfg, seed, train, workdir,
                                  label, finetune_lrs(ucfg)))
    model.eval()

    def forecast(starts: np.ndarray) -> Tensor:
        return unet_forecast(model, main, torch.from_numpy(starts), context, horizon)

    splits = EVAL_SPLITS if settings["holdout"] else ("test",)
    metrics = evaluate_predictor(lambda s: _batched(forecast, s, int(ucfg["eval_batch"])),
                                 data, context, splits)
    cost = unet_cost(settings, context, horizon, main.frame_shape)
    return {"kind": "unet", "model": "unet", "variant": variant, "context": int(context),
            "seed": int(seed), "settings": settings, "n_parameters": count_parameters(model),
            "macs": cost["macs"], "rf_xy": receptive_field_xy(settings),
            "frame_shape": list(main.frame_shape), "fit": fit_info, "metrics": metrics}
