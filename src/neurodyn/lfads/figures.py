"""Figures of the Keshtkaran & Pandarinath 2019 reproduction (Figs. 1b, 1c, 3, 4, 5, 5b)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from neurodyn.lfads.analysis import ARM_LABELS, SELECTION, selection_metric
from neurodyn.plots.style import save_figure


def _save(fig: plt.Figure, path: str | Path, prov: Mapping[str, Any], source: str) -> None:
    """Leave room for the two-line banner above the panels, then save."""
    fig.tight_layout(rect=(0, 0, 1, 0.86))
    save_figure(fig, path, prov, source)


METRIC_LABELS = {"valid_recon_heldin_smth": "validation-trial recon cost (smoothed)",
                 "train_recon_sv_smth": "SV metric: held-out samples of training trials"}


def _scatter(ax: plt.Axes, group: pd.DataFrame, arm: str) -> None:
    metric = selection_metric(group)
    ax.scatter(metric, group["rate_r2"], s=18, color="tab:blue", alpha=0.8)
    if metric.notna().any():
        best = metric.idxmin()
        ax.scatter(metric[best], group.loc[best, "rate_r2"], s=70, facecolor="none",
                   edgecolor="firebrick", label="selected (lowest metric)")
        ax.legend(fontsize=7, loc="lower left")
    ax.set_xlabel(METRIC_LABELS[SELECTION[arm]])
    ax.xaxis.set_major_locator(MaxNLocator(4))  # narrow metric ranges: labels must not overlap
    ax.set_ylabel("rate R² vs ground truth")
    ax.set_title(ARM_LABELS[arm])


def fig1b(frame: pd.DataFrame, path: str | Path, prov: Mapping[str, Any], source: str) -> None:
    """Standard validation loss against rate R² (the standard arm)."""
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    _scatter(ax, frame[frame["arm"] == "standard"], "standard")
    fig.suptitle("Fig. 1b: random HP search, standard validation")
    _save(fig, path, prov, source)


def pick_examples(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Underfit (high training cost, low R²), good (best R²) and overfit (low training cost,
    low R²) models of the standard arm."""
    std = frame[frame["arm"] == "standard"].dropna(subset=["rate_r2",
                                                           "train_recon_heldin_smth"])
    median = std["train_recon_heldin_smth"].median()
    high, low = std[std["train_recon_heldin_smth"] >= median], \
        std[std["train_recon_heldin_smth"] < median]
    good = std.loc[std["rate_r2"].idxmax()]
    under = high.loc[high["rate_r2"].idxmin()] if len(high) else good
    over = low.loc[low["rate_r2"].idxmin()] if len(low) else good
    return {"underfit": under, "good": good, "overfit": over}


def fig1c(frame: pd.DataFrame, records: list[dict], truth_hz: np.ndarray, time_s: np.ndarray,
          path: str | Path, prov: Mapping[str, Any], source: str) -> None:
    """Inferred vs true rates of one validation trial for an underfit, a good and an overfit
    model (three neurons)."""
    by_id = {r["model_id"]: r for r in records}
    examples = pick_examples(frame)
    fig, axes = plt.subplots(truth_hz.shape[0], 3, figsize=(8.5, 5.2), sharex=True,
                             squeeze=False)
    for col, (label, row) in enumerate(examples.items()):
        inferred = np.asarray(by_id[row["model_id"]]["example_rates_hz"])
        for k in range(truth_hz.shape[0]):
            ax = axes[k, col]
            ax.plot(time_s, truth_hz[k], color="0.2", lw=1.2, label="true")
            ax.plot(time_s, inferred[k], color="tab:orange", lw=1.2, label="LFADS")
            if k == 0:
                ax.set_title(f"{label}: {row['model_id']}\nrate R² {row['rate_r2']:.2f}",
                             fontsize=8)
            if col == 0:
                ax.set_ylabel(f"neuron {k}\nrate (Hz)")
    axes[0, 0].legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    fig.suptitle("Fig. 1c: example inferred vs true rates (validation trial)")
    _save(fig, path, prov, source)


