"""Write the study's tables and figures from the collected fit records."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from neurodyn.findings import write_findings
from neurodyn.io.atomic import write_text
from neurodyn.plots.style import save_figure
from neurodyn.tables import write_table
from neurodyn.zapbench import figures, results
from neurodyn.zapbench import findings as zfind
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
    """Per-step table, Tables 1-3, the findings table; the long per-seed CSVs for figures."""
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
    arch = results.arch_frame(records)
    _table(results.ablation_table(ov, settings, ref, ["input_downsample"], short, source, arch),
           out, "table2", prov,
           "Table 2: input resolution (XY downsampling of the input; full-resolution output)",
           source, "Constant physical field of view: a ×d coarser input starts at pooling "
           "level log2 d, so rf_xy (the XY receptive field in full-resolution voxels) stays "
           "the reference's; n_parameters and macs (per forward, one sample) for comparison.")
    _table(results.rf_sweep_table(steps, arch, settings, ref, source), out, "rf_sweep", prov,
           "Receptive-field sweep at roughly fixed compute (Fig. 5)", source,
           "Variants differing from the reference only in pooling levels and blocks per "
           "level; z is pooled from the second pooling on. macs = multiply-accumulates per "
           "forward of one sample: pooling levels add little compute (a level costs ≤ 1/4 "
           "of the one above), so compute stays roughly fixed while rf_xy grows.")
    _table(results.table3(cond, ov, ref, [short, long], source), out, "table3", prov,
           "Table 3: Corr_H (and Corr_W) on the test split", source,
           "Corr_H: Pearson r over the 32 steps per window and neuron; Corr_W: over 32-frame "
           "snippets assembled at a fixed lead time (consecutive windows) per step and neuron; "
           "zero-variance pairs skipped, so Corr_H is NaN (undefined) for "
           "forecasts constant over the horizon (mean, last value).")
    findings_table(records, steps, z, settings, out, prov)


def training_note(z: Mapping[str, Any]) -> str:
    """The training deviation the findings' ``data`` column names (empty when none)."""
    decay = float(z["unet"].get("train", {}).get("ema_decay", 0) or 0)
    if decay <= 0:
        return ""
    return (f"; UNet validated, selected and kept as a moving average of its weights "
            f"(EMA {decay:g}; not in the reference code)")


def data_label(z: Mapping[str, Any]) -> str:
    """The findings' ``data`` column: synthetic miniature or the real crop, and the
    training deviation (:func:`training_note`)."""
    if _source(z) == "real":
        r = z.get("real", {})
        return (f"real (ZAPBench 20240930, scale {r.get('scale')}, crop {r.get('crop')}, "
                f"traces = segment means of the cropped video){training_note(z)}")
    g = z["data"]["generator"]
    speed = int(g.get("speed", 1))
    if g.get("wave_direction", "+x") == "mixed":
        waves = (f"waves enter from all four edges at {speed} voxel(s) per frame, "
                 f"{float(g.get('local_fraction', 0)):.0%} of sources in place")
    else:
        waves = f"waves travel {g.get('wave_direction', '+x')} at {speed} voxel(s) per frame"
    return (f"synthetic miniature (neurodyn generator {'×'.join(map(str, g['shape']))} voxels, "
            f"{g['n_cells']} cells; {waves}), not the recording{training_note(z)}")


def findings_table(records: Sequence[dict[str, Any]], steps: pd.DataFrame,
                   z: Mapping[str, Any], settings: Mapping[str, Any], out: Mapping[str, str],
                   prov: Mapping[str, Any]) -> pd.DataFrame:
    """Claims Z1–Z13 (:mod:`neurodyn.zapbench.findings`) as ``out['findings'/'findings_md']``."""
    b = z["benchmark"]
    rows = zfind.zapbench_findings(steps, zfind.fits_frame(records), settings,
                                   z["unet"]["reference"], int(b["short_context"]),
                                   int(b["long_context"]), data_label(z),
                                   by_construction=zfind.waves_fix_direction(
                                       _source(z), z["data"]["generator"]))
    note = " ".join(x for x in (CAPTION[_source(z)], (
        "Rules fixed in neurodyn.zapbench.findings; measured = mean [95 % t-interval over "
        "seeds] of per-seed test-MAE differences (or relative changes); published numbers "
        "are the papers' (real recording, full scale)."),) if x)
    return write_findings(rows, out["findings"], out["findings_md"], prov,
                          "Findings: the claims of ZAPBench and the video-forecasting paper",
                          note)


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
