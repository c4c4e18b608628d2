"""Scaling figures of one cohort: data scaling, model scaling, generation."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402

from neurodyn.scaling import figures as fig  # noqa: E402
from neurodyn.scaling.collect import cohort_labels  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    fits = pd.read_csv(sm.input.fits)
    data, _ = cohort_labels(sm.wildcards.cohort)
    prov = run_provenance(sm)
    fig.data_scaling_figure(fits, sm.output.data_scaling, prov, data=data)
    fig.model_scaling_figure(fits, sm.output.model_scaling, prov, data=data)
    with xr.open_dataset(sm.input.generation, engine="netcdf4") as gen:
        fig.generation_figure(gen.load(), sm.output.generation, prov)
