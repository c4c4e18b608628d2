"""The study's datasets from config (rnn, reaching, linear) and the linear-AE demo job."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurodyn.data.spikes.reaching import ReachingSpec, make_reaching_dataset
from neurodyn.errors import InputError
from neurodyn.io.atomic import atomic_path, write_json
from neurodyn.io.spikes import add_sv_mask, write_spikes
from neurodyn.lfads.linear_data import LinearSpec, make_linear_dataset
from neurodyn.lfads.synthetic_rnn import RNNSpec, make_rnn_dataset

KINDS = ("rnn", "reaching", "linear")


def _stamp(prov: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in prov.items()}


def make_dataset(kind: str, cfg: Mapping[str, Any], seed: int, out: str | Path,
                 prov: Mapping[str, Any]) -> None:
    """Generate dataset ``kind`` with the config key ``lfads.<kind>`` and write it."""
    if kind == "rnn":
        ds = make_rnn_dataset(RNNSpec(**cfg["rnn"]), seed, _stamp(prov))
        write_spikes(add_sv_mask(ds, float(cfg["sv"]["rate"]), int(cfg["sv"]["seed"])), out)
    elif kind == "reaching":
        spec = dict(cfg["reaching"])
        spec["window_s"] = tuple(spec.get("window_s", (-0.25, 0.45)))
        spec["baseline_hz"] = tuple(spec.get("baseline_hz", (4.0, 25.0)))
        write_spikes(make_reaching_dataset(ReachingSpec(**spec), seed, _stamp(prov)), out)
    elif kind == "linear":
        data = {k: v for k, v in cfg["linear_ae"].items() if k in LinearSpec.__dataclass_fields__}
        ds = make_linear_dataset(LinearSpec(**data), seed, _stamp(prov))
        with atomic_path(out) as tmp:
            ds.to_netcdf(tmp, engine="netcdf4")
    else:
        raise ValueError(f"unknown dataset kind {kind!r}; expected one of {KINDS}")


def run_linear_demo(data_path: str | Path, cfg: Mapping[str, Any], seed: int,
                    figure: str | Path, summary: str | Path, prov: Mapping[str, Any],
                    settings: Any, workdir: str | Path) -> None:
    """Train the linear AE with and without CD (two fits of the fit runner under
    ``workdir``), write Fig. 3 and a summary JSON."""
    from neurodyn.lfads.figures import fig3
    from neurodyn.lfads.linear_ae import AEConfig, run_linear_fits

    with xr.open_dataset(data_path, engine="netcdf4") as ds:
        ds = ds.load()
    if ds.attrs.get("schema") != "neurodyn-linear/1":
        raise InputError(data_path, "attrs.schema", "expected 'neurodyn-linear/1'")
    train = ds["split"].values.astype(str) == "train"
    x, clean = ds["x"].values, ds["x_clean"].values
    ae = AEConfig(**{k: v for k, v in cfg.items() if k in AEConfig.__dataclass_fields__})
    results = run_linear_fits(x, clean, train, cfg, seed, settings, workdir, data_path)
    source = "synthetic" if ds.attrs.get("synthetic") == "true" else "real"
    fig3(results, figure, prov, source)
    write_json(summary, {
        **{f"{name}_{key}": float(np.asarray(val)[-1]) for name, res in results.items()
           for key, val in res.items() if key.endswith("_loss")},
        **{f"{name}_mean_abs_diag": float(np.abs(np.diag(res["weight"])).mean())
           for name, res in results.items()},
        **{f"{name}_mean_abs_offdiag": float(np.abs(res["weight"][~np.eye(len(res["weight"]),
                                                                            dtype=bool)]).mean())
           for name, res in results.items()},
        "keep_ratio": ae.keep_ratio, "source": source,
        "provenance": {k: v for k, v in prov.items() if k != "config_json"}})
