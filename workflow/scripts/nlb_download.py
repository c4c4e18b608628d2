"""Fetch one pinned NLB NWB file (URL + sha256); offline, fail with where to put it."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.download import fetch_verified  # noqa: E402
from neurodyn.workflow import logged  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    fetch_verified(sm.params.item["url"], sm.params.item["sha256"], Path(sm.output[0]))
