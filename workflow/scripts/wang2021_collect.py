"""Gather every Wang 2021 fit's metrics into one file."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.wang2021.collect import collect_fits  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    collect_fits(sm.input, sm.output[0], run_provenance(sm))
