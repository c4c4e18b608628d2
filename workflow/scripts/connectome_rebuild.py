"""Rebuild the White 1986 connectome NetCDF with cect (optional rule)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.data.celegans.connectome_build import build_white1986  # noqa: E402
from neurodyn.workflow import logged  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    build_white1986(Path(sm.output[0]))
