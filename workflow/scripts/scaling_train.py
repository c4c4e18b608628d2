"""Train one chunk of scaling fits in this process (through the shared fit runner)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.io.atomic import write_json  # noqa: E402
from neurodyn.io.calcium import open_calcium  # noqa: E402
from neurodyn.scaling.grid import Fit  # noqa: E402
from neurodyn.scaling.run import run_fits  # noqa: E402
from neurodyn.workflow import logged, run_provenance, train_settings  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    settings = train_settings(sm)
    fits = [Fit(**f) for f in sm.params.fits]
    records = run_fits(open_calcium(sm.input[0]), fits, sm.params.scaling,
                       Path(sm.params.workdir), settings, inputs=[sm.input[0]],
                       label=f"scaling {sm.wildcards.cohort} chunk{sm.wildcards.chunk}")
    prov = run_provenance(sm)
    write_json(sm.output[0], [{**r, "provenance": {k: v for k, v in prov.items()
                                                   if k != "config_json"}} for r in records])
