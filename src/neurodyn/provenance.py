"""Provenance records attached to every output: config, seed, package version."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from neurodyn import __version__


def config_digest(config: Mapping[str, Any]) -> str:
    """A short, order-independent hash of a (JSON-able) config mapping."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def provenance(config: Mapping[str, Any] | None = None, seed: int | None = None,
               **extra: Any) -> dict[str, Any]:
    """Return a flat provenance record (no timestamps: outputs stay byte-reproducible)."""
    record: dict[str, Any] = {"neurodyn_version": __version__}
    if config is not None:
        record["config_sha256_16"] = config_digest(config)
        record["config_json"] = json.dumps(config, sort_keys=True, default=str)
    if seed is not None:
        record["seed"] = int(seed)
    record.update({k: v for k, v in extra.items() if v is not None})
    return record
