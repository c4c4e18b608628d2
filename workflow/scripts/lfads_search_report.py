"""Figs. 1b, 1c and 4 and the table of rate R² per arm from the search jobs."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.lfads.report import search_report  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    search_report(list(sm.input.jobs), sm.input.data, sm.output, run_provenance(sm))
