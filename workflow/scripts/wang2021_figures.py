"""Wang 2021 figures: Fig. 2.2A-C, 2.3A-B, without AVA, inferred edges vs connectome."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.wang2021.collect import load_fits  # noqa: E402
from neurodyn.wang2021.figures import write_figures  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    write_figures(load_fits(sm.input[0]), sm.params.wang2021, dict(sm.output),
                  run_provenance(sm))
