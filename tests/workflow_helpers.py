"""Run the workflow in a throw-away copy of the repository (as a fresh clone would)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

COPIED = ("Snakefile", "rules", "workflow", "config", "envs", "profiles", "src", "tests/data")


def clone_repo(dest: Path) -> Path:
    """Copy the files the workflow needs into ``dest`` (without results or caches)."""
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    (dest / "slurm").symlink_to("profiles/slurm")
    return dest


def snakemake_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", *args]


def run_snakemake(cwd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run snakemake in ``cwd``; return the completed process (never raises on failure)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(snakemake_cmd(*args), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def merged_config(*names: str) -> dict:
    """config/config.yaml with the given overlay files merged over it (nested update, as
    Snakemake merges ``--configfile`` overlays)."""
    from neurodyn.configs import load_config

    return load_config(REPO, *names)
