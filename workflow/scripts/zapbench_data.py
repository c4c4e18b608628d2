"""Write one ZAPBench recording as NetCDF: a synthetic specimen or a real sub-crop."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.workflow import logged, run_provenance  # noqa: E402
from neurodyn.zapbench.prepare import write_recording  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    write_recording(sm.params.zapbench, int(sm.wildcards.specimen), int(sm.params.seed),
                    sm.output[0], run_provenance(sm, specimen=int(sm.wildcards.specimen)),
                    sm.params.contexts)
