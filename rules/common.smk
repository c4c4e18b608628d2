# Shared helpers: config validation, dataset lists, target lists, wildcard constraints.
import sys
from pathlib import Path

from snakemake.utils import validate


validate(config, schema="../config/config.schema.yaml")

sys.path.insert(0, str(Path(workflow.basedir, "src")))  # neurodyn, also without pip install
from neurodyn.digest import code_digest  # noqa: E402  (torch-free)
from neurodyn.scaling.grid import grid as scaling_grid  # noqa: E402  (torch-free)


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


def _gpu_visible():
    """A CUDA driver is visible here (checked without importing torch)."""
    return Path("/proc/driver/nvidia/gpus").is_dir() and any(
        Path("/proc/driver/nvidia/gpus").iterdir()
    )


TRAIN_GPUS = int(
    TRAIN.get("device", "auto") == "cuda"
    or (TRAIN.get("device", "auto") == "auto" and _gpu_visible())
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
DOWNLOAD_PATTERN = str(Path(DATA["download"]["dir"]) / "{dataset}" / "{file}")


def real_dir(dataset):
    """Raw folder of a real dataset: the download folder when downloads are on."""
    if dataset in DOWNLOAD_SETS:
        return Path(DATA["download"]["dir"]) / dataset
    return Path(DATA["real"]["dirs"][dataset])


# Real datasets used in this run: downloadable ones when downloads are on, else those whose
# folder exists (e.g. ../shared/data/real on the developers' machines and in CI).
REAL_DATASETS = sorted(
    set(DOWNLOAD_SETS)
    | {d for d in DATA["real"]["dirs"] if real_dir(d).is_dir()}
)
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


def download_item(wildcards):
    for item in DOWNLOAD_SETS[wildcards.dataset]:
        if item["file"] == wildcards.file:
            return item
    raise ValueError(f"{wildcards.file} is not in data.download.sets.{wildcards.dataset}")


def illustration_dataset(wildcards):
    """The dataset drawn in the preprocessing figure: Kato2015 when present."""
    names = datasets_of(wildcards)
    return "Kato2015" if "Kato2015" in names else names[0]


SCALING = config.get("scaling", {})
SCALING_CODE = code_version(
    "__init__.py", "errors.py", "provenance.py", "workflow.py", "tables.py", "io", "models",
    "scaling", "train", "data/synthetic_controls.py", "plots", "figures/scaling.py",
)
SCALING_COHORTS = list(SCALING.get("cohorts", []))
if "real" in SCALING_COHORTS and "real" not in SOURCES:
    raise ValueError(
        "config scaling.cohorts lists 'real' but no real dataset is available "
        "(data.real.dirs folders are missing and downloads are off)"
    )


_SCALING_GRID = []


def scaling_fit_grid():
    """All fits of one cohort, from config (the same for every cohort); computed once, since
    every training job of the paper-scale DAG asks for its slice."""
    if not _SCALING_GRID:
        _SCALING_GRID.extend(scaling_grid(SCALING))
    return _SCALING_GRID


def scaling_n_chunks():
    return -(-len(scaling_fit_grid()) // SCALING["fits_per_job"])


def scaling_chunk_fits(wildcards):
    per_job = SCALING["fits_per_job"]
    start = int(wildcards.chunk) * per_job
    return [vars(fit) for fit in scaling_fit_grid()[start : start + per_job]]


def scaling_cohort_data(wildcards):
    if wildcards.cohort in ("synthetic", "real"):
        return f"results/data/{wildcards.cohort}/processed/combined.nc"
    return f"results/data/controls/{wildcards.cohort}.nc"


def scaling_chunk_files(wildcards):
    return expand(
        "results/scaling/{cohort}/fits/chunk{chunk}.json",
        cohort=wildcards.cohort,
        chunk=range(scaling_n_chunks()),
    )


def scaling_fit_tables(wildcards):
    return expand("results/scaling/{cohort}/fits.csv", cohort=SCALING_COHORTS)


def scaling_targets():
    if not SCALING_COHORTS:
        return []
    figures = ["data_scaling", "model_scaling", "generation"]
    experimental = [c for c in SCALING_COHORTS if c in ("synthetic", "real")]
    return expand(
        "results/scaling/{cohort}/figures/{figure}.png",
        cohort=SCALING_COHORTS,
        figure=figures,
    ) + expand(
        "results/scaling/{cohort}/figures/source_slopes.png", cohort=experimental
    ) + [
        f"results/scaling/tables/{name}.{ext}"
        for name in ("table2", "slopes", "sanity")
        for ext in ("csv", "md")
    ]


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
