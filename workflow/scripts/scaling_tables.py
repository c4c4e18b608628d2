"""Table II (parameter counts), slopes/minimum losses and the sanity checks."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

import pandas as pd  # noqa: E402

from neurodyn.scaling.analysis import sanity_checks, slopes_table  # noqa: E402
from neurodyn.scaling.tables import table2  # noqa: E402
from neurodyn.tables import write_table  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    prov = run_provenance(sm)
    fits = pd.concat([pd.read_csv(p) for p in sm.input], ignore_index=True)
    out = sm.output
    write_table(table2(sm.params.matched_params), out.table2, out.table2_md, prov,
                title="Table II: parameter counts (paper counting convention)")
    write_table(slopes_table(fits), out.slopes, out.slopes_md, prov,
                title="Scaling slopes and minimum validation losses",
                note="Cohorts: " + ", ".join(sm.params.cohorts) + ". 'experimental' rows of "
                "the synthetic cohort come from SYNTHETIC C. elegans stand-ins; sines and "
                "randomwalk are synthetic controls by design.")
    write_table(sanity_checks(fits), out.sanity, out.sanity_md, prov,
                title="Scientific sanity checks on these runs")
