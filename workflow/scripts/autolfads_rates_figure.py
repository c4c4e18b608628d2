"""Fig. 3 analog: inferred rates vs Gaussian-smoothed spikes vs PSTHs for example neurons."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

import xarray as xr  # noqa: E402

from neurodyn.autolfads.figures import rates_figure  # noqa: E402
from neurodyn.plots.style import save_figure  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    ev = sm.params.cfg["eval"]
    with xr.open_dataset(sm.input.autolfads) as lfads, xr.open_dataset(sm.input.smoothing) as sm_:
        lfads, smooth = lfads.load(), sm_.load()
    source = "synthetic" if lfads.attrs["synthetic"] == "true" else "real"
    fig = rates_figure(lfads, smooth, ev["example_neurons"], ev["example_conditions"],
                       f"{sm.wildcards.nlb_dataset}: evaluation trials, best PBT member")
    save_figure(fig, sm.output[0], run_provenance(sm), source)
