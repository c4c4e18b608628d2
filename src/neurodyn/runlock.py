"""One workflow run per results folder.

The main Snakemake process takes an exclusive ``flock`` on ``<results>/.neurodyn.lock``
(``rules/common.smk``, ``onstart``) and keeps it until it exits. A second run on the same
folder stops at once, naming the lock file and the PID holding it. The kernel drops the lock
when the holder dies, even by ``kill -9``, so no ``--unlock`` step is ever needed.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
from pathlib import Path

LOCK_NAME = ".neurodyn.lock"
log = logging.getLogger("neurodyn")

_held: dict[Path, int] = {}  # resolved lock path -> open descriptor holding the lock


class RunLockedError(RuntimeError):
    """Another live process holds the run lock of this results folder."""

    def __init__(self, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        who = f"PID {pid}" if pid is not None else "another process"
        super().__init__(
            f"another neurodyn run is using {path.parent}/: {path} is locked by {who}. "
            f"Wait for that run to end or stop it (kill {pid if pid is not None else '<pid>'}); "
            "its lock goes away with the process, no --unlock needed."
        )


def lock_path(results: str | Path = "results") -> Path:
    """The lock file of a results folder."""
    return Path(results) / LOCK_NAME


def holder_pid(path: str | Path) -> int | None:
    """The PID written into a lock file by its last holder (None if unreadable)."""
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def acquire(results: str | Path = "results") -> Path:
    """Lock ``results`` for this process (idempotent); raise :class:`RunLockedError` if a
    live process holds it. On a file system without ``flock`` support, warn and go on."""
    path = lock_path(results)
    key = path.resolve()
    if key in _held:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by job processes
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise RunLockedError(path, holder_pid(path)) from None
    except OSError as err:  # e.g. ENOLCK: a network file system mounted without locks
        os.close(fd)
        if err.errno in (errno.EAGAIN, errno.EACCES):
            raise RunLockedError(path, holder_pid(path)) from None
        log.warning("%s: cannot lock (%s); do not start two runs on this folder", path, err)
        return path
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held[key] = fd
    return path


def release(results: str | Path = "results") -> None:
    """Drop this process's lock on ``results`` (exiting does the same)."""
    fd = _held.pop(lock_path(results).resolve(), None)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
