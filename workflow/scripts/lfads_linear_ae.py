"""Linear autoencoder with and without coordinated dropout (Fig. 3), through the fit runner."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.lfads.datasets import run_linear_demo  # noqa: E402
from neurodyn.workflow import logged, run_provenance, train_settings  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    run_linear_demo(sm.input[0], sm.params.linear_ae, sm.params.seed, sm.output.figure,
                    sm.output.summary, run_provenance(sm), train_settings(sm), sm.params.workdir)
