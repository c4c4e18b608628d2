"""The packaged C. elegans White et al. (1986) connectome (302 neurons).

``connectome_white1986.nc`` was derived once from ``cect`` (reader White_whole, i.e. the
Varshney et al. 2011 re-analysis, view NEURONS_VIEW) by ``connectome_build``; its attributes
record the provenance. Dims are ``(pre, post)`` in Python ``sorted()`` name order:
``chemical[a, b]`` counts synapses from ``a`` onto ``b``; ``electrical`` is symmetric.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Literal

import numpy as np
import xarray as xr

FILENAME = "connectome_white1986.nc"

Kind = Literal["union", "chemical", "electrical"]


def load_connectome(names: Sequence[str] | None = None) -> xr.Dataset:
    """Load the connectome into memory, optionally restricted to ``names`` on both axes.

    With ``names`` the result follows their order; unknown names raise ``KeyError``.
    """
    with resources.as_file(resources.files(__package__).joinpath(FILENAME)) as path:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            ds = ds.load()
    if names is None:
        return ds
    names = list(names)
    known = set(ds["pre"].values.tolist())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"unknown neuron names (not among the 302): {', '.join(unknown)}")
    return ds.sel(pre=names, post=names)


def adjacency(
    names: Sequence[str] | None = None, kind: Kind = "union", binary: bool = True
) -> np.ndarray:
    """Adjacency matrix ``A[pre, post]`` over ``names`` (all 302 if ``None``), float64.

    ``kind``: ``"chemical"`` synapse counts, ``"electrical"`` gap-junction counts (symmetric),
    or ``"union"`` = chemical + electrical + electricalᵀ. With ``binary`` the result is
    ``1.0`` where that sum is > 0, else ``0.0``. The diagonal is kept (the data hold a few
    gap-junction self-contacts, e.g. RID).
    """
    if kind not in ("union", "chemical", "electrical"):
        raise ValueError(f"kind must be 'union', 'chemical' or 'electrical', not {kind!r}")
    ds = load_connectome(names)
    chem = ds["chemical"].values.astype(np.float64)
    gap = ds["electrical"].values.astype(np.float64)
    if kind == "chemical":
        mat = chem
    elif kind == "electrical":
        mat = gap
    else:
        mat = chem + gap + gap.T
    return (mat > 0).astype(np.float64) if binary else mat
