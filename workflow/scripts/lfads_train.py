"""Train one job (a group) of LFADS models: search or dataset-size models."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.io.atomic import write_json  # noqa: E402
from neurodyn.io.spikes import open_spikes  # noqa: E402
from neurodyn.lfads.grid import ModelSpec  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    from neurodyn.train.runtime import accelerator, quiet_lightning

    quiet_lightning()
    import torch

    from neurodyn.lfads.run import run_datasize_job, run_search_job

    torch.set_num_threads(sm.threads)
    specs = [ModelSpec(**s) for s in sm.params.models]
    ds = open_spikes(sm.input[0])
    device = accelerator(sm.resources.get("gpu", 0))
    workdir = Path(sm.params.workdir)
    if sm.wildcards.experiment == "search":
        records = run_search_job(ds, specs, sm.params.lfads, workdir, device, sm.params.code)
    else:
        records = run_datasize_job(ds, specs, sm.params.lfads, sm.params.seed, workdir, device,
                                   sm.params.code)
    prov = {k: v for k, v in run_provenance(sm).items() if k != "config_json"}
    source = "synthetic" if ds.attrs["synthetic"] == "true" else "real"
    write_json(sm.output[0], [{**r, "source": source, "provenance": prov} for r in records])
