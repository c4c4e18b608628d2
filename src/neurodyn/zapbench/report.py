"""Write the study's tables and figures from the collected fit records."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from neurodyn.io.atomic import write_text
from neurodyn.plots.style import save_figure
from neurodyn.tables import write_table
from neurodyn.zapbench import figures, results
from neurodyn.zapbench.grid import all_unet_settings

CAPTION = {"synthetic": "Miniature ZAPBench (synthetic data, not the published recording).",
           "real": "Real ZAPBench data (sub-crop given in the config)."}


def _source(z: Mapping[str, Any]) -> str:
    return "synthetic" if z["source"] == "synthetic" else "real"


def load_records(paths: Sequence[str | Path]) -> list[dict[str, Any]]:
    return [r for p in paths for r in json.loads(Path(p).read_text())]


def _table(df: pd.DataFrame, out: Mapping[str, str], key: str, prov: Mapping[str, Any],
           title: str, source: str, note: str = "") -> None:
    write_table(df, out[key], out[f"{key}_md"], prov, title,
                note=" ".join(x for x in (CAPTION[source], note) if x))


def write_tables(paths: Sequence[str], z: Mapping[str, Any], out: Mapping[str, str],
                 prov: Mapping[str, Any]) -> None:
    """Per-step table, Tables 1-3, findings; plus the long per-seed CSVs for the figures."""
    source = _source(z)
    records = load_records(paths)
    steps = results.per_step_frame(records)
    cond = results.per_condition_frame(records)
    write_text(out["steps"], steps.assign(source=source).to_csv(index=False))
    write_text(out["conditions"], cond.assign(source=source).to_csv(index=False))
    settings = all_unet_settings(dict(z))
    ref = z["unet"]["reference"]
    short, long = int(z["benchmark"]["short_context"]), int(z["benchmark"]["long_context"])
    ov = results.overall(steps)
    _table(results.per_step_table(steps, source), out, "per_step", prov,
           "ZAPBench per-step MAE (mean ± 2 SE over seeds)", source,
           "test = equal-weight mean over the training conditions; test_holdout separately.")
    _table(results.ablation_table(ov, settings, ref, ["train_split", "pretrain_specimens"],
                                  short, source), out, "table1", prov,
           "Table 1: training data of the video model (test MAE, mean over 32 steps)", source)
    _table(results.ablation_table(ov, settings, ref, ["input_downsample"], short, source),
           out, "table2", prov,
           "Table 2: input resolution (XY downsampling of the input; full-resolution output)",
           source)
    _table(results.table3(cond, ov, ref, [short, long], source), out, "table3", prov,
           "Table 3: Corr_H (and Corr_W) on the test split", source,
           "Corr_H: Pearson r over the 32 steps per window and neuron; Corr_W: over 32-frame "
           "snippets assembled at a fixed lead time (consecutive windows) per step and neuron; "
           "zero-variance pairs skipped, so Corr_H is NaN (undefined) for "
           "forecasts constant over the horizon (mean, last value).")
    _table(results.findings(steps, settings, ref, short, long, source), out, "findings", prov,
           "Qualitative findings of the papers, measured on this run", source,
           "margin > 0 means the finding holds; 'reproduced' needs margin − 2 SE > 0 over "
           "≥ 2 seeds. These are results, not tests.")


def write_figures(steps_csv: str, cond_csv: str, z: Mapping[str, Any],
                  out: Mapping[str, str], prov: Mapping[str, Any]) -> None:
    source = _source(z)
    steps, cond = pd.read_csv(steps_csv), pd.read_csv(cond_csv)
    settings = all_unet_settings(dict(z))
    ref = z["unet"]["reference"]
    short, long = int(z["benchmark"]["short_context"]), int(z["benchmark"]["long_context"])
    tag = "miniature (synthetic)" if source == "synthetic" else "real data"
    save_figure(figures.fig6(steps, ref, [short, long]), out["fig6"], prov, source)
    save_figure(figures.fig5(steps, settings, ref), out["fig5"], prov, source)
    save_figure(figures.fig4(steps, settings, ref, short), out["fig4"], prov, source)
    save_figure(figures.per_condition(cond, ref, [short], "test",
                                      f"Fig. 8: per condition, C = {short}, {tag}"),
                out["fig8"], prov, source)
    save_figure(figures.per_condition(cond, ref, [long], "test",
                                      f"Fig. 9: per condition, C = {long}, {tag}"),
                out["fig9"], prov, source)
    save_figure(figures.per_condition(cond, ref, [short, long], "test_holdout",
                                      f"Fig. 10: held-out condition, {tag}"),
                out["fig10"], prov, source)


def write_published(published: str, steps_csv: str, z: Mapping[str, Any],
                    out: Mapping[str, str], prov: Mapping[str, Any]) -> None:
    """Published curves (loaded from combined.json, never typed in) beside this run."""
    from neurodyn.zapbench.real import load_published, published_curves

    curves = published_curves(load_published(published))
    write_table(curves, out["table"], out["table_md"], prov,
                "Published ZAPBench per-step MAE (from combined.json)",
                note="source: published results file, aggregated over runs and conditions.")
    steps = pd.read_csv(steps_csv)
    short, long = int(z["benchmark"]["short_context"]), int(z["benchmark"]["long_context"])
    fig = figures.published_vs_ours(curves, steps, [4, 256], [short, long])
    save_figure(fig, out["figure"], prov, _source(z))
