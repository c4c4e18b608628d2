"""Gather per-fit metrics into one JSON file, and read it back."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from neurodyn.errors import InputError
from neurodyn.io.atomic import write_json

REQUIRED = ("task", "k", "combination", "fold", "arch", "kind")


def collect_fits(paths: Sequence[str | Path], out: str | Path,
                 prov: Mapping[str, Any]) -> None:
    """Write ``{"provenance": ..., "fits": [...]}`` with every fit's record; a fit's loss
    history is replaced by whether it was still improving at the end (the findings'
    evidence rule, :func:`neurodyn.wang2021.findings.still_improving`)."""
    from neurodyn.wang2021.findings import still_improving  # findings reads this module

    fits = []
    for path in paths:
        rec = json.loads(Path(path).read_text())
        missing = [k for k in REQUIRED if k not in rec]
        if missing:
            raise InputError(path, missing[0], "missing in a fit's metrics.json")
        rec.pop("provenance", None)
        rec["still_improving"] = still_improving(rec)
        rec.pop("val_loss_history", None)
        fits.append(rec)
    write_json(out, {"provenance": {k: v for k, v in prov.items() if k != "config_json"},
                     "fits": fits})


def load_fits(path: str | Path) -> list[dict[str, Any]]:
    return json.loads(Path(path).read_text())["fits"]


def data_source(fits: Sequence[Mapping[str, Any]]) -> str:
    """'synthetic', 'real' or 'mixed' over the Kato and Nichols data the fits used."""
    kinds = {f.get(k) for f in fits for k in ("kato_source", "nichols_source")} - {None}
    return kinds.pop() if len(kinds) == 1 else "mixed"
