"""Dataset overview (Fig. 1A) and neuron coverage (Fig. 3)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.figures.datasets import coverage_figure, overview_figure  # noqa: E402
from neurodyn.io.calcium import open_calcium  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    datasets = [open_calcium(p) for p in sm.input]
    overview_figure(datasets, sm.output.overview, run_provenance(sm))
    coverage_figure(datasets, sm.output.coverage, run_provenance(sm))
