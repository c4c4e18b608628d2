"""Table 2 analog (NLB metrics per backend and baseline) and the sanity checks."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.autolfads.pipeline import read_json  # noqa: E402
from neurodyn.autolfads.tables import sanity, table2  # noqa: E402
from neurodyn.tables import write_table  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    records = [read_json(p) for p in sm.input]
    backends = list(sm.params.backends)
    prov = run_provenance(sm)
    sources = sorted({r["source"] for r in records})
    note = ("Data source: " + ", ".join(sources) + ". NLB metrics on the evaluation (test) "
            "trials; synthetic rows come from the maze-like stand-in, not from MC_Maze.")
    if "ray" not in backends:
        note += (" The Ray Tune backend was not run (add `ray` to autolfads.backends, with "
                 "`pip install -e '.[ray]'`), so there is no backend comparison here.")
    write_table(table2(records, backends), sm.output.table2, sm.output.table2_md, prov,
                "AutoLFADS Table 2 analog: NLB metrics per PBT backend", note)
    expected = sm.params.population * sm.params.generations
    write_table(sanity(records, backends, expected), sm.output.sanity, sm.output.sanity_md,
                prov, "AutoLFADS sanity checks", note)
