"""Figs. 5 and 5b and the dataset-size table from the dataset-size jobs."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.lfads.report import datasize_report  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    datasize_report(list(sm.input.jobs), sm.input.data, sm.params.lfads, sm.params.seed,
                    sm.output, run_provenance(sm))
