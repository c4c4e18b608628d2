"""Fig. 2: raw -> z-scored -> smoothed -> resampled traces of a few neurons."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.data.celegans.preprocess import PreprocessParams  # noqa: E402
from neurodyn.figures.datasets import preprocessing_figure  # noqa: E402
from neurodyn.io.calcium import open_calcium  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    preprocessing_figure(open_calcium(sm.input.raw), open_calcium(sm.input.processed),
                         list(sm.params.neurons), PreprocessParams(**sm.params.preprocess),
                         sm.output[0], run_provenance(sm))
