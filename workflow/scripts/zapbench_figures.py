"""Draw the ZAPBench figures (Fig. 4, 5, 6, 8-10) from the collected per-step results."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.workflow import logged, run_provenance  # noqa: E402
from neurodyn.zapbench.report import write_figures  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    write_figures(sm.input.steps, sm.input.conditions, sm.params.zapbench, dict(sm.output),
                  run_provenance(sm))
