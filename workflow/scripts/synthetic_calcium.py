"""Generate one synthetic dataset in the calcium schema."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.data.celegans.synthetic import synthetic_dataset  # noqa: E402
from neurodyn.io.calcium import write_calcium  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    ds = synthetic_dataset(sm.wildcards.dataset, sm.params.n_worms, sm.params.seed,
                           duration_scale=sm.params.duration_scale)
    ds.attrs.update({k: str(v) for k, v in run_provenance(sm).items()})
    write_calcium(ds, sm.output[0])
    log.info("wrote %d synthetic worms to %s", ds.sizes["worm"], sm.output[0])
