"""Wang 2021 figures (Fig. 2.2A-C, 2.3A-B, without AVA, inferred edges vs connectome)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from neurodyn.data.celegans.connectome import adjacency
from neurodyn.plots.style import save_figure
from neurodyn.wang2021 import quoted as Q
from neurodyn.wang2021 import states as st
from neurodyn.wang2021.collect import data_source
from neurodyn.wang2021.findings import eval_set, fit_frame
from neurodyn.wang2021.tables import (
    classify_frame,
    edge_correlations,
    find_task,
    table_k,
    trajectory_frame,
    without_ava,
)

QUOTED_STYLE = {"color": "0.35", "ls": "--", "lw": 1}


def _archs(df, task: str) -> list[str]:
    return [a for a in Q.MODEL_NAMES if a in set(df[df.task == task].arch)]


def _mean_sd(values) -> tuple[float, float]:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not v.size:
        return np.nan, np.nan
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=8)
    ax.set_axis_off()


def fig_2_2a(fits, cfg):
    """7-state accuracy on seen worms per model and number of training worms."""
    df = classify_frame(fits)
    task = find_task(cfg, "classify", 7)
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    if task is None:
        _empty(ax, "no 7-state task configured")
        return fig
    ks = sorted(set(df[df.task == task].k))
    archs = _archs(df, task)
    width = 0.8 / max(len(archs), 1)
    for i, arch in enumerate(archs):
        stats = [_mean_sd(df[(df.task == task) & (df.arch == arch) & (df.k == k)].acc_seen)
                 for k in ks]
        ax.bar(np.arange(len(ks)) + i * width, [s[0] for s in stats], width,
               yerr=[s[1] for s in stats], capsize=2, label=Q.MODEL_NAMES[arch])
    ax.axhline(Q.SEVEN_STATE_SEEN, **QUOTED_STYLE, label="thesis ≈92 % (quoted)")
    maj = _mean_sd(df[df.task == task].majority_seen)[0]
    ax.axhline(maj, color="firebrick", lw=0.8, ls=":", label="majority class (this run)")
    ax.set_xticks(np.arange(len(ks)) + width * (len(archs) - 1) / 2, [str(k) for k in ks])
    ax.set(xlabel="training worms", ylabel="accuracy on seen worms (%)", ylim=(0, 100),
           title="Fig. 2.2A: 7-state classification, seen worms")
    ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(1.01, 0))
    return fig


def fig_2_2b(fits, cfg):
    """4-state accuracy vs number of training worms: unseen Kato and Nichols worms."""
    df = classify_frame(fits)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), sharey=True)
    panels = ((find_task(cfg, "classify", 4, nichols=False), "acc_unseen_kato",
               "unseen Kato worms", Q.FOUR_STATE_GNN_UNSEEN_KATO, "thesis GNN ≈87 % (quoted)"),
              (find_task(cfg, "classify", 4, nichols=True), "acc_nichols",
               "Nichols worms (3 neurons)", Q.FOUR_STATE_NICHOLS, "thesis ≈70 % (quoted)"))
    for ax, (task, col, label, quote, qlabel) in zip(axes, panels, strict=True):
        if task is None:
            _empty(ax, "no such task configured")
            continue
        for arch in _archs(df, task):
            sel = df[(df.task == task) & (df.arch == arch)]
            ks = sorted(set(sel.k))
            stats = [_mean_sd(sel[sel.k == k][col]) for k in ks]
            ax.errorbar(ks, [s[0] for s in stats], yerr=[s[1] for s in stats], marker="o",
                        capsize=2, label=Q.MODEL_NAMES[arch])
        ax.axhline(quote, **QUOTED_STYLE, label=qlabel)
        ax.set_xticks(sorted(set(df[df.task == task].k)))
        ax.set(xlabel="training worms", title=f"4 states, {label}", ylim=(0, 100))
        ax.legend(fontsize=7, loc="lower right")
    axes[0].set_ylabel("accuracy (%)")
    fig.suptitle("Fig. 2.2B: generalisation vs number of training worms")
    return fig


def fig_2_2c(fits, cfg):
    """Confusion matrix on Nichols worms (4-state GNN, largest k), row-normalised."""
    task = find_task(cfg, "classify", 4, nichols=True)
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    sel = [f for f in fits if f["task"] == task and f["arch"] == "gnn"
           and f.get("confusion_nichols") is not None]
    if not sel:
        _empty(ax, "no 4-state GNN fits evaluated on Nichols worms")
        return fig
    k = max(f["k"] for f in sel)
    mat = np.sum([np.asarray(f["confusion_nichols"], float) for f in sel if f["k"] == k], 0)
    norm = mat / np.maximum(mat.sum(1, keepdims=True), 1)
    im = ax.imshow(norm * 100, vmin=0, vmax=100, cmap="Blues")
    rows, cols = st.nichols_classes(4), st.task_classes(4)
    for i in range(norm.shape[0]):
        for j in range(norm.shape[1]):
            ax.text(j, i, f"{norm[i, j] * 100:.0f}", ha="center", va="center", fontsize=7,
                    color="white" if norm[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), [f"{r} (n={int(n)})" for r, n in zip(rows, mat.sum(1),
                                                                           strict=True)])
    ax.set(xlabel="predicted (Kato 4-state classes)", ylabel="Nichols label",
           title=f"Fig. 2.2C: 4-state GNN on Nichols, k={k}")
    fig.colorbar(im, ax=ax, label="% of row")
    return fig


def _traj_summary(fits):
    """Trajectory errors on the findings' evaluation set (real Nichols worms, else held-out
    real Kato worms, else the synthetic Nichols stand-ins) and its axis label."""
    df = trajectory_frame(fits)
    if df.empty:
        return df, "MSE"
    data, real = eval_set(df, fit_frame(fits))
    where = {"nichols": "Nichols worms", "unseen_kato": "held-out Kato worms"}[data]
    return df[df.data == data], f"MSE on {where}" + ("" if real else " (SYNTHETIC)")


def fig_2_3a(fits, cfg):
    """MSE vs prediction step on the evaluation worms, models trained on the fewest / most
    worms."""
    df, label = _traj_summary(fits)
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.3), sharey=True)
    ks = sorted(set(df.k))
    chosen = [ks[0], ks[-1]] if ks else []
    for ax, k in zip(axes, chosen or [None, None], strict=True):
        if k is None:
            _empty(ax, "no trajectory fits")
            continue
        sel = df[df.k == k]
        for arch in [a for a in Q.MODEL_NAMES if a in set(sel.arch) and a != "nochange"]:
            g = sel[sel.arch == arch].groupby("step").mse
            ax.plot(g.mean().index, g.mean().values, marker=".", label=Q.MODEL_NAMES[arch])
        base = sel.groupby("step").nochange.mean()
        ax.plot(base.index, base.values, color="k", ls="--", label="no change")
        ax.set(xlabel="prediction step", title=f"trained on {k} worm(s)", yscale="log")
        ax.legend(fontsize=7)
    axes[0].set_ylabel(label)
    fig.suptitle("Fig. 2.3A: trajectory prediction error vs step")
    return fig


def fig_2_3b(fits, cfg):
    """MSE at steps 1, 8 and 16 on the evaluation worms (largest k), with the no-change
    baseline."""
    df, label = _traj_summary(fits)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    if df.empty:
        _empty(ax, "no trajectory fits")
        return fig
    k = max(df.k)
    sel = df[(df.k == k) & df.step.isin([1, 8, 16])]
    archs = [a for a in Q.MODEL_NAMES if a in set(sel.arch) and a != "nochange"]
    names = [Q.MODEL_NAMES[a] for a in archs] + ["no change"]
    width = 0.25
    for i, step in enumerate((1, 8, 16)):
        s = sel[sel.step == step]
        vals = [_mean_sd(s[s.arch == a].mse) for a in archs] + [_mean_sd(s.nochange)]
        ax.bar(np.arange(len(names)) + i * width, [v[0] for v in vals], width,
               yerr=[v[1] for v in vals], capsize=2, label=f"step {step}")
    ax.set_xticks(np.arange(len(names)) + width, names, rotation=20, ha="right")
    ax.set(ylabel=label, yscale="log",
           title=f"Fig. 2.3B: MSE at steps 1, 8, 16 (trained on {k} worms)")
    ax.legend(fontsize=7)
    return fig


def fig_without_ava(fits, cfg):
    tab = without_ava(fits, cfg)
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    if tab.empty:
        _empty(ax, "no task with dropped neurons configured")
        return fig
    x = np.arange(len(tab))
    for i, (col, label) in enumerate((("unseen_kato_with", "all neurons"),
                                      ("unseen_kato_without", "without " + tab.dropped[0]))):
        ax.bar(x + i * 0.38, tab[f"{col}_mean"], 0.38, yerr=tab[f"{col}_sd"].fillna(0),
               capsize=2, label=label)
    ax.set_xticks(x + 0.19, tab.model)
    ax.set(ylabel="2-state accuracy, unseen Kato (%)", ylim=(0, 100),
           title=f"Without AVA (k={int(tab.k_train_worms[0])})")
    ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(1.01, 0))
    return fig


def fig_edges(fits, cfg):
    """Mean inferred adjacency of the 2-state GNN next to the connectome."""
    task = find_task(cfg, "classify", 2, nichols=False)
    sel = [f for f in fits if f["task"] == task and f.get("mean_adjacency") is not None]
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.8))
    if not sel:
        for ax in axes:
            _empty(ax, "no GNN fits with inferred edges")
        return fig
    k = table_k(cfg) if any(f["k"] == table_k(cfg) for f in sel) else sel[0]["k"]
    sel = [f for f in sel if f["k"] == k]
    names = sel[0]["neurons"]
    mean = np.nanmean([np.asarray(f["mean_adjacency"], float) for f in sel], 0)
    conn = adjacency(names, kind="union", binary=True).T
    r = edge_correlations(sel).r_directed
    label = f"r = {np.nanmean(r):.2f} ± {np.nanstd(r):.2f} vs connectome"
    for ax, mat, title in ((axes[0], mean, f"mean inferred A (GNN, k={k}, {len(sel)} fits)\n"
                            + label + " (off-diagonal)"),
                           (axes[1], conn, "White 1986 connectome (binary union)")):
        im = ax.imshow(mat, vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
        ax.set_yticks(range(len(names)), names, fontsize=6)
        ax.set(title=title, xlabel="sender", ylabel="receiver")
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle("Inferred edges vs connectome")
    return fig


FIGURES = {"fig2_2a": fig_2_2a, "fig2_2b": fig_2_2b, "fig2_2c": fig_2_2c,
           "fig2_3a": fig_2_3a, "fig2_3b": fig_2_3b, "without_ava": fig_without_ava,
           "edges_connectome": fig_edges}


def write_figures(fits: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any],
                  out: Mapping[str, str], prov: Mapping[str, Any]) -> None:
    src = data_source(fits)
    for name, make in FIGURES.items():
        fig = make(fits, cfg)
        fig.tight_layout(rect=(0, 0, 1, 0.9))  # room for the data banner and title
        save_figure(fig, out[name], prov, src)
