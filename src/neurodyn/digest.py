"""Content digests (torch-free): package code, input files, JSON-able specs.

Used by the rules (to rerun jobs whose code changed) and by the fit runner (to key fits).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

PACKAGE_ROOT = Path(__file__).resolve().parent


def json_digest(obj: Any) -> str:
    """sha256 (hex) of ``obj`` as sorted JSON; non-JSON values are taken as ``str``."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def code_digest(*parts: str, root: Path = PACKAGE_ROOT) -> str:
    """Digest of package sources: each part is a module file or a folder (``*.py`` below it),
    relative to the ``neurodyn`` package. The paths are hashed too, so a moved module counts."""
    digest = hashlib.sha256()
    for part in parts:
        path = root / part
        if not path.exists():
            raise FileNotFoundError(f"code_digest: no module or folder {path}")
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(str(file.relative_to(root)).encode() + b"\0")
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def file_digest(path: str | Path, chunk: int = 1 << 22) -> str:
    """sha256 (hex) of a file's bytes; of a folder (e.g. a zarr store), of every file below it
    with its relative path."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        with file.open("rb") as fh:
            while block := fh.read(chunk):
                digest.update(block)
    return digest.hexdigest()


def inputs_digest(paths: Iterable[str | Path] | Mapping[str, str | Path]) -> str:
    """Digest of the content of several input files (named or in order)."""
    items = paths.items() if isinstance(paths, Mapping) else enumerate(paths)
    return json_digest({str(k): file_digest(v) for k, v in items})
