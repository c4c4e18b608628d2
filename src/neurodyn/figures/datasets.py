"""Data figures: dataset overview (Fig. 1A), neuron coverage (Fig. 3), preprocessing (Fig. 2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from neurodyn.data.celegans.preprocess import (
    PreprocessParams,
    exponential_smooth,
    resample,
    zscore,
)
from neurodyn.data.celegans.summary import coverage
from neurodyn.plots.style import data_source, save_figure


def _source(datasets: Sequence[xr.Dataset]) -> str:
    return data_source([d.attrs["synthetic"] for d in datasets])


def overview_figure(datasets: Sequence[xr.Dataset], path: str | Path,
                    prov: Mapping[str, Any]) -> None:
    """Worms per dataset, recording durations and labeled neurons per worm."""
    names = [d.attrs["dataset"] for d in datasets]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), layout="constrained")
    axes[0].barh(names, [d.sizes["worm"] for d in datasets], color="0.35")
    axes[0].set_xlabel("worms")
    axes[0].invert_yaxis()
    for i, d in enumerate(datasets):
        dur = d["n_timesteps"].values * d["dt"].values / 60
        lab = d["labeled"].sum("neuron").values
        rec = d["n_recorded"].values
        jitter = np.linspace(-0.25, 0.25, dur.size) if dur.size > 1 else np.zeros(1)
        axes[1].scatter(dur, i + jitter, s=10, color="tab:blue")
        axes[2].scatter(rec, i + jitter, s=10, color="0.7", label="recorded" if i == 0 else None)
        axes[2].scatter(lab, i + jitter, s=10, color="tab:orange",
                        label="labeled" if i == 0 else None)
    for ax in axes[1:]:
        ax.set_yticks(range(len(names)), names)
        ax.set_ylim(len(names) - 0.5, -0.5)
    axes[1].set_xlabel("recording length (min)")
    axes[2].set_xlabel("neurons per worm")
    axes[2].legend(loc="lower right", fontsize=7)
    axes[0].set_title("A  worms per dataset", loc="left")
    axes[1].set_title("B  recording length", loc="left")
    axes[2].set_title("C  labeled / recorded neurons", loc="left")
    save_figure(fig, path, prov, _source(datasets))


def coverage_figure(datasets: Sequence[xr.Dataset], path: str | Path,
                    prov: Mapping[str, Any]) -> None:
    """Fraction of worms labeling each of the 302 neurons, per dataset, and pooled."""
    cov = coverage(list(datasets))
    worms = np.array([d.sizes["worm"] for d in datasets])
    pooled = (cov.values * worms[:, None]).sum(0) / worms.sum()
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(12, 4.2), height_ratios=[3, 1.2],
                                  sharex=True, layout="constrained")
    im = ax.imshow(cov.values, aspect="auto", interpolation="nearest", vmin=0, vmax=1,
                   cmap="magma")
    ax.set_yticks(range(len(cov.index)), cov.index)
    fig.colorbar(im, ax=ax, label="fraction of worms labeled", pad=0.01)
    ax.set_title(f"Neuron coverage across the 302 canonical names "
                 f"({int((pooled > 0).sum())} labeled in at least one worm)", loc="left")
    ax2.bar(np.arange(cov.shape[1]), pooled, width=1.0, color="0.3")
    ax2.set_ylabel("pooled")
    ax2.set_ylim(0, 1)
    step = 10
    ax2.set_xticks(np.arange(0, cov.shape[1], step), cov.columns[::step], rotation=90,
                   fontsize=6)
    ax2.set_xlabel("neuron (slot order)")
    save_figure(fig, path, prov, _source(datasets))


def preprocessing_figure(raw: xr.Dataset, processed: xr.Dataset, neurons: Sequence[str],
                         params: PreprocessParams, path: str | Path,
                         prov: Mapping[str, Any]) -> None:
    """Raw → z-scored → smoothed → resampled traces of a few neurons of the first worm."""
    w = 0
    labeled = set(raw["neuron"].values[raw["labeled"].values[w]])
    shown = [n for n in neurons if n in labeled] or sorted(labeled)[:4]
    n = int(raw["n_timesteps"][w])
    t = raw["time_s"].values[w, :n]
    x = raw["activity"].sel(neuron=shown).values[w, :n].astype(np.float64)
    z = zscore(x) if params.zscore else x
    s = exponential_smooth(z, params.smooth_alpha)
    r, t_r = resample(s, t, params.resample_dt)
    m = int(processed["n_timesteps"][w])
    stored = processed["activity"].sel(neuron=shown).values[w, :m]
    window = t <= min(t[-1], 120.0)
    stages = [("raw ΔF/F", t, x), ("z-scored", t, z),
              (f"causal exponential smoothing (α = {params.smooth_alpha})", t, s),
              (f"resampled to Δt = {params.resample_dt} s (dots: stored file)", t_r, r)]
    fig, axes = plt.subplots(len(stages), 1, figsize=(9, 7), sharex=True,
                             layout="constrained")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (title, tt, yy) in zip(axes, stages, strict=True):
        keep = tt <= t[window][-1]
        for j, name in enumerate(shown):
            ax.plot(tt[keep], yy[keep, j], lw=0.9, color=colors[j % len(colors)], label=name)
        ax.set_title(title, loc="left")
    keep = processed["time_s"].values[w, :m] <= t[window][-1]
    for j in range(len(shown)):
        axes[-1].plot(processed["time_s"].values[w, :m][keep], stored[keep, j], ".", ms=2.5,
                      color=colors[j % len(colors)])
    axes[0].legend(ncol=len(shown), fontsize=7, loc="upper right")
    axes[-1].set_xlabel("time (s)")
    fig.suptitle(f"{raw.attrs['dataset']}, {raw['worm'].values[w]}: preprocessing steps")
    save_figure(fig, path, prov, _source([raw]))
