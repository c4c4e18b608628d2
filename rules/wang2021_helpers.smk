# Wang 2021: configuration, inputs, fan-out and targets (functions only; the study's rules
# are in rules/wang2021.smk, which includes this file).
from neurodyn.wang2021 import grid as wang2021_grid  # noqa: E402  (torch-free)

WANG = config.get("wang2021", {})
# Training jobs rerun when the code of a fit changes (the same parts key the fits in the
# runner); tables, figures and collection also rerun on the study's other modules.
WANG_TRAIN_CODE = code_version(
    "__init__.py", "provenance.py", "workflow.py", *wang2021_grid.TRAIN_CODE
)
WANG_CODE = code_version(
    "__init__.py", "errors.py", "provenance.py", "workflow.py", "tables.py", "io", "plots",
    "wang2021", "data/celegans/connectome.py", "data/celegans/connectome_white1986.nc",
    "data/celegans/dataset_facts.py", "data/celegans/names.py",
)
WANG_WORK = "results/wang2021/work"
WANG_FIT = "results/wang2021/{task}/k{k}/{combination}/fold{fold}/{arch}/metrics.json"
WANG_TABLES = ["table2_1", "accuracy_by_k", "trajectory_mse", "without_ava",
               "edges_connectome", "sanity"]
WANG_FIGURES = ["fig2_2a", "fig2_2b", "fig2_2c", "fig2_3a", "fig2_3b", "without_ava",
                "edges_connectome"]


WANG_DATA_CODE = code_version(
    "__init__.py", "errors.py", "io", "data/celegans/preprocess.py", "wang2021/prepare.py"
)
WANG_DATASETS = {"kato": "Kato2015", "nichols": "Nichols2017"}


def wang2021_input(dataset, source):
    """Wang's own preprocessing product of a dataset (rule wang2021_data, from the data
    rules' raw file), or a clear error if the run does not build that dataset."""
    if dataset not in SOURCES.get(source, []):
        raise ValueError(
            f"config wang2021 needs {dataset} from the '{source}' source, which this run "
            f"does not build (data.synthetic.worms / data.real.dirs)"
        )
    return f"results/wang2021/data/{source}/{dataset}.nc"


def wang2021_worm_files(wildcards):
    """Raw files (pattern -> worms) the study takes its worms from (real recordings)."""
    return dict((WANG.get("worm_files") or {}).get(wildcards.dataset) or {})


def wang2021_inputs():
    return {
        "kato": wang2021_input(WANG_DATASETS["kato"], WANG["source"]),
        "nichols": wang2021_input(WANG_DATASETS["nichols"], WANG["nichols_source"]),
    }


def wang2021_all_fits():
    return wang2021_grid.fits(WANG)


def wang2021_fit_files():
    return [f"results/wang2021/{fit.path}/metrics.json" for fit in wang2021_all_fits()]


WANG_JOB_KEYS = {
    "fit": ("task", "k", "combination", "fold", "arch"),
    "folds": ("task", "k", "combination", "arch"),
    "combination": ("k", "combination"),
}


def wang2021_job_index():
    """Fits per job, keyed by the job's wildcard values (built once)."""
    if not hasattr(wang2021_job_index, "index"):
        keys = WANG_JOB_KEYS[WANG["job"]]
        index = {}
        for fit in wang2021_all_fits():
            index.setdefault(tuple(str(getattr(fit, k)) for k in keys), []).append(vars(fit))
        wang2021_job_index.index = index
    return wang2021_job_index.index


def wang2021_job_fits(wildcards):
    """The fits of one job (matching its wildcards), as plain dicts."""
    key = tuple(str(wildcards[k]) for k in WANG_JOB_KEYS[WANG["job"]])
    return wang2021_job_index()[key]


# The wildcards of one training job, per wang2021.job (also its log and benchmark names).
WANG_JOB = {
    "fit": "{task}/k{k}/{combination}/fold{fold}/{arch}",
    "folds": "{task}/k{k}/{combination}/{arch}",
    "combination": "k{k}/{combination}",
}.get(WANG.get("job"), "")
if WANG:
    WANG_TASKS = "|".join(WANG["tasks"])
    WANG_ARCHS = "|".join(sorted({a for s in WANG["tasks"].values() for a in s["archs"]}))
    WANG_COMBO = r"w\d+(-\d+)*"


# What a training job reads of the config: not the switch, the grid (k, combinations, folds
# run, job mode) or table settings, so changing those reruns no finished job (and the fit
# runner reuses every fit whose own config is unchanged when a job does rerun).
WANG_TRAIN_CONFIG = {
    key: value
    for key, value in WANG.items()
    if key not in ("enabled", "k", "max_combinations", "table_k", "folds", "job", "tasks")
}
if WANG:  # the tasks without their own grid lists (k, folds)
    WANG_TRAIN_CONFIG["tasks"] = {
        task: {key: value for key, value in spec.items() if key not in ("k", "folds")}
        for task, spec in WANG["tasks"].items()
    }


def wang2021_job_outputs(k=None):
    """Per-fit metrics.json files of one training job; ``k`` is the training-worm count of
    its training rule when tasks run their own k lists (wang2021_train_rules)."""
    if WANG["job"] == "combination":
        return [
            f"results/wang2021/{path}/metrics.json"
            for path in wang2021_grid.combination_job_outputs(WANG, k)
        ]
    if any("folds" in spec for spec in WANG["tasks"].values()):
        raise ValueError(
            "config wang2021: tasks with their own 'folds' need wang2021.job: combination"
        )
    if WANG["job"] == "folds":
        return expand(
            "results/wang2021/{{task}}/k{{k}}/{{combination}}/fold{fold}/{{arch}}/metrics.json",
            fold=WANG["folds"],
        )
    return WANG_FIT


def wang2021_train_rules():
    """Name and k of each training rule. A single one for every k, or in 'combination' jobs
    with per-task grids one rule per k (a job's outputs are the tasks run at its k, and
    Snakemake rules have fixed output patterns)."""
    if WANG["job"] == "combination" and wang2021_grid.has_task_grids(WANG):
        return [(f"wang2021_train_k{k}", k) for k in wang2021_grid.k_values(WANG)]
    return [("wang2021_train", None)]


def wang2021_targets():
    """Final outputs of this study in the main job (none until its section of the config exists)."""
    if "wang2021" not in config:
        return []
    return [
        f"results/wang2021/tables/{name}.{ext}" for name in WANG_TABLES for ext in ("csv", "md")
    ] + [f"results/wang2021/figures/{name}.png" for name in WANG_FIGURES] + [
        f"results/wang2021/findings.{ext}" for ext in ("csv", "md")
    ]


