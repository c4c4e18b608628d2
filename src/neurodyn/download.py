"""Pinned downloads: fetch a URL and verify its sha256 before the file is used."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path

from neurodyn.errors import InputError
from neurodyn.io.atomic import atomic_path

TIMEOUT_S = 30


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_verified(url: str, sha256: str | None, out: Path) -> None:
    """Download ``url`` to ``out``; the file appears only if its sha256 matches."""
    help_text = (f"Download it by hand from {url}, check its sha256, and put it at {out} "
                 "(or set data.real.dirs to the folder holding the raw files).")
    with atomic_path(out) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp, tmp.open("wb") as fh:
                while chunk := resp.read(1 << 20):
                    fh.write(chunk)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise InputError(url, "download", f"cannot fetch ({exc}). {help_text}") from exc
        got = sha256_of(tmp)
        if sha256 is None:
            raise InputError(url, "sha256", f"no pinned sha256 in config; the download has "
                             f"sha256 {got}. Verify it against the publisher and pin it in "
                             f"data.download.sets to use the file.")
        if got != sha256:
            raise InputError(url, "sha256", f"mismatch: expected {sha256}, got {got}. "
                             f"{help_text}")
