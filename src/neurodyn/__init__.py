"""neurodyn: reproducible workflows for five neural-dynamics papers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("neurodyn")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"
