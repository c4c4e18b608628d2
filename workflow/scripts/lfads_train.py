"""Train one job (a group) of LFADS models, search or dataset-size, through the fit runner."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.io.atomic import write_json  # noqa: E402
from neurodyn.lfads.grid import ModelSpec  # noqa: E402
from neurodyn.workflow import logged, run_provenance, train_settings  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    from neurodyn.io.spikes import open_spikes
    from neurodyn.lfads.run import run_datasize_job, run_search_job

    settings = train_settings(sm)
    specs = [ModelSpec(**s) for s in sm.params.models]
    run = run_search_job if sm.wildcards.experiment == "search" else run_datasize_job
    records = run(sm.input[0], specs, sm.params.lfads, sm.params.seed, Path(sm.params.workdir),
                  settings)
    prov = {k: v for k, v in run_provenance(sm).items() if k != "config_json"}
    source = "synthetic" if open_spikes(sm.input[0]).attrs["synthetic"] == "true" else "real"
    write_json(sm.output[0], [{**r, "source": source, "provenance": prov} for r in records])
