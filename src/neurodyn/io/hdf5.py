"""Opening HDF5 files (MATLAB v7.3, NWB, Flavell-lab h5) with errors that name the file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py

from neurodyn.errors import InputError


@contextmanager
def open_h5(path: str | Path, kind: str = "HDF5") -> Iterator[h5py.File]:
    """Open an HDF5 file read-only; a missing or corrupt file raises :class:`InputError`
    (``kind`` names the expected format in the message)."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "(file)", "file does not exist")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(path, "(file)", f"not a readable {kind} file ({exc})") from exc
    with f:
        yield f
