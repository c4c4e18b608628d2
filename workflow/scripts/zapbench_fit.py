"""Train and evaluate one chunk of ZAPBench fits (trace models or UNet variants)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.workflow import logged, run_provenance  # noqa: E402
from neurodyn.zapbench.prepare import fit_chunk  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    import torch

    torch.set_num_threads(sm.threads)
    extras = list(getattr(sm.input, "extras", []))  # pre-training specimens (UNet only)
    fit_chunk(sm.params.family, sm.params.runs, sm.params.zapbench, sm.input.main, extras,
              Path(sm.params.workdir), sm.resources.get("gpu", 0), sm.output[0],
              run_provenance(sm))
