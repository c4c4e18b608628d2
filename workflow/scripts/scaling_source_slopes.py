"""Fig. 4C: data-scaling slopes per source dataset of a C. elegans cohort."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

import pandas as pd  # noqa: E402

from neurodyn.scaling.figures import source_slopes_figure  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    source_slopes_figure(pd.read_csv(sm.input[0]), sm.output[0], run_provenance(sm))
