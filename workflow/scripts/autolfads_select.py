"""Selection after one generation: binary tournament + explore → the next generation's plan."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.autolfads.generations import next_plan  # noqa: E402
from neurodyn.autolfads.pipeline import read_json  # noqa: E402
from neurodyn.autolfads.plan import Schedule  # noqa: E402
from neurodyn.io.atomic import write_json  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    records = [r for path in sm.input.chunks for r in read_json(path)["members"]]
    plan = next_plan(read_json(sm.input.plan), records, Schedule.from_config(sm.params.cfg),
                     sm.params.seed, sm.input.plan)
    for c in plan["members"]:
        log.info("member %d <- %s (%s)", c["member"], c["parent"], c["reason"])
    prov = run_provenance(sm)
    prov.pop("config_json")
    write_json(sm.output[0], {**plan, "provenance": prov})
