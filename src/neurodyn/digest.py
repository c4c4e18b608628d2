"""Content digests (torch-free): package code, input files, JSON-able specs.

Used by the rules (to rerun jobs whose code changed) and by the fit runner (to key fits).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

PACKAGE_ROOT = Path(__file__).resolve().parent


def json_digest(obj: Any) -> str:
    """sha256 (hex) of ``obj`` as sorted JSON; non-JSON values are taken as ``str``."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def _module_files(name: str, root: Path) -> list[Path]:
    """Files that importing ``neurodyn.a.b`` runs: each package ``__init__.py`` on the way
    and the module itself (nothing for names that are not modules, e.g. a function)."""
    parts = name.split(".")[1:]
    files = [root / "__init__.py"]
    for depth in range(1, len(parts) + 1):
        path = root.joinpath(*parts[:depth])
        if path.is_dir():  # a package (its __init__.py, if any, runs on import)
            files.append(path / "__init__.py")
        elif path.with_suffix(".py").is_file():
            files.append(path.with_suffix(".py"))
            break
        else:
            break
    return [f for f in files if f.is_file()]


@functools.cache
def _imported_files(file: Path, mtime_ns: int, root: Path) -> tuple[Path, ...]:
    """``neurodyn`` modules that ``file`` imports anywhere (top level or inside functions);
    none for a data file."""
    if file.suffix != ".py":
        return ()
    names: list[str] = []
    for node in ast.walk(ast.parse(file.read_bytes(), str(file))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    found: list[Path] = []
    for name in names:
        if name == "neurodyn" or name.startswith("neurodyn."):
            found += _module_files(name, root)
    return tuple(dict.fromkeys(found))


def import_closure(files: Iterable[Path], root: Path = PACKAGE_ROOT) -> list[Path]:
    """``files`` and every ``neurodyn`` module they import, transitively, sorted."""
    todo, seen = list(files), set()
    while todo:
        file = todo.pop()
        if file in seen:
            continue
        seen.add(file)
        todo += _imported_files(file, file.stat().st_mtime_ns, root)
    return sorted(seen)


def code_digest(*parts: str, root: Path = PACKAGE_ROOT) -> str:
    """Digest of package sources: each part is a module or data file, or a folder (``*.py``
    below it), relative to the ``neurodyn`` package, together with every ``neurodyn`` module
    they import (transitively), so a job's digest covers all the code it can run. The paths
    are hashed too, so a moved module counts."""
    root = root.resolve()
    files: list[Path] = []
    for part in parts:
        path = root / part
        if not path.exists():
            raise FileNotFoundError(f"code_digest: no module or folder {path}")
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in import_closure(files, root):
        digest.update(str(file.relative_to(root)).encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def file_digest(path: str | Path, chunk: int = 1 << 22) -> str:
    """sha256 (hex) of a file's bytes; of a folder (e.g. a zarr store), of every file below it
    with its relative path. A file's digest is computed once per process while its size and
    modification time stay the same (a job keys many fits on the same inputs)."""
    path = Path(path)
    if not path.is_dir():
        stat = path.stat()
        return _bytes_digest(path.resolve(), stat.st_size, stat.st_mtime_ns, chunk)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode() + b"\0")
        _feed_file(digest, file, chunk)
    return digest.hexdigest()


def _feed_file(digest: Any, file: Path, chunk: int) -> None:
    with file.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)


@functools.cache
def _bytes_digest(file: Path, size: int, mtime_ns: int, chunk: int) -> str:
    """sha256 of one file's bytes (``size`` and ``mtime_ns`` key the cache)."""
    digest = hashlib.sha256()
    _feed_file(digest, file, chunk)
    return digest.hexdigest()


def inputs_digest(paths: Iterable[str | Path] | Mapping[str, str | Path]) -> str:
    """Digest of the content of several input files (named or in order)."""
    items = paths.items() if isinstance(paths, Mapping) else enumerate(paths)
    return json_digest({str(k): file_digest(v) for k, v in items})
