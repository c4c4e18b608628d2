"""Fig. 2 analog: hyperparameter and smoothed-loss trajectories of every PBT member."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.autolfads.figures import pbt_figure, pbt_length  # noqa: E402
from neurodyn.autolfads.pipeline import read_json  # noqa: E402
from neurodyn.plots.style import save_figure  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    cfg = sm.params.cfg
    population = read_json(sm.input[0])
    fig = pbt_figure(population, cfg["metric"], list(cfg["search_space"]),
                     f"PBT ({sm.wildcards.backend} backend), {sm.wildcards.nlb_dataset}: "
                     f"{pbt_length(population)}")
    save_figure(fig, sm.output[0], run_provenance(sm), population.get("source", "synthetic"))
