"""Generation-0 plan of the Snakemake-native PBT: every member's initial hyperparameters."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.autolfads.generations import initial_plan  # noqa: E402
from neurodyn.autolfads.pipeline import load_split  # noqa: E402
from neurodyn.autolfads.plan import Schedule  # noqa: E402
from neurodyn.autolfads.space import search_space  # noqa: E402
from neurodyn.io.atomic import write_json  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    cfg = sm.params.cfg
    split = load_split(sm.input[0], cfg)
    space = search_space(cfg["search_space"], split.elements_per_trial)
    plan = initial_plan(space, Schedule.from_config(cfg), sm.params.seed)
    prov = run_provenance(sm)
    prov.pop("config_json")
    write_json(sm.output[0], {**plan, "provenance": prov})
    log.info("generation 0: %d members", len(plan["members"]))
