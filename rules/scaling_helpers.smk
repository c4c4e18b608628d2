# Helpers of rules/scaling.smk (Simeon et al. 2024): fit grid, chunks and targets from config.
from neurodyn.scaling.grid import grid as scaling_grid  # noqa: E402  (torch-free)
from neurodyn.scaling.keys import TRAIN_CODE as SCALING_TRAIN_PARTS  # noqa: E402
from neurodyn.scaling.keys import fit_settings as scaling_fit_settings  # noqa: E402
from neurodyn.scaling.windows import usable_worms as scaling_usable_worms  # noqa: E402

SCALING = config.get("scaling", {})
# Training jobs: the code their fits run (the runner keys fits by it too) and the glue.
SCALING_TRAIN_CODE = code_version(*SCALING_TRAIN_PARTS, "provenance.py", "workflow.py")
# Collection, figures and tables.
SCALING_CODE = code_version(
    "__init__.py", "errors.py", "provenance.py", "workflow.py", "tables.py", "io",
    "scaling", "data/synthetic_controls.py", "plots",
)
SCALING_COHORTS = list(SCALING.get("cohorts", []))
if "real" in SCALING_COHORTS and "real" not in SOURCES:
    raise ValueError(
        "config scaling.cohorts lists 'real' but no real dataset is available "
        "(data.real.dirs is empty and downloads are off; developers: add "
        "--configfile config/real_shared.yaml)"
    )


_SCALING_GRIDS = {}


def scaling_cohort_worms(cohort):
    """Usable worms of a cohort: the control generator's count from config; for C. elegans
    cohorts the worms of the combined file long enough for the windows (``combine`` is a
    checkpoint, so the grid of a real cohort is planned once its file exists)."""
    if cohort not in ("synthetic", "real"):
        return int(SCALING["controls"]["n_worms"])
    path = checkpoints.combine.get(source=cohort).output[0]
    return scaling_usable_worms(path, SCALING["seq_len"])


def scaling_fit_grid(cohort):
    """All fits of one cohort, from config and the cohort's worm count (levels above it are
    capped and each distinct count planned once); computed once per cohort, since every
    training job of the paper-scale DAG asks for its slice."""
    if cohort not in _SCALING_GRIDS:
        _SCALING_GRIDS[cohort] = scaling_grid(SCALING, scaling_cohort_worms(cohort), cohort)
    return _SCALING_GRIDS[cohort]


def scaling_train_params():
    """The config values training jobs read (not cohorts, grid or job size: changing those
    reruns no training job, and the fit runner's keys decide what retrains)."""
    return scaling_fit_settings(SCALING) if SCALING else {}


def scaling_n_chunks(cohort):
    return -(-len(scaling_fit_grid(cohort)) // SCALING["fits_per_job"])


def scaling_chunk_fits(wildcards):
    per_job = SCALING["fits_per_job"]
    start = int(wildcards.chunk) * per_job
    return [vars(fit) for fit in scaling_fit_grid(wildcards.cohort)[start : start + per_job]]


def scaling_cohort_data(wildcards):
    if wildcards.cohort in ("synthetic", "real"):
        return f"results/data/{wildcards.cohort}/processed/combined.nc"
    return f"results/data/controls/{wildcards.cohort}.nc"


def scaling_chunk_files(wildcards):
    return expand(
        "results/scaling/{cohort}/fits/chunk{chunk}.json",
        cohort=wildcards.cohort,
        chunk=range(scaling_n_chunks(wildcards.cohort)),
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
    ] + ["results/scaling/findings.csv", "results/scaling/findings.md"]
