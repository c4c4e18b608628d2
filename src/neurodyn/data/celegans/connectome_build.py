"""Derive the packaged White et al. (1986) connectome from the ``cect`` toolbox (run once).

``cect`` is large and pins its own dependencies, so it lives in a separate environment and is
imported lazily here; the rest of neurodyn only reads the shipped files (see ``connectome.py``).
Rebuild both packaged files with::

    PYTHONPATH=src CECTVENV/bin/python -m neurodyn.data.celegans.connectome_build \\
        --out src/neurodyn/data/celegans/connectome_white1986.nc \\
        --names-out src/neurodyn/data/celegans/neurons_302.txt

The NetCDF is byte-reproducible for a given cect / netCDF4 / HDF5 version: no timestamps in
the attributes and fixed chunking and compression settings.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

import numpy as np

from neurodyn.io.atomic import atomic_path

READER = "White_whole"
VIEW = "NEURONS_VIEW"
NAMES_ATTRIBUTE = "cect.Cells.PREFERRED_HERM_NEURON_NAMES"
CREATED_BY = "neurodyn.data.celegans.connectome_build"

# Values measured for cect 0.3.5, reader White_whole, view NEURONS_VIEW.
EXPECTED_N = 302
EXPECTED_CHEMICAL_NNZ = 2266
EXPECTED_CHEMICAL_SUM = 6509
EXPECTED_ELECTRICAL_NNZ = 1132
EXPECTED_ELECTRICAL_SUM = 1916

ORIENTATION = (
    "chemical[pre, post] = number of chemical synapses from pre onto post (row = presynaptic). "
    "electrical is symmetric: a gap junction between a and b is counted at both [a, b] and "
    "[b, a]; the diagonal holds self-contacts listed in the source (e.g. RID-RID)."
)


def _cect_version() -> str:
    return version("cect")


def _check(name: str, got: float, expected: float) -> None:
    if got != expected:
        raise RuntimeError(
            f"cect {_cect_version()} {READER}/{VIEW}: {name} is {got}, expected {expected}; "
            "the cect data changed - check the new values before shipping them"
        )


def _check_matrices(names: Sequence[str], chem: np.ndarray, gap: np.ndarray) -> None:
    _check("number of neurons", len(names), EXPECTED_N)
    _check("number of unique neurons", len(set(names)), EXPECTED_N)
    _check("chemical nonzeros", int(np.count_nonzero(chem)), EXPECTED_CHEMICAL_NNZ)
    _check("chemical total", float(chem.sum()), EXPECTED_CHEMICAL_SUM)
    _check("electrical nonzeros", int(np.count_nonzero(gap)), EXPECTED_ELECTRICAL_NNZ)
    _check("electrical total", float(gap.sum()), EXPECTED_ELECTRICAL_SUM)
    if not np.array_equal(gap, gap.T):
        raise RuntimeError(f"cect {_cect_version()} {READER}/{VIEW}: electrical not symmetric")


def _neurons_view():  # a cect ConnectomeDataset
    from cect.ConnectomeView import NEURONS_VIEW
    from cect.readers.White_whole import get_instance

    return get_instance().get_connectome_view(NEURONS_VIEW)


def build_white1986(out_path: Path) -> None:
    """Write the White 1986 (Varshney 2011 re-analysis) 302x302 connectome as NetCDF.

    Dims ``(pre, post)`` carry the 302 names in Python ``sorted()`` order; variables
    ``chemical`` and ``electrical`` are float32 synapse counts. Raises ``RuntimeError`` if the
    cect data do not give the expected counts.
    """
    import xarray as xr

    view = _neurons_view()
    nodes = list(view.nodes)
    names = sorted(nodes)
    order = [nodes.index(n) for n in names]
    idx = np.ix_(order, order)
    chem = np.asarray(view.connections["Chemical"], dtype=np.float64)[idx]
    gap = np.asarray(view.connections["Electrical"], dtype=np.float64)[idx]
    _check_matrices(names, chem, gap)

    cect_version = _cect_version()
    ds = xr.Dataset(
        {
            "chemical": (("pre", "post"), chem.astype(np.float32)),
            "electrical": (("pre", "post"), gap.astype(np.float32)),
        },
        coords={"pre": np.array(names, dtype=object), "post": np.array(names, dtype=object)},
        attrs={
            "title": "C. elegans hermaphrodite connectome, White et al. 1986 (302 neurons)",
            "source": (
                f"cect {cect_version}, reader {READER} (White et al. 1986 as re-analysed by "
                f"Varshney et al. 2011), view {VIEW}"
            ),
            "cect_version": cect_version,
            "reader": READER,
            "view": VIEW,
            "references": (
                "White JG, Southgate E, Thomson JN, Brenner S (1986) The structure of the "
                "nervous system of the nematode Caenorhabditis elegans. Phil Trans R Soc Lond B "
                "314:1-340, doi:10.1098/rstb.1986.0056; Varshney LR et al. (2011) PLoS Comput "
                "Biol 7:e1001066, doi:10.1371/journal.pcbi.1001066"
            ),
            "created_by": CREATED_BY,
            "orientation": ORIENTATION,
        },
    )
    ds["chemical"].attrs = {"long_name": "chemical synapse count", "units": "1"}
    ds["electrical"].attrs = {"long_name": "gap junction count (symmetric)", "units": "1"}
    ds["pre"].attrs = {"long_name": "presynaptic neuron"}
    ds["post"].attrs = {"long_name": "postsynaptic neuron"}
    matrix = {"zlib": True, "complevel": 9, "shuffle": True, "chunksizes": (EXPECTED_N,) * 2}
    encoding = {"chemical": matrix, "electrical": matrix}
    with atomic_path(out_path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=encoding)
        tmp.chmod(0o644)  # package data: readable by all (mkstemp gives 0600)


def write_neuron_names(out_path: Path) -> None:
    """Write the 302 names of ``cect.Cells.PREFERRED_HERM_NEURON_NAMES``, sorted, one per line.

    Raises ``RuntimeError`` unless they are the nodes of ``NEURONS_VIEW`` and include CANL/CANR.
    """
    from cect.Cells import PREFERRED_HERM_NEURON_NAMES

    names = sorted(PREFERRED_HERM_NEURON_NAMES)
    view_nodes = set(_neurons_view().nodes)
    if len(names) != EXPECTED_N or len(set(names)) != EXPECTED_N:
        raise RuntimeError(f"{NAMES_ATTRIBUTE} has {len(names)} names, expected {EXPECTED_N}")
    if set(names) != view_nodes:
        diff = sorted(set(names) ^ view_nodes)
        raise RuntimeError(f"{NAMES_ATTRIBUTE} differs from the {VIEW} nodes: {diff}")
    if not {"CANL", "CANR"} <= set(names):
        raise RuntimeError(f"{NAMES_ATTRIBUTE} lacks CANL/CANR")
    header = [
        "# The 302 canonical C. elegans hermaphrodite neuron names, one per line, in Python",
        "# sorted() order (the canonical slot order).",
        f"# Source: cect {_cect_version()}, attribute {NAMES_ATTRIBUTE};",
        f"# equal to the node set of cect {VIEW} (reader {READER}).",
        f"# Generated by {CREATED_BY} (--names-out).",
    ]
    with atomic_path(out_path) as tmp:
        tmp.write_text("\n".join(header + names) + "\n")
        tmp.chmod(0o644)  # package data: readable by all (mkstemp gives 0600)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``python -m neurodyn.data.celegans.connectome_build --out PATH``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="NetCDF file to write")
    parser.add_argument("--names-out", type=Path, help="also write the sorted 302 names here")
    args = parser.parse_args(argv)
    build_white1986(args.out)
    if args.names_out is not None:
        write_neuron_names(args.names_out)


if __name__ == "__main__":
    main()
