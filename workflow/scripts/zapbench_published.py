"""Aggregate the published ZAPBench results (combined.json) and plot them beside ours."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.workflow import logged, run_provenance  # noqa: E402
from neurodyn.zapbench.report import write_published  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    write_published(sm.input.published, sm.input.steps, sm.params.zapbench, dict(sm.output),
                    run_provenance(sm))
