"""Scaling figures (Simeon et al. 2024): data scaling (Fig. 4B/6A/6C), per-source slopes (Fig. 4C),
model scaling (Fig. 5B/6B/6D) and autoregressive generation (Fig. 7).

All take the aggregated fits table (see :mod:`neurodyn.scaling.analysis`) or the generation
dataset, an output path and a provenance record, and save through
:func:`neurodyn.plots.style.save_figure`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.ticker import LogFormatter

from neurodyn.plots.style import data_source, save_figure
from neurodyn.scaling.analysis import (
    can_fit,
    loglog_fit,
    ordered_archs,
    per_source_slopes,
    slopes_table,
    source_datasets,
)

#: One colour and marker per architecture, shared by every scaling figure.
ARCH_STYLE: dict[str, tuple[str, str]] = {
    "Baseline": ("black", "x"),
    "Linear": ("#7f7f7f", "p"),
    "Feedforward": ("#1f77b4", "s"),
    "CTRNN": ("#2ca02c", "^"),
    "LSTM": ("#ff7f0e", "o"),
    "Transformer": ("#d62728", "D"),
    "PureAttention": ("#9467bd", "P"),
}
_FALLBACK = [("#8c564b", "h"), ("#e377c2", "*"), ("#17becf", "<"), ("#bcbd22", ">")]

DATA_LABEL = {"sines": "synthetic sines control", "randomwalk": "synthetic random-walk control"}
PAPER_SLOPES = "paper (experimental): CTRNN −0.65, Feedforward −0.40"
LOSS_LABEL = "min. validation MSE (z-scored activity²)"


def arch_style(arch: str) -> tuple[str, str]:
    """(colour, marker) of an architecture; unknown names get a stable fallback."""
    if arch in ARCH_STYLE:
        return ARCH_STYLE[arch]
    return _FALLBACK[sum(map(ord, arch)) % len(_FALLBACK)]


def _minus(value: float, fmt: str = ".2f") -> str:
    return format(value, fmt).replace("-", "−")


def _short_number(x: float) -> str:
    """Compact tick label: 2000 → '2k', 1.5e6 → '1.5M', 0.035 → '0.035'."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


class _ShortLogFormatter(LogFormatter):
    """Log-axis labels as plain short numbers (minor labels only on short ranges)."""

    def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
        return _short_number(x)


def _loglog(ax: Axes) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(_ShortLogFormatter(labelOnlyBase=False))
        axis.set_minor_formatter(_ShortLogFormatter(labelOnlyBase=False,
                                                    minor_thresholds=(1, 0.4)))


def _source(frame: pd.DataFrame) -> str:
    return data_source(["true" if s == "synthetic" else "false"
                        for s in frame["source"].dropna().unique()] or ["true"])


def _data_label(frame: pd.DataFrame, data: str) -> str:
    """Figure title of the data: real or synthetic C. elegans (with its datasets), or a control."""
    if data != "experimental":
        return DATA_LABEL.get(data, data)
    real = set(frame["source"].dropna()) == {"real"}
    datasets = source_datasets(frame.dropna(axis=1, how="all"))
    what = "real C. elegans recordings" if real else "synthetic C. elegans stand-ins"
    return what + (f" ({', '.join(datasets)})" if real and datasets else "")


def _skipped_note(frame: pd.DataFrame) -> str:
    """'; N worms skipped (halves shorter than L + 2 steps)' when the run dropped worms."""
    skipped = int(frame["n_worms_skipped"].max()) if "n_worms_skipped" in frame else 0
    return f"; {skipped} worms skipped (halves shorter than L + 2 steps)" if skipped else ""


def _select(fits: pd.DataFrame, experiment: str, data: str) -> pd.DataFrame:
    sel = fits[(fits["experiment"] == experiment) & (fits["data"] == data)]
    sel = sel[np.isfinite(sel["min_val_loss"].astype(float)) & (sel["min_val_loss"] > 0)]
    if sel.empty:
        raise ValueError(f"no {experiment} rows with a finite loss for data={data!r}")
    return sel


def _baseline_line(ax: Axes, frame: pd.DataFrame) -> None:
    base = frame["val_baseline"].astype(float)
    if base.notna().any():
        b = float(base.median())
        ax.axhline(b, color="black", ls="--", lw=1.1, zorder=1,
                   label=f"baseline x(t+1) = x(t): {b:.4g}")


def _legend_outside(ax: Axes, title: str | None = None) -> None:
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7.5, frameon=False,
              title=title, title_fontsize=8, alignment="left")


