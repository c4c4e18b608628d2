"""neurodyn: reproducible workflows for five neural-dynamics papers."""

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def _source_version() -> str:
    """Version from pyproject.toml when running from a source tree (e.g. conda rule envs)."""
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        return tomllib.loads(pyproject.read_text())["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0.0.0+unknown"


try:
    __version__ = version("neurodyn")
except PackageNotFoundError:
    __version__ = _source_version()
