"""Concatenate the processed datasets of one source into combined.nc."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.data.celegans.preprocess import combine_datasets  # noqa: E402
from neurodyn.io.calcium import open_calcium, write_calcium  # noqa: E402
from neurodyn.workflow import logged  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    combined = combine_datasets([open_calcium(p) for p in sm.input])
    write_calcium(combined, sm.output[0])
    log.info("combined %d worms", combined.sizes["worm"])
