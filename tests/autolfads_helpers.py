"""Shared helpers of the AutoLFADS tests: the tables script run on hand-made records, and the
tiny data, model and HPs of the member-training tests."""

from __future__ import annotations

import json
import runpy
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from conftest import REPO

# member-training tests: a small reaching stand-in and a tiny LFADS
MEMBER_DATA = {"n_neurons": 20, "n_heldout": 5, "n_conditions": 4, "trials_per_condition": 10,
               "bin_width_s": 0.02, "window_s": [-0.25, 0.35], "n_forward_bins": 5}
MEMBER_MODEL = {"ic_enc_dim": 8, "ci_enc_dim": 8, "con_dim": 8, "co_dim": 1, "ic_dim": 8,
                "gen_dim": 12, "fac_dim": 4, "l2_increase_epoch": 2, "kl_increase_epoch": 2}
MEMBER_HPS = {"lr_init": 0.01, "dropout_rate": 0.1, "cd_rate": 0.3, "kl_ic_scale": 1e-4,
              "kl_co_scale": 1e-4, "l2_gen_scale": 1e-2, "l2_con_scale": 1e-2}
MEMBER_METRIC = "valid/recon_heldin_smth"
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
