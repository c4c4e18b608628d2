"""Wang 2021 tables: Table 2.1, accuracy vs k, trajectory MSE, without AVA, edges, sanity."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.wang2021.collect import load_fits  # noqa: E402
from neurodyn.wang2021.tables import write_tables  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    write_tables(load_fits(sm.input[0]), sm.params.wang2021, dict(sm.output),
                 run_provenance(sm))