def data_scaling_figure(fits: pd.DataFrame, path: str | Path, prov: Mapping[str, Any],
                        data: str = "experimental") -> None:
    """Min. validation MSE vs. distinct training time steps (log–log) with ln–ln OLS per arch."""
    sel = _select(fits, "data_scaling", data)
    fig, ax = plt.subplots(figsize=(8.2, 4.4), layout="constrained")
    _baseline_line(ax, sel)
    for arch in ordered_archs(sel["arch"]):
        if arch == "Baseline":
            continue  # identical to the dashed baseline line
        g = sel[sel["arch"] == arch]
        color, marker = arch_style(arch)
        x, y = g["n_train_steps"].to_numpy(float), g["min_val_loss"].to_numpy(float)
        if can_fit(x, y):
            slope, intercept, r2 = loglog_fit(x, y)
            xs = np.geomspace(x.min(), x.max(), 50)
            ax.plot(xs, np.exp(intercept) * xs ** slope, color=color, lw=1.3, alpha=0.85)
            label = f"{arch}: slope {_minus(slope)}, R² {r2:.2f} (n = {len(g)})"
        else:
            label = f"{arch} (n = {len(g)}, no fit)"
        ax.scatter(x, y, color=color, marker=marker, s=30, alpha=0.85, zorder=3,
                   edgecolors="white", linewidths=0.4, label=label)
    _loglog(ax)
    ax.set_xlabel("training data (distinct training time steps, log scale)")
    ax.set_ylabel(LOSS_LABEL)
    lo, hi = int(sel["n_worms"].min()), int(sel["n_worms"].max())
    worms = f"{lo} worms" if lo == hi else f"{lo}–{hi} worms"
    sub = f"{len(sel)} runs, {worms}; lines: ln–ln OLS fits{_skipped_note(sel)}"
    if data == "experimental":
        sub += f"\n{PAPER_SLOPES}"
    ax.set_title(sub, loc="left", fontsize=8, color="0.3")
    _legend_outside(ax, "architecture (fit of ln loss on ln steps)")
    fig.suptitle(f"Data scaling: {_data_label(sel, data)}")
    save_figure(fig, path, prov, _source(sel))


def source_slopes_figure(fits: pd.DataFrame, path: str | Path, prov: Mapping[str, Any]) -> None:
    """Grouped bars of the ln–ln data-scaling slope per validation source dataset and arch."""
    sel = _select(fits, "data_scaling", "experimental")
    per = per_source_slopes(sel)
    pooled = slopes_table(sel).assign(dataset="pooled")
    table = pd.concat([pooled[per.columns.intersection(pooled.columns)], per],
                      ignore_index=True)
    table = table[table["arch"] != "Baseline"]
    groups = ["pooled", *dict.fromkeys(per["dataset"])]
    archs = ordered_archs(table["arch"])
    fig, ax = plt.subplots(figsize=(max(6.5, 1.1 * len(groups) + 3), 4.2),
                           layout="constrained")
    width = 0.8 / max(len(archs), 1)
    for j, arch in enumerate(archs):
        t = table[table["arch"] == arch].set_index("dataset").reindex(groups)
        pos = np.arange(len(groups)) - 0.4 + width * (j + 0.5)
        ok = t["slope"].notna().to_numpy()
        if not ok.any():
            continue
        err = t["slope_stderr"].to_numpy(float)[ok]
        ax.bar(pos[ok], t["slope"].to_numpy(float)[ok], width=width * 0.92,
               color=arch_style(arch)[0], label=arch,
               yerr=np.where(np.isfinite(err), err, 0.0), error_kw={"lw": 0.8, "capsize": 2})
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(0.5, color="0.75", lw=0.8, ls=":")
    ax.set_xticks(range(len(groups)), groups, rotation=30, ha="right")
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_xlabel("validation source dataset")
    ax.set_ylabel("data-scaling slope\n(d ln MSE / d ln training steps)")
    if table["slope"].notna().any():
        _legend_outside(ax, "architecture")
    else:
        ax.text(0.5, 0.5, "no slopes: fewer than 2 distinct training sizes per architecture",
                transform=ax.transAxes, ha="center", va="center", color="0.4")
        ax.set_ylim(-1, 0.2)
    ax.set_title("bars: ln–ln OLS slope ± standard error; negative = loss falls with data\n"
                 + PAPER_SLOPES + " (pooled)", loc="left", fontsize=8, color="0.3")
    fig.suptitle("Data scaling per validation source dataset: "
                 + _data_label(sel, "experimental"))
    save_figure(fig, path, prov, _source(sel))


