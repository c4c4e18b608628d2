"""Report jobs of the LFADS study: search figures/table and dataset-size figures/table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from neurodyn.io.spikes import open_spikes, split_arrays
from neurodyn.lfads import figures
from neurodyn.lfads.analysis import (
    N_EXAMPLE_NEURONS,
    datasize_table,
    decoding_setup,
    load_records,
    records_frame,
    search_table,
    smoothing_r2,
)
from neurodyn.tables import write_table

SMOOTHING_SD_S = 0.06  # the paper's Gaussian smoothing SD of the spike baseline (60 ms)
SYNTHETIC_NOTE = ("Data: SYNTHETIC ({dataset}), not the published recordings. "
                  "Embedded-default runs are reduced (few models, few epochs).")


def _source(ds) -> str:
    return "synthetic" if ds.attrs["synthetic"] == "true" else "real"


def search_report(jobs: Sequence[str | Path], data: str | Path, out: Any,
                  prov: Mapping[str, Any]) -> None:
    """Figs. 1b, 1c, 4, the per-model table and the table of R² per arm."""
    ds = open_spikes(data)
    source = _source(ds)
    records = load_records(jobs)
    frame = records_frame(records)
    frame["source"] = source
    note = SYNTHETIC_NOTE.format(dataset=ds.attrs["dataset"]) if source == "synthetic" else ""
    write_table(frame, out.models, out.models_md, prov, "LFADS random HP search: all models",
                note)
    write_table(search_table(frame, source), out.table, out.table_md, prov,
                "Rate R² per selection arm (Keshtkaran & Pandarinath 2019, Figs. 1b/4)", note)
    figures.fig1b(frame, out.fig1b, prov, source)
    figures.fig4(frame, out.fig4, prov, source)
    trial = int(records[0]["example_trial"])
    truth = ds["rates_hz"].values[trial, :, :N_EXAMPLE_NEURONS].T
    figures.fig1c(frame, records, truth, ds["time"].values, out.fig1c, prov, source)


def datasize_report(jobs: Sequence[str | Path], data: str | Path, cfg: Mapping[str, Any],
                    seed: int, out: Any, prov: Mapping[str, Any]) -> None:
    """Figs. 5, 5b and the dataset-size table (smoothing baseline computed here)."""
    ds = open_spikes(data)
    source = _source(ds)
    frame = records_frame(load_records(jobs))
    setup = decoding_setup(ds, cfg)
    sd_s = float(cfg["dataset_size"].get("smoothing_sd_s", SMOOTHING_SD_S))
    sd_bins = sd_s / float(ds.attrs["bin_width_s"])
    smooth = smoothing_r2(split_arrays(ds, "test"), sd_bins, setup, seed)
    table = datasize_table(frame, smooth, source)
    note = SYNTHETIC_NOTE.format(dataset=ds.attrs["dataset"]) if source == "synthetic" else ""
    write_table(table, out.table, out.table_md, prov,
                "Velocity decoding R² vs training-set size (Keshtkaran & Pandarinath 2019, "
                "Fig. 5)", note)
    figures.fig5(table, out.fig5, prov, source)
    figures.fig5b(table, out.fig5b, prov, source)
