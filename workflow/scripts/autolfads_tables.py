"""Table 2 analog (NLB metrics per backend and baseline), the sanity checks and the findings
table (claims A1-A3)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.autolfads.findings import autolfads_findings  # noqa: E402
from neurodyn.autolfads.pipeline import read_json  # noqa: E402
from neurodyn.autolfads.tables import per_seed, sanity, table2  # noqa: E402
from neurodyn.findings import write_findings  # noqa: E402
from neurodyn.tables import write_table  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    records = [read_json(p) for p in sm.input]  # PBT, random and fixed records carry a seed
    backends, seeds = list(sm.params.backends), [int(s) for s in sm.params.seeds]
    prov = run_provenance(sm)
    sources = sorted({r["source"] for r in records})
    note = ("Data source: " + ", ".join(sources) + ". NLB metrics on the evaluation (test) "
            "trials; synthetic rows come from the maze-like stand-in, not from MC_Maze. "
            f"Mean over {len(seeds)} seed(s) (autolfads.seeds: {seeds}); *_sd: sample SD over "
            "seeds (empty with one seed); Gaussian smoothing is deterministic (one run).")
    if "ray" not in backends:
        note += (" The Ray Tune backend was not run (add `ray` to autolfads.backends, with "
                 "`pip install -e '.[ray]'`), so there is no backend comparison here.")
    write_table(table2(records, backends), sm.output.table2, sm.output.table2_md, prov,
                "AutoLFADS Table 2 analog: NLB metrics per PBT backend", note)
    expected = sm.params.population * sm.params.generations
    write_table(sanity(records, backends, expected), sm.output.sanity, sm.output.sanity_md,
                prov, "AutoLFADS sanity checks", note)
    findings_note = ("Verdicts from rules fixed in neurodyn.autolfads.findings before the run; "
                     "intervals are 95 % t-intervals over seeds (none with fewer than 2). "
                     + ("Data are SYNTHETIC (reaching stand-in generator), not MC_Maze. "
                        if "synthetic" in sources else "")
                     + f"PBT engines in this run: {', '.join(backends) or 'none'}; Ray "
                     f"seed_offset {sm.params.seed_offset}.")
    write_findings(autolfads_findings(per_seed(records, seeds), backends, sm.params.pbt,
                                      int(sm.params.seed_offset)),
                   sm.output.findings, sm.output.findings_md, prov,
                   title="Patel, Sedler et al. 2023 (AutoLFADS): findings (claims A1-A3)",
                   note=findings_note)
