"""Collect ZAPBench fits into the per-step table, Tables 1-3 and the findings table."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.workflow import logged, run_provenance  # noqa: E402
from neurodyn.zapbench.report import write_tables  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    write_tables(list(sm.input), sm.params.zapbench, dict(sm.output), run_provenance(sm))
