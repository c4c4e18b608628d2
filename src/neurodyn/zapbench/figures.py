"""Figures of the ZAPBench study (Fig. 4, 5, 6, 8-10 and the published comparison)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from neurodyn.zapbench.results import TRACE_LABELS, best_trace, differs_only_in, overall

SPLIT_TITLES = {"test": "test (training conditions)", "test_holdout": "holdout condition"}
PANEL_TRACE_MODELS = ("linear", "timemix", "tsmixer", "tide")
COLOURS = {"mean": "0.5", "last": "C5", "stimulus": "C6", "linear": "C0", "timemix": "C1",
           "tsmixer": "C2", "tide": "C4"}


def colour(label: str) -> str:
    """One colour per model in every figure; UNet variants cycle through the rest."""
    if label in COLOURS:
        return COLOURS[label]
    if label == "unet:base":
        return "C3"
    return f"C{7 + sum(map(ord, label)) % 3}"


def pretty(label: str) -> str:
    return f"UNet ({label[5:]})" if label.startswith("unet:") else TRACE_LABELS.get(label,
                                                                                   label)


def _curve(ax: plt.Axes, df: pd.DataFrame, label: str, **kw: Any) -> None:
    """Mean over seeds ± 2 SE (band) of MAE vs steps ahead."""
    by = df.groupby(["step", "seed"])["mae"].mean().unstack("seed")
    if by.empty:
        return
    mean = by.mean(axis=1)
    kw.setdefault("color", colour(kw.pop("key", "")))
    ax.plot(mean.index, mean.values, label=label, **kw)
    if by.shape[1] > 1:
        se = 2 * by.std(axis=1, ddof=1) / np.sqrt(by.shape[1])
        ax.fill_between(mean.index, mean - se, mean + se, alpha=0.2,
                        color=ax.lines[-1].get_color())


def _layout(fig: Figure) -> None:
    """Tight layout that leaves room for the two-line banner + title above the axes."""
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / fig.get_figheight()))


def _style(ax: plt.Axes, title: str) -> None:
    ax.set_title(title)
    ax.set_xlabel("steps ahead")
    ax.set_ylabel("MAE")
    ax.legend(fontsize=7, frameon=False)


def fig6(steps: pd.DataFrame, reference: str, contexts: Sequence[int]) -> Figure:
    """Test MAE vs steps ahead: the UNet, the best trace model and the mean baseline."""
    ov = overall(steps)
    fig, axes = plt.subplots(2, len(contexts), figsize=(4.2 * len(contexts), 6.4),
                             squeeze=False, sharey="row")
    for j, c in enumerate(contexts):
        best = best_trace(ov, c)
        for i, split in enumerate(("test", "test_holdout")):
            ax = axes[i, j]
            sub = steps[(steps["split"] == split) & (steps["context"] == c)]
            for label, style in ((f"unet:{reference}", {"color": "C3", "lw": 2}),
                                 (best, {"key": best}), ("mean", {"key": "mean",
                                                                  "ls": "--"})):
                _curve(ax, sub[sub["label"] == label], pretty(label) + (
                    " (best trace)" if label == best else ""), **style)
            _style(ax, f"C = {c}, {SPLIT_TITLES[split]}")
    fig.suptitle("Fig. 6: video model vs best trace model (mean ± 2 SE over seeds)")
    _layout(fig)
    return fig


def fig5(steps: pd.DataFrame, settings: dict[str, dict[str, Any]], reference: str) -> Figure:
    """Spatial vs temporal context: test MAE vs pooling levels, one line per context."""
    names = differs_only_in(settings, reference, ["levels"])
    ov = overall(steps)
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
    for c in sorted(ov["context"].unique()):
        pts = []
        for name in names:
            sub = ov[(ov["label"] == f"unet:{name}") & (ov["context"] == c)]
            if not sub.empty:
                pts.append((settings[name]["levels"], sub["mae"].mean(),
                            2 * sub["mae"].std(ddof=1) / np.sqrt(len(sub))
                            if len(sub) > 1 else 0.0))
        if pts:
            pts.sort()
            lv, m, e = map(np.array, zip(*pts, strict=True))
            axes[0].errorbar(lv, m, yerr=e, marker="o", capsize=3, label=f"C = {c}")
    axes[0].ticklabel_format(axis="y", useOffset=False)
    axes[0].xaxis.get_major_locator().set_params(integer=True)
    axes[0].set_xlabel("pooling levels (receptive field)")
    axes[0].set_ylabel("test MAE (mean over 32 steps)")
    axes[0].set_title("receptive field × temporal context")
    axes[0].legend(fontsize=7, frameon=False)
    short = int(ov["context"].min())
    sub = steps[(steps["split"] == "test") & (steps["context"] == short)]
    for name in sorted(names, key=lambda n: settings[n]["levels"]):
        _curve(axes[1], sub[sub["label"] == f"unet:{name}"],
               f"{settings[name]['levels']} levels", color=f"C{settings[name]['levels']}")
    _style(axes[1], f"C = {short}: MAE vs steps ahead")
    fig.suptitle("Fig. 5: spatial vs temporal context")
    _layout(fig)
    return fig


def fig4(steps: pd.DataFrame, settings: dict[str, dict[str, Any]], reference: str,
         context: int) -> Figure:
    """Direct (all lead times at once) vs lead-time-conditioned UNet."""
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    sub = steps[(steps["split"] == "test") & (steps["context"] == context)]
    for name in differs_only_in(settings, reference, ["direct"]):
        kind = "direct" if settings[name]["direct"] else "lead-time conditioned"
        _curve(ax, sub[sub["label"] == f"unet:{name}"], f"{kind} ({name})",
               color="C3" if name == reference else "C9")
    _style(ax, f"C = {context}, test")
    fig.suptitle("Fig. 4: direct vs lead-time-conditioned MAE")
    _layout(fig)
    return fig


def per_condition(cond: pd.DataFrame, reference: str, contexts: Sequence[int], split: str,
                  title: str) -> Figure:
    """One panel per (condition, context): the UNet vs four trace models (Figs. 8-10)."""
    sub = cond[cond["split"] == split]
    panels = [(name, c) for c in contexts for name in dict.fromkeys(sub["condition"])]
    cols = min(len(panels), 4) or 1
    rows = int(np.ceil(len(panels) / cols)) if panels else 1
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.9 * rows), squeeze=False,
                             sharey=True)
    for ax, (name, c) in zip(axes.flat, panels, strict=False):
        p = sub[(sub["condition"] == name) & (sub["context"] == c)]
        for label in (f"unet:{reference}", *PANEL_TRACE_MODELS):
            _curve(ax, p[p["label"] == label], pretty(label),
                   **({"color": "C3", "lw": 2} if label.startswith("unet") else
                      {"key": label}))
        _style(ax, f"{name} (C = {c})")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(title)
    _layout(fig)
    return fig


def published_vs_ours(published: pd.DataFrame, steps: pd.DataFrame,
                      contexts_pub: Sequence[int], contexts_ours: Sequence[int]) -> Figure:
    """Published ZAPBench curves (combined.json) beside ours; separate panels, same axes."""
    fig, axes = plt.subplots(2, 2, figsize=(8.6, 6.4), squeeze=False)
    for j, (cp, co) in enumerate(zip(contexts_pub, contexts_ours, strict=True)):
        ax = axes[0, j]
        pub = published[(published["context"] == cp) & (published["split"] == "test")]
        for method, g in pub.groupby("method"):
            ax.plot(g["steps_ahead"], g["MAE"], label=str(method))
        _style(ax, f"published ZAPBench, C = {cp}")
        ax = axes[1, j]
        sub = steps[(steps["split"] == "test") & (steps["context"] == co)]
        for label in sorted(sub["label"].unique()):
            if label.startswith("unet:") and label != "unet:base":
                continue
            _curve(ax, sub[sub["label"] == label], pretty(label), key=label)
        _style(ax, f"this run, C = {co}")
    fig.suptitle("Published ZAPBench results (combined.json) beside this run")
    _layout(fig)
    return fig
