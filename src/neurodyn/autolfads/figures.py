"""AutoLFADS figures: PBT trajectories (JOSS Fig. 2) and inferred rates vs smoothed spikes vs
PSTHs (JOSS Fig. 3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from neurodyn.autolfads.pipeline import trained_generations
from neurodyn.eval.nlb import smooth_and_cut

LOG_HPS = ("lr_init", "kl_ic_scale", "kl_co_scale", "l2_gen_scale", "l2_con_scale")


def _shown(name: str, value: float) -> float:
    return float(np.log10(value)) if name in LOG_HPS and value > 0 else value


def _segment(record: Mapping[str, Any], start: int) -> list[Mapping[str, Any]]:
    return [h for h in record["history"] if h["epoch"] is not None and h["epoch"] >= start]


def pbt_length(population: Mapping[str, Any]) -> str:
    """The run's length for a title: "8 members x 30 generations", or after an early stop
    "8 members x 13 of up to 30 generations (stopped by rule)"."""
    planned = population["generations"]
    trained = len(trained_generations(planned))
    members = len(planned[0])
    if trained < len(planned):
        return (f"{members} members x {trained} of up to {len(planned)} generations "
                "(stopped by rule)")
    return f"{members} members x {trained} generations"


def pbt_figure(population: Mapping[str, Any], metric: str, hp_names: Sequence[str],
               title: str) -> Figure:
    """Every member's hyperparameters and smoothed validation cost over epochs; a dotted
    line marks a clone (jump from the winner's last value)."""
    gens = trained_generations(population["generations"])  # no-op copies are not drawn
    n_panels = len(hp_names) + 1
    cols = 4
    rows = -(-n_panels // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.1 * cols, 2.4 * rows), squeeze=False)
    colors = plt.get_cmap("tab10" if len(gens[0]) <= 10 else "tab20")
    names = [metric, *hp_names]
    for ax, name in zip(axes.flat, names, strict=False):
        key = name if name == metric else f"hp/{name}"
        start = 0
        for g, gen in enumerate(gens):
            end = max((h["epoch"] for r in gen for h in r["history"] if h["epoch"] is not None),
                      default=start)
            for r in gen:
                seg = [h for h in _segment(r, start) if h.get(key) is not None]
                if not seg:
                    continue
                x = [h["epoch"] + 1 for h in seg]
                y = [_shown(name, h[key]) for h in seg]
                c = colors(r["member"] % colors.N)
                ax.plot(x, y, color=c, lw=1.2, marker="o" if len(x) == 1 else None, ms=2)
                if g > 0 and r.get("parent") is not None and r["parent"] != r["member"]:
                    prev = [h for h in gens[g - 1][r["parent"]]["history"]
                            if h["epoch"] == start - 1 and h.get(key) is not None]
                    if prev:
                        ax.plot([start, x[0]], [_shown(name, prev[0][key]), y[0]], color=c,
                                lw=0.8, ls=":")
            start = end + 1
            ax.axvline(start + 0.5, color="0.85", lw=0.6, zorder=0)
        ax.set_title(name if name != metric else f"{metric} (selection)", fontsize=8)
        if name == metric:
            for m in range(len(gens[0])):
                ax.plot([], [], color=colors(m % colors.N), label=f"member {m}")
            ax.legend(fontsize=6, ncol=2, frameon=False)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.ticklabel_format(axis="y", useOffset=False)
        if name in LOG_HPS:
            ax.set_title(f"log10 {name}", fontsize=8)
    for ax in list(axes.flat)[n_panels:]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _condition_mean(x: np.ndarray, cond: np.ndarray, c: int) -> np.ndarray:
    return x[cond == c].mean(axis=0)


def example_neurons(ds: xr.Dataset, n: int) -> list[int]:
    """Half held-in, half held-out neurons (highest mean rates)."""
    n_in = int(ds.attrs["n_heldin"])
    mean = ds["spikes"].values.mean(axis=(0, 1))
    held_out = [int(i) + n_in for i in np.argsort(-mean[n_in:])[: n // 2]]
    held_in = [int(i) for i in np.argsort(-mean[:n_in])[: n - len(held_out)]]
    return held_in + held_out


def rates_figure(lfads: xr.Dataset, smoothing: xr.Dataset, n_neurons: int,
                 n_conditions: int, title: str) -> Figure:
    """Rows: Gaussian-smoothed spikes (smoothing baseline; held-out neurons from its GLM),
    LFADS single-trial inferred rates, and condition averages (PSTH of smoothed spikes vs
    LFADS, ground truth dotted when known); columns: example neurons. Colours: conditions."""
    bin_s = float(lfads.attrs["bin_ms"]) / 1000
    n_in, n_obs = int(lfads.attrs["n_heldin"]), int(lfads.attrs["n_obs"])
    cond = lfads["condition"].values
    conds = sorted(np.unique(cond))[:n_conditions]
    neurons = example_neurons(lfads, n_neurons)
    t = float(lfads.attrs.get("t_start_ms", 0.0)) + np.arange(lfads.sizes["time"]) * bin_s * 1000
    spikes = lfads["spikes"].values
    psth_spk = smooth_and_cut(spikes, float(lfads.attrs["psth_sd_ms"])
                              / float(lfads.attrs["bin_ms"]), 0, spikes.shape[1])
    fig, axes = plt.subplots(3, len(neurons), figsize=(2.8 * len(neurons), 6.6),
                             squeeze=False, sharex=True)
    colors = plt.get_cmap("tab10")
    truth = lfads["truth"].values
    for j, n in enumerate(neurons):
        for k, c in enumerate(conds):
            col = colors(k % 10)
            for i in np.flatnonzero(cond == c)[:3]:
                axes[0, j].plot(t, smoothing["rates"].values[i, :, n] / bin_s, color=col,
                                lw=0.7, alpha=0.8)
                axes[1, j].plot(t, lfads["rates"].values[i, :, n] / bin_s, color=col, lw=0.7,
                                alpha=0.8)
            axes[2, j].plot(t, _condition_mean(psth_spk, cond, c)[:, n] / bin_s, color=col,
                            lw=1.0, ls="--")
            axes[2, j].plot(t, _condition_mean(lfads["rates"].values, cond, c)[:, n] / bin_s,
                            color=col, lw=1.4)
            if np.isfinite(truth).all():
                axes[2, j].plot(t, _condition_mean(truth, cond, c)[:, n] / bin_s, color=col,
                                lw=0.8, ls=":")
        kind = "held-out" if n >= n_in else "held-in"
        axes[0, j].set_title(f"neuron {n} ({kind})", fontsize=8)
        for ax in axes[:, j]:
            ax.axvline(t[n_obs], color="0.6", lw=0.6, ls="-.")
    axes[0, 0].set_ylabel("Gaussian smoothing\n(spikes/s, single trials)")
    axes[1, 0].set_ylabel("AutoLFADS rates\n(spikes/s, single trials)")
    axes[2, 0].set_ylabel("condition average\n(-- PSTH, — LFADS, ·· truth)")
    fig.supxlabel(f"time from {lfads.attrs.get('align', 'alignment')} (ms); dash-dot: start of "
                  "the forward window; colours: conditions; eval trials", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
