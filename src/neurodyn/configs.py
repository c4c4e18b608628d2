"""Config overlays merged as Snakemake merges ``--configfile`` files (nested update)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def merge_config(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` merged into a copy of ``base``: mappings recursively, anything else replaced."""
    out = dict(base)
    for key, value in over.items():
        out[key] = (merge_config(out[key], value)
                    if isinstance(value, dict) and isinstance(out.get(key), dict) else value)
    return out


def load_config(root: str | Path, *overlays: str) -> dict[str, Any]:
    """``config/config.yaml`` below ``root`` with the overlay files (paths below ``root``)
    merged over it, in order."""
    import yaml

    cfg: dict[str, Any] = {}
    for name in ("config/config.yaml", *overlays):
        cfg = merge_config(cfg, yaml.safe_load((Path(root) / name).read_text()) or {})
    return cfg
