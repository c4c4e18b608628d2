"""Read one real dataset from its raw files into the calcium schema."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.data.celegans.readers.registry import read_raw_dataset  # noqa: E402
from neurodyn.io.calcium import write_calcium  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    ds = read_raw_dataset(sm.wildcards.dataset, Path(sm.params.raw_dir),
                          unknown_neuron_names=sm.params.unknown_neuron_names)
    ds.attrs.update({k: str(v) for k, v in run_provenance(sm).items()})
    write_calcium(ds, sm.output[0])
    log.info("wrote %d real worms to %s", ds.sizes["worm"], sm.output[0])
