"""Generate a synthetic dataset of the LFADS study (rnn, reaching or linear)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.lfads.datasets import make_dataset  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    make_dataset(sm.wildcards.kind, sm.params.lfads, sm.params.seed, sm.output[0],
                 run_provenance(sm))
