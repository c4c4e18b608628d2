"""Preprocess one dataset: z-score -> causal smoothing -> resampling."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.data.celegans.preprocess import PreprocessParams, preprocess_dataset  # noqa: E402
from neurodyn.io.calcium import open_calcium, write_calcium  # noqa: E402
from neurodyn.workflow import logged  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    params = PreprocessParams(**sm.params.preprocess)
    ds = preprocess_dataset(open_calcium(sm.input[0]), params)
    write_calcium(ds, sm.output[0])
    log.info("preprocessed %s with %s", sm.input[0], params)
