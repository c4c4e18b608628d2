"""Table I: worms and labeled/recorded neurons per dataset."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.data.celegans.summary import dataset_table  # noqa: E402
from neurodyn.io.calcium import open_calcium  # noqa: E402
from neurodyn.tables import write_table  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    table = dataset_table([open_calcium(p) for p in sm.input])
    write_table(table, sm.output.csv, sm.output.md, run_provenance(sm),
                title=f"Table I ({sm.wildcards.source} data)")
