"""Train one job's Wang 2021 fits (batched ensembles of folds) through the shared fit runner."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.train.runtime import quiet_lightning  # noqa: E402
from neurodyn.wang2021.grid import Fit  # noqa: E402
from neurodyn.wang2021.job import run_job  # noqa: E402
from neurodyn.workflow import logged, run_provenance, train_settings  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    quiet_lightning()
    prov = {k: v for k, v in run_provenance(sm).items() if k != "config_json"}
    run_job(sm.input.kato, sm.input.nichols, [Fit(**f) for f in sm.params.fits],
            sm.params.wang2021, sm.params.seed, train_settings(sm), Path("results/wang2021"),
            Path(sm.params.work), prov)
