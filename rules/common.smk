# Shared helpers: config validation, dataset lists, target lists, wildcard constraints.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate


validate(config, schema="../config/config.schema.yaml")

sys.path.insert(0, str(Path(workflow.basedir, "src")))  # neurodyn, also without pip install
from neurodyn.digest import code_digest  # noqa: E402  (torch-free)
from neurodyn.train.device import driver_sees_gpu  # noqa: E402  (torch-free)


def take_run_lock():
    """One run per results/ folder (neurodyn.runlock; called by `onstart` in the Snakefile)."""
    from neurodyn.runlock import RunLockedError, acquire

    try:
        acquire("results")
    except RunLockedError as err:
        raise WorkflowError(str(err)) from None


def code_version(*parts):
    """Hash of the package sources that a group of jobs runs. Editing them reruns the jobs
    (Snakemake itself only tracks the thin scripts, not the modules they import)."""
    return code_digest(*parts, root=Path(workflow.basedir, "src", "neurodyn"))


# ---------------------------------------------------------------- training jobs (all studies)
# The one place that decides how training rules run: `resources: gpu=TRAIN_GPUS` and
# `conda: TORCH_ENV` in every training rule. With train.device auto, a machine whose driver
# shows a GPU gives each training job one GPU, so `--resources gpu=1` runs them one at a time;
# the SLURM profile sets GPUs per rule itself.
TRAIN = config.get("train", {})


TRAIN_GPUS = int(
    TRAIN.get("device", "auto") == "cuda"
    or (TRAIN.get("device", "auto") == "auto" and driver_sees_gpu())
)
TORCH_ENV = "../envs/torch-gpu.yaml" if TRAIN_GPUS else "../envs/torch-cpu.yaml"


DATA_CODE = code_version(
    "__init__.py", "errors.py", "provenance.py", "workflow.py", "tables.py", "download.py",
    "io/__init__.py", "io/atomic.py", "io/netcdf.py", "io/hdf5.py", "io/calcium.py",
    "data/__init__.py", "data/celegans", "data/synthetic_controls.py", "plots",
    "figures/datasets.py",
)

DATA = config["data"]
SYNTHETIC_DATASETS = list(DATA["synthetic"]["worms"])
DOWNLOAD_SETS = DATA["download"].get("sets", {}) if DATA["download"]["enabled"] else {}


def real_dir(dataset):
    """Raw folder of a real dataset: the download folder when downloads are on."""
    if dataset in DOWNLOAD_SETS:
        return Path(DATA["download"]["dir"]) / dataset
    return Path(DATA["real"]["dirs"][dataset])


# Real datasets used in this run: the downloadable ones when downloads are on, and every
# folder named in data.real.dirs (config/real_shared.yaml: the developers' copies).
for _name, _folder in DATA["real"]["dirs"].items():
    if _name not in DOWNLOAD_SETS and not Path(_folder).is_dir():
        raise WorkflowError(
            f"config data.real.dirs.{_name}: folder {_folder} ({Path(_folder).resolve()}) "
            "does not exist; fix the path or remove the entry"
        )
REAL_DATASETS = sorted(set(DOWNLOAD_SETS) | set(DATA["real"]["dirs"]))
SOURCES = {"synthetic": SYNTHETIC_DATASETS, "real": REAL_DATASETS}
SOURCES = {s: ds for s, ds in SOURCES.items() if ds}
ALL_DATASET_NAMES = sorted(set(SYNTHETIC_DATASETS) | set(REAL_DATASETS))


wildcard_constraints:
    source="synthetic|real",
    cohort="synthetic|real|sines|randomwalk",
    kind="sines|randomwalk",
    chunk=r"\d+",
    dataset="|".join(ALL_DATASET_NAMES) or "none",


def datasets_of(wildcards):
    return SOURCES[wildcards.source]


def raw_files(wildcards):
    return expand(
        "results/data/{source}/raw/{dataset}.nc",
        source=wildcards.source,
        dataset=datasets_of(wildcards),
    )


def processed_files(wildcards):
    return expand(
        "results/data/{source}/processed/{dataset}.nc",
        source=wildcards.source,
        dataset=datasets_of(wildcards),
    )


def real_inputs(wildcards):
    """Raw files a real dataset is read from (downloads, or the files in its folder)."""
    if wildcards.dataset in DOWNLOAD_SETS:
        return [
            str(real_dir(wildcards.dataset) / item["file"])
            for item in DOWNLOAD_SETS[wildcards.dataset]
        ]
    root = real_dir(wildcards.dataset)
    return sorted(str(p) for p in root.rglob("*") if p.is_file() and p.suffix != ".md")


def illustration_dataset(wildcards):
    """The dataset drawn in the preprocessing figure: Kato2015 when present."""
    names = datasets_of(wildcards)
    return "Kato2015" if "Kato2015" in names else names[0]


def data_targets():
    out = []
    for source in SOURCES:
        out += [
            f"results/data/{source}/processed/combined.nc",
            f"results/data/{source}/tables/table1.csv",
            f"results/data/{source}/tables/table1.md",
            f"results/data/{source}/figures/overview.png",
            f"results/data/{source}/figures/coverage.png",
            f"results/data/{source}/figures/preprocessing.png",
        ]
    return out
