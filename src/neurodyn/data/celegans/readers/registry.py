"""The real datasets: where their raw files go, how they are read, how they are labelled.

``read_raw_dataset(name, raw_dir)`` reads one raw folder into a ``neurodyn-calcium/1`` dataset.
Multi-file datasets read every expected file that is present (at least one is required).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import xarray as xr

from neurodyn.data.celegans.dataset_facts import (
    DAG_STATES,
    KATO_STATES,
    NICHOLS_STATES,
    REFERENCES,
    UNKNOWN_STATES,
)
from neurodyn.data.celegans.readers.flavell import read_dag, read_flavell
from neurodyn.data.celegans.readers.kato_export import read_kato_export
from neurodyn.data.celegans.readers.leifer import read_leifer
from neurodyn.data.celegans.readers.yemini import YEMINI_FILES, read_yemini
from neurodyn.data.celegans.readers.zimmer_mat import read_zimmer_mat
from neurodyn.errors import InputError
from neurodyn.io.calcium import WormRecord, assemble_calcium

Reader = Callable[[Path], list[WormRecord]]


@dataclass(frozen=True)
class DatasetSpec:
    """How one dataset's raw folder looks and is read."""

    name: str
    patterns: tuple[str, ...]  # globs relative to the raw folder; at least one must match
    read: Reader
    references: str
    states: tuple[str, ...] | None = None
    unknown_states: tuple[str, ...] = ()
    complete_lr: bool = False
    unknown_neuron_names: str = "error"  # "error" | "unlabel"


def _present(raw_dir: Path, patterns: tuple[str, ...]) -> list[Path]:
    return sorted({p for pat in patterns for p in raw_dir.glob(pat)})


def _zimmer(files: tuple[str, ...], states_field: str | None = None) -> Reader:
    def read(raw_dir: Path) -> list[WormRecord]:
        return [rec for name in files if (raw_dir / name).exists()
                for rec in read_zimmer_mat(raw_dir / name, states_field)]
    return read


def _read_yemini(raw_dir: Path) -> list[WormRecord]:
    return [rec for name in YEMINI_FILES if (raw_dir / name).exists()
            for rec in read_yemini(raw_dir / name)]


KATO_MAT = ("WT_Stim.mat", "WT_NoStim.mat")


def _read_kato(raw_dir: Path) -> list[WormRecord]:
    """``WT_Stim.mat`` / ``WT_NoStim.mat`` when present, else the npz/csv export layout."""
    if any((raw_dir / n).exists() for n in KATO_MAT):
        return _zimmer(KATO_MAT, "States")(raw_dir)
    records, states = read_kato_export(raw_dir)
    if tuple(states) != KATO_STATES:
        raise InputError(raw_dir / "labels_nc-mcm-visualizer", "states",
                         f"{tuple(states)} differs from {KATO_STATES}")
    return records


NICHOLS = ("n2_let.mat", "n2_prelet.mat", "npr1_let.mat", "npr1_prelet.mat")
SKORA = ("WT_fasted.mat", "WT_starved.mat")
KAPLAN = ("Neuron2019_Data_MNhisCl_RIShisCl.mat", "Neuron2019_Data_RIShisCl.mat",
          "Neuron2019_Data_SMDhisCl_RIShisCl.mat")

