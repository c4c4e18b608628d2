"""Writing result tables: CSV (data), Markdown (for reading) and a provenance sidecar."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from neurodyn.io.atomic import write_json, write_text


def provenance_path(csv_path: str | Path) -> Path:
    """The provenance sidecar of a CSV table (``x.csv`` → ``x.provenance.json``)."""
    return Path(csv_path).with_suffix(".provenance.json")


def markdown_safe(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``|`` escaped in text cells (a bare one would split a Markdown cell)."""
    text = table.select_dtypes(include="object").columns
    return table.assign(**{c: table[c].map(lambda v: v.replace("|", r"\|")
                                           if isinstance(v, str) else v) for c in text})


def write_table(table: pd.DataFrame, csv_path: str | Path, md_path: str | Path,
                prov: Mapping[str, Any], title: str, note: str = "") -> None:
    """Write ``table`` as CSV and Markdown (with a provenance footer) plus a JSON sidecar."""
    write_text(csv_path, table.to_csv(index=False, float_format="%.6g"))
    lines = [f"# {title}", ""]
    if note:
        lines += [note, ""]
    lines += [markdown_safe(table).to_markdown(index=False, floatfmt=".4g"), "", "---",
              "Provenance: " + ", ".join(f"{k}={v}" for k, v in prov.items()
                                         if k != "config_json"), ""]
    write_text(md_path, "\n".join(lines))
    write_json(provenance_path(csv_path), dict(prov))
