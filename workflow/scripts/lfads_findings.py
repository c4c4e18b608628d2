"""Findings L1-L5 (Keshtkaran & Pandarinath 2019) from the search and dataset-size jobs, the
dataset-size table and the linear-autoencoder summary."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.lfads.findings import write_lfads_findings  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    write_lfads_findings(list(sm.input.search), list(sm.input.get("datasize", [])),
                         sm.input.get("datasize_table"), sm.input.linear, sm.params.lfads,
                         sm.output, run_provenance(sm))
