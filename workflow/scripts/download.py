"""Download one pinned file and verify its sha256 before it is used."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.download import fetch_verified  # noqa: E402
from neurodyn.workflow import logged  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    item = sm.params.item
    fetch_verified(item["url"], item["sha256"], Path(sm.output[0]))