DATASETS: dict[str, DatasetSpec] = {s.name: s for s in (
    DatasetSpec(
        "Kato2015", (*KATO_MAT, "traces_nc-mcm/raw_full_data_worm_*.npz"), _read_kato,
        REFERENCES["Kato2015"],
        states=KATO_STATES, unknown_states=UNKNOWN_STATES["kato8"]),
    DatasetSpec(
        "Nichols2017", NICHOLS, _zimmer(NICHOLS, "FourStates"),
        REFERENCES["Nichols2017"],
        states=NICHOLS_STATES),
    DatasetSpec(
        "Skora2018", SKORA, _zimmer(SKORA),
        "Skora S, Mende F, Zimmer M (2018). Energy scarcity promotes a brain-wide sleep state "
        "modulated by insulin signaling in C. elegans. Cell Rep 22(4):953-966. "
        "doi:10.1016/j.celrep.2017.12.091"),
    DatasetSpec(
        "Kaplan2020", KAPLAN, _zimmer(KAPLAN),
        "Kaplan HS, Salazar Thula O, Khoss N, Zimmer M (2020). Nested neuronal dynamics "
        "orchestrate a behavioral hierarchy across timescales. Neuron 105(3):562-576.e9. "
        "doi:10.1016/j.neuron.2019.10.037"),
    DatasetSpec(
        "Yemini2021", YEMINI_FILES, _read_yemini,
        "Yemini E, Lin A, Nejatbakhsh A, Varol E, Sun R, Mena GE, Samuel ADT, Paninski L, "
        "Venkatachalam V, Hobert O (2021). NeuroPAL: a multicolor atlas for whole-brain "
        "neuronal identification in C. elegans. Cell 184(1):272-288.e11. "
        "doi:10.1016/j.cell.2020.12.012"),
    DatasetSpec(
        "Uzel2022", ("Uzel_WT.mat",), _zimmer(("Uzel_WT.mat",)),
        "Uzel K, Kato S, Zimmer M (2022). A set of hub neurons and non-local connectivity "
        "features support global brain dynamics in C. elegans. Curr Biol 32(16):3443-3459.e8. "
        "doi:10.1016/j.cub.2022.06.039"),
    DatasetSpec(
        "Flavell2023", ("*.h5", "*.json"), read_flavell,
        REFERENCES["Flavell2023"],
        complete_lr=True, unknown_neuron_names="unlabel"),
    DatasetSpec(
        "Leifer2023", ("*_gcamp.txt",), read_leifer,
        REFERENCES["Leifer2023"],
        complete_lr=True, unknown_neuron_names="unlabel"),
    DatasetSpec(
        "Dag2023", ("h5/*-data.h5", "*-data.h5"), read_dag,
        REFERENCES["Dag2023"],
        states=DAG_STATES, complete_lr=True),
)}

LAYOUT_HINTS = {
    "Kato2015": "WT_NoStim.mat and/or WT_Stim.mat (OSF 2395t), or the npz/csv export "
                "(traces_nc-mcm/, labels_nc-mcm-visualizer/)",
    "Flavell2023": "one <worm>.h5 or <worm>.json file per worm",
    "Leifer2023": "{i}_gcamp.txt, {i}_labels.txt, {i}_t.txt for i = 0, 1, ...",
    "Dag2023": "h5/<rec>-data.h5 and neuropal_ids/<rec> Neuron ID.xlsx",
}


def expected_files(name: str) -> str:
    """Human-readable description of the files a dataset's raw folder must contain."""
    return LAYOUT_HINTS.get(name, ", ".join(DATASETS[name].patterns))


def _relative(path: str, raw_dir: Path, name: str) -> str:
    try:
        return f"{name}/{Path(path).resolve().relative_to(raw_dir.resolve()).as_posix()}"
    except ValueError:
        return path


def read_raw_dataset(name: str, raw_dir: str | Path,
                     unknown_neuron_names: str | None = None) -> xr.Dataset:
    """Read dataset ``name`` from ``raw_dir`` and assemble it into the calcium schema."""
    raw_dir = Path(raw_dir)
    if name not in DATASETS:
        raise InputError(raw_dir, "dataset", f"unknown dataset {name!r}; known: "
                         f"{', '.join(DATASETS)}")
    spec = DATASETS[name]
    where = f"put {expected_files(name)} into {raw_dir}"
    if not raw_dir.is_dir():
        raise InputError(raw_dir, "raw_dir", f"folder does not exist; {where}")
    if not _present(raw_dir, spec.patterns):
        raise InputError(raw_dir, "files", f"no {name} raw files found; {where}")
    records = spec.read(raw_dir)
    for rec in records:  # machine-independent provenance: paths relative to the raw folder
        rec.source_file = _relative(rec.source_file, raw_dir, name)
    return assemble_calcium(
        records, name, states=spec.states, unknown_states=spec.unknown_states,
        references=spec.references, complete_lr=spec.complete_lr,
        unknown_neuron_names=unknown_neuron_names or spec.unknown_neuron_names,
    )
