"""Per-dataset summaries of calcium datasets (Table I of Simeon et al. 2024)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr


def dataset_table(datasets: list[xr.Dataset]) -> pd.DataFrame:
    """Worms, labeled/recorded neurons (mean, min, max) and recording length per dataset."""
    rows = [_row(ds.attrs["dataset"], [ds]) for ds in datasets]
    if len(datasets) > 1:
        rows.append(_row("all", datasets))
    return pd.DataFrame(rows)


def _row(name: str, datasets: list[xr.Dataset]) -> dict[str, object]:
    lab = np.concatenate([d["labeled"].sum("neuron").values for d in datasets])
    rec = np.concatenate([d["n_recorded"].values for d in datasets])
    dt = np.concatenate([d["dt"].values for d in datasets])
    dur = np.concatenate([d["n_timesteps"].values for d in datasets]) * dt / 60.0
    sources = sorted({"synthetic" if d.attrs["synthetic"] == "true" else "real"
                      for d in datasets})
    states = {",".join(map(str, d["state"].values)) for d in datasets if "state" in d.coords}
    return {
        "dataset": name,
        "source": "+".join(sources),
        "worms": int(lab.size),
        "labeled_mean": float(lab.mean()),
        "labeled_min": int(lab.min()),
        "labeled_max": int(lab.max()),
        "recorded_mean": float(rec.mean()),
        "recorded_min": int(rec.min()),
        "recorded_max": int(rec.max()),
        "duration_min_mean": float(dur.mean()),
        "rate_hz_mean": float(np.mean(1.0 / dt)),
        "behavior_states": states.pop() if len(states) == 1 else "various" if states else "-",
    }


def coverage(datasets: list[xr.Dataset]) -> pd.DataFrame:
    """Fraction of worms in which each of the 302 neurons is labeled (datasets × neurons)."""
    return pd.DataFrame(
        {ds.attrs["dataset"]: ds["labeled"].mean("worm").values for ds in datasets},
        index=datasets[0]["neuron"].values,
    ).T