def fig4(frame: pd.DataFrame, path: str | Path, prov: Mapping[str, Any], source: str) -> None:
    """Selection metric vs rate R² for the three arms."""
    arms = [a for a in ("standard", "sv", "cd") if a in set(frame["arm"])]
    fig, axes = plt.subplots(1, len(arms), figsize=(4.0 * len(arms), 3.6), squeeze=False)
    for ax, arm in zip(axes[0], arms, strict=True):
        _scatter(ax, frame[frame["arm"] == arm], arm)
    fig.suptitle("Fig. 4: selection metric vs rate R² (standard validation, SV, CD keep 0.7)")
    _save(fig, path, prov, source)


def fig3(results: Mapping[str, Mapping[str, np.ndarray]], path: str | Path,
         prov: Mapping[str, Any], source: str) -> None:
    """Linear autoencoder: loss curves and learned weight matrices without / with CD."""
    fig, axes = plt.subplots(1, 3, figsize=(11.5, 3.6))
    colors = {"plain": "tab:blue", "cd": "tab:red"}
    labels = {"plain": "without CD", "cd": "with CD"}
    for name, res in results.items():
        epochs = np.arange(1, len(res["train_loss"]) + 1)
        axes[0].plot(epochs, res["train_loss"], color=colors[name], ls="--",
                     label=f"{labels[name]}: training loss")
        axes[0].plot(epochs, res["clean_loss"], color=colors[name],
                     label=f"{labels[name]}: loss vs noise-free data")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("MSE")
    axes[0].legend(fontsize=7)
    lim = max(np.abs(res["weight"]).max() for res in results.values())
    for ax, name in zip(axes[1:], ("plain", "cd"), strict=True):
        im = ax.imshow(results[name]["weight"], cmap="RdBu_r", vmin=-lim, vmax=lim)
        diag = np.abs(np.diag(results[name]["weight"])).mean()
        ax.set_title(f"W {labels[name]} (mean |diag| {diag:.3f})")
        ax.set_xlabel("input channel")
        ax.set_ylabel("output channel")
    fig.colorbar(im, ax=axes[2], shrink=0.8)
    fig.suptitle("Fig. 3: linear autoencoder, identity overfitting and CD")
    _save(fig, path, prov, source)


def fig5(table: pd.DataFrame, path: str | Path, prov: Mapping[str, Any], source: str) -> None:
    """Velocity decoding R² vs training-set size."""
    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    x = table["n_train_trials"]
    ax.plot(x, table["smoothing_r2"], "k--", label="smoothed spikes")
    ax.errorbar(x, table["lfads_fixed_r2_mean"], table["lfads_fixed_r2_sd"], marker="o",
                capsize=3, label="LFADS, fixed HPs")
    ax.errorbar(x, table["lfads_hpo_r2_mean"], table["lfads_hpo_r2_sd"], marker="s",
                capsize=3, label="LFADS, HP optimisation (PBT + CD)")
    ax.set_xscale("log")
    ax.set_xlabel("training trials")
    ax.set_ylabel("velocity decoding R² (test trials)")
    ax.legend(fontsize=7)
    fig.suptitle("Fig. 5: decoding vs dataset size")
    _save(fig, path, prov, source)


def fig5b(table: pd.DataFrame, path: str | Path, prov: Mapping[str, Any], source: str) -> None:
    """Percentage improvement of HP-optimised LFADS (PBT + CD) over LFADS with fixed HPs."""
    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    pos = np.arange(len(table))
    ax.bar(pos, table["hpo_over_fixed_pct"], 0.6, color="tab:green")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(pos, [f"{100 * f:g}%\n({n})" for f, n in
                        zip(table["fraction"], table["n_train_trials"], strict=True)])
    ax.set_xlabel("fraction of training trials (trials)")
    ax.set_ylabel("decoding R² improvement (%)")
    fig.suptitle("Fig. 5b: HP optimisation (PBT + CD) over fixed HPs")
    _save(fig, path, prov, source)
