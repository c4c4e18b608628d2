"""Gather the Snakemake-native population (all generations) or the random-search models (one
generation) and the best final checkpoint."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.autolfads.pipeline import collect_snakemake  # noqa: E402
from neurodyn.autolfads.plan import Schedule  # noqa: E402
from neurodyn.autolfads.random_search import one_generation  # noqa: E402
from neurodyn.io.spikes import open_spikes  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    prov = run_provenance(sm)
    prov.pop("config_json")
    source = "synthetic" if open_spikes(sm.input.data).attrs["synthetic"] == "true" else "real"
    backend = sm.params.backend
    schedule = Schedule.from_config(sm.params.cfg)
    if backend == "random":
        schedule = one_generation(schedule)
    collect_snakemake(sm.input.chunks, schedule, sm.params.root, sm.output.population,
                      sm.output.best, {"backend": backend, "provenance": prov, "source": source})
