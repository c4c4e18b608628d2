"""Wang 2021 tables: Table 2.1, accuracy vs k, trajectory MSE, without AVA, edges, sanity;
and the findings table (claims W1-W5)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.findings import write_findings  # noqa: E402
from neurodyn.wang2021.collect import load_fits  # noqa: E402
from neurodyn.wang2021.findings import wang2021_findings  # noqa: E402
from neurodyn.wang2021.tables import write_tables  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    prov = run_provenance(sm)
    fits = load_fits(sm.input[0])
    write_tables(fits, sm.params.wang2021, dict(sm.output), prov)
    kato = {f.get("kato_source") for f in fits} - {None}
    nichols = {f.get("nichols_source") for f in fits} - {None}
    write_findings(wang2021_findings(fits, sm.params.wang2021), sm.output.findings,
                   sm.output.findings_md, prov,
                   title="Wang 2021: findings (claims W1-W5)",
                   note="Verdicts from rules fixed in neurodyn.wang2021.findings before the "
                   "run; intervals are 95 % t-intervals over training-worm combinations "
                   "(fold means; over folds when one combination). Kato worms: "
                   + ("REAL" if kato == {"real"} else "SYNTHETIC stand-ins, never evidence")
                   + "; Nichols worms: " + ("REAL" if nichols == {"real"} else "SYNTHETIC "
                   "stand-ins (W5 then rests on held-out real Kato worms, when Kato is real)")
                   + ".")
