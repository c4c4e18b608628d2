"""Opening NetCDF files with errors that name the file (shared by every schema's reader)."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from neurodyn.errors import InputError

ENGINE = "netcdf4"


def open_netcdf(path: str | Path, *, load: bool = True) -> xr.Dataset:
    """Open ``path`` (loaded into memory unless ``load`` is false); a missing or corrupt
    file raises :class:`InputError` naming it."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "(file)", "file does not exist")
    try:
        ds = xr.open_dataset(path, engine=ENGINE)
    except Exception as exc:  # netCDF4 raises OSError/RuntimeError/ValueError on corruption
        raise InputError(path, "(file)", f"not a readable NetCDF file ({exc})") from exc
    if load:
        with ds:
            ds = ds.load()
    return ds