def model_scaling_figure(fits: pd.DataFrame, path: str | Path, prov: Mapping[str, Any],
                         data: str = "experimental") -> None:
    """Min. validation MSE vs. trainable parameters (log–log), mean over seeds ± min–max band."""
    sel = _select(fits, "model_scaling", data)
    fig, ax = plt.subplots(figsize=(8.2, 4.4), layout="constrained")
    _baseline_line(ax, sel)
    n_seeds = 1
    for arch in ordered_archs(sel["arch"]):
        g = sel[(sel["arch"] == arch) & (sel["n_params"] > 0)]
        if g.empty or arch == "Baseline":
            continue  # the Baseline (no trainable parameters) is the dashed line
        s = g.groupby("n_params")["min_val_loss"].agg(["mean", "min", "max", "count"])
        n_seeds = max(n_seeds, int(s["count"].max()))
        color, marker = arch_style(arch)
        x = s.index.to_numpy(float)
        if (s["count"] > 1).any():
            ax.fill_between(x, s["min"], s["max"], color=color, alpha=0.18, lw=0)
        best = float(g["min_val_loss"].min())
        ax.plot(x, s["mean"], color=color, marker=marker, ms=5, lw=1.3, zorder=3,
                markeredgecolor="white", markeredgewidth=0.4,
                label=f"{arch} (best {best:.4g})")
    _loglog(ax)
    ax.set_xlabel("trainable parameters (paper counting convention, log scale)")
    ax.set_ylabel(LOSS_LABEL)
    band = "; band: min–max over seeds" if n_seeds > 1 else ""
    ax.set_title(f"{len(sel)} runs; line: mean over seeds{band}; no fit"
                 f"{_skipped_note(sel)}", loc="left",
                 fontsize=8, color="0.3")
    _legend_outside(ax, "architecture")
    fig.suptitle(f"Model scaling: {_data_label(sel, data)}")
    save_figure(fig, path, prov, _source(sel))


def _time_axis(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray, str]:
    n_ctx, n_gen = ds.sizes["time_ctx"], ds.sizes["time_gen"]
    if "time_ctx" in ds.coords and "time_gen" in ds.coords:
        unit = ds["time_ctx"].attrs.get("units", "time step")
        return (ds["time_ctx"].to_numpy().astype(float), ds["time_gen"].to_numpy().astype(float),
                "time (s)" if unit == "s" else unit)
    return np.arange(-n_ctx, 0.0), np.arange(0.0, n_gen), "time step (0 = first generated)"


def generation_figure(ds: xr.Dataset, path: str | Path, prov: Mapping[str, Any],
                      max_neurons: int = 4) -> None:
    """Autoregressive roll-out per arch (rows) and neuron (columns) after a real context."""
    archs = ordered_archs([str(a) for a in ds["arch"].values])
    neurons = [str(n) for n in ds["neuron"].values[:max_neurons]]
    t_ctx, t_gen, xlabel = _time_axis(ds)
    boundary = (t_ctx[-1] + t_gen[0]) / 2
    fig, axes = plt.subplots(len(archs), len(neurons),
                             figsize=(max(2.9 * len(neurons) + 0.6, 6.0),
                                      1.35 * len(archs) + 1.0),
                             sharex=True, squeeze=False, layout="constrained")
    for i, arch in enumerate(archs):
        a = ds.sel(arch=arch)
        color = arch_style(arch)[0]
        err = (a["generated"] - a["truth"]).sel(neuron=neurons).to_numpy().astype(float)
        mse = float(np.nanmean(err ** 2)) if np.isfinite(err).any() else np.nan
        for j, name in enumerate(neurons):
            ax = axes[i, j]
            ax.plot(t_ctx, a["context"].sel(neuron=name), color="0.6", lw=0.8)
            ax.plot(t_gen, a["truth"].sel(neuron=name), color="black", lw=0.8)
            ax.plot(t_gen, a["generated"].sel(neuron=name), color=color, lw=1.2)
            ax.axvline(boundary, color="0.3", lw=0.7, ls=":")
            if i == 0:
                ax.set_title(name, fontsize=9)
            if i == len(archs) - 1:
                ax.set_xlabel(xlabel)
        hidden = int(a["hidden"]) if "hidden" in a else 0
        name = f"{arch} h {hidden}" if hidden else arch
        axes[i, 0].set_ylabel(f"{name}\nMSE {mse:.3g}", color=color, fontsize=8,
                              fontweight="bold")
    handles = [Line2D([], [], color="0.6", label="context (data)"),
               Line2D([], [], color="black", label="ground truth"),
               tuple(Line2D([], [], color=arch_style(a)[0], lw=1.6) for a in archs),
               Line2D([], [], color="0.3", ls=":", label="context end")]
    labels = ["context (data)", "ground truth", "generated (row colour)", "context end"]
    fig.legend(handles, labels, loc="outside lower left", ncol=4 if len(neurons) > 2 else 2,
               fontsize=8, frameon=False, handler_map={tuple: HandlerTuple(ndivide=None, pad=0)},
               handlelength=4)
    fig.supylabel("activity (z-scored); row label: generation MSE", fontsize=8)
    best = " (best model of each class: lowest validation loss)" if "hidden" in ds else ""
    fig.suptitle(f"Autoregressive generation, worm {ds.attrs.get('worm', '?')}: "
                 f"context {ds.sizes['time_ctx']} steps, {ds.sizes['time_gen']} generated"
                 + best)
    save_figure(fig, path, prov, data_source([str(ds.attrs.get("synthetic", "true"))]))
