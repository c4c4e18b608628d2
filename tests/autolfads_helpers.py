"""Shared helpers of the AutoLFADS tests: the tables script run on hand-made records."""

from __future__ import annotations

import json
import runpy
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from conftest import REPO

TABLE_OUTPUTS = ("table2", "table2_md", "table2_prov", "sanity", "sanity_md", "sanity_prov",
                 "findings", "findings_md", "findings_prov")


def run_tables_script(tmp_path: Path, records: Sequence[Mapping[str, Any]],
                      **params: Any) -> SimpleNamespace:
    """Write ``records`` as evaluation files, run ``autolfads_tables.py`` on them with
    ``params`` (backends, seeds, population, generations, pbt, seed_offset) and return its
    output paths."""
    inputs = []
    for i, r in enumerate(records):
        path = tmp_path / f"record{i}.json"
        path.write_text(json.dumps(r))
        inputs.append(str(path))
    out = SimpleNamespace(**{n: str(tmp_path / n.replace("_", ".")) for n in TABLE_OUTPUTS})
    sm = SimpleNamespace(
        input=inputs, output=out, log=[], rule="autolfads_tables", wildcards={},
        scriptdir=str(REPO / "workflow/scripts"), config={"seed": 0},
        params=SimpleNamespace(**params))
    runpy.run_path(str(REPO / "workflow/scripts/autolfads_tables.py"),
                   init_globals={"snakemake": sm})
    return out
