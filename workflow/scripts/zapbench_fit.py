"""Train and evaluate one chunk of ZAPBench fits (trace models or UNet variants)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.workflow import logged, run_provenance, train_settings  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    from neurodyn.zapbench.jobs import fit_chunk

    extras = list(getattr(sm.input, "extras", []))  # pre-training specimens (UNet only)
    fit_chunk(sm.params.family, sm.params.runs, sm.params.zapbench, sm.input.main, extras,
              Path(sm.params.workdir), train_settings(sm), sm.params.code, sm.output[0],
              run_provenance(sm))
