"""Wang 2021's preprocessing product: worms selected by source file, native frame rate,
unsmoothed, scaled to [0, 1] per worm and neuron."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.io.calcium import open_calcium, write_calcium  # noqa: E402
from neurodyn.wang2021.prepare import prepare_dataset  # noqa: E402
from neurodyn.workflow import logged  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    ds = prepare_dataset(open_calcium(sm.input[0]), sm.params.files, sm.input[0])
    write_calcium(ds, sm.output[0])
    log.info("%s: %d worms (files %s), native dt %s s", sm.output[0], ds.sizes["worm"],
             list(sm.params.files or {}), [round(float(v), 4) for v in ds["dt"].values])
