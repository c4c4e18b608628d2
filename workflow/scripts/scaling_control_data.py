"""Generate a Sines or RandomWalk control dataset."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.data.synthetic_controls import control_dataset  # noqa: E402
from neurodyn.io.calcium import write_calcium  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    c = sm.params.controls
    ds = control_dataset(sm.wildcards.kind, c["n_worms"], c["n_steps"], c["n_neurons"],
                         sm.params.seed)
    ds.attrs.update({k: str(v) for k, v in run_provenance(sm).items()})
    write_calcium(ds, sm.output[0])
