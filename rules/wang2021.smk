# Wang 2021: GNN vs MLP for behaviour classification and trajectory prediction (see README).
# Fan-out from config (no checkpoints): task x k x combination x fold x arch; how many fits a
# job trains is wang2021.job (fit | folds | combination).
from neurodyn.wang2021 import grid as wang2021_grid  # noqa: E402  (torch-free)

WANG = config.get("wang2021", {})
WANG_CODE = code_version(
    "__init__.py", "errors.py", "provenance.py", "workflow.py", "tables.py", "io", "plots",
    "train", "models/wang2021.py", "wang2021", "data/celegans/connectome.py",
    "data/celegans/connectome_white1986.nc", "data/celegans/dataset_facts.py",
    "data/celegans/names.py",
)
WANG_FIT = "results/wang2021/{task}/k{k}/{combination}/fold{fold}/{arch}/metrics.json"
WANG_TABLES = ["table2_1", "accuracy_by_k", "trajectory_mse", "without_ava",
               "edges_connectome", "sanity"]
WANG_FIGURES = ["fig2_2a", "fig2_2b", "fig2_2c", "fig2_3a", "fig2_3b", "without_ava",
                "edges_connectome"]


def wang2021_input(dataset, source):
    """Processed file of a dataset from the data rules, or a clear error if absent."""
    if dataset not in SOURCES.get(source, []):
        raise ValueError(
            f"config wang2021 needs {dataset} from the '{source}' source, which this run "
            f"does not build (data.synthetic.worms / data.real.dirs)"
        )
    return f"results/data/{source}/processed/{dataset}.nc"


def wang2021_inputs():
    return {
        "kato": wang2021_input("Kato2015", WANG["source"]),
        "nichols": wang2021_input("Nichols2017", WANG["nichols_source"]),
    }


def wang2021_all_fits():
    return wang2021_grid.fits(WANG)


def wang2021_fit_files():
    return [f"results/wang2021/{fit.path}/metrics.json" for fit in wang2021_all_fits()]


def wang2021_job_fits(wildcards):
    """The fits of one job (matching its wildcards), as plain dicts."""
    keys = ("task", "k", "combination", "fold", "arch")
    want = {k: str(v) for k, v in dict(wildcards).items() if k in keys}
    return [
        vars(fit) for fit in wang2021_all_fits()
        if all(str(getattr(fit, k)) == v for k, v in want.items())
    ]


def wang2021_combination_outputs():
    """Outputs of a 'combination' job: every task, arch and fold of {k}/{combination}."""
    return [
        f"results/wang2021/{task}/k{{k}}/{{combination}}/fold{fold}/{arch}/metrics.json"
        for task, spec in WANG["tasks"].items()
        for arch in spec["archs"]
        for fold in WANG["folds"]
    ]


def wang2021_targets():
    """Final outputs of this study in the main job (none until its section of the config exists)."""
    if "wang2021" not in config:
        return []
    return [
        f"results/wang2021/tables/{name}.{ext}" for name in WANG_TABLES for ext in ("csv", "md")
    ] + [f"results/wang2021/figures/{name}.png" for name in WANG_FIGURES]


if WANG:
    WANG_TASKS = "|".join(WANG["tasks"])
    WANG_ARCHS = "|".join(sorted({a for s in WANG["tasks"].values() for a in s["archs"]}))
    WANG_COMBO = r"w\d+(-\d+)*"

    if WANG["job"] == "combination":

        rule wang2021_train:
            input:
                **wang2021_inputs(),
            output:
                wang2021_combination_outputs(),
            params:
                fits=wang2021_job_fits,
                wang2021=WANG,
                seed=config["seed"],
                code=WANG_CODE,
            wildcard_constraints:
                k=r"\d+",
                combination=WANG_COMBO,
            threads: 1
            resources:
                gpu=0,
            log:
                "logs/wang2021/k{k}/{combination}.log",
            benchmark:
                "logs/wang2021/benchmark/k{k}/{combination}.tsv",
            conda:
                "../envs/torch-cpu.yaml"
            script:
                "../workflow/scripts/wang2021_train.py"

    elif WANG["job"] == "folds":

        rule wang2021_train:
            input:
                **wang2021_inputs(),
            output:
                expand(
                    "results/wang2021/{{task}}/k{{k}}/{{combination}}/fold{fold}/{{arch}}/metrics.json",
                    fold=WANG["folds"],
                ),
            params:
                fits=wang2021_job_fits,
                wang2021=WANG,
                seed=config["seed"],
                code=WANG_CODE,
            wildcard_constraints:
                task=WANG_TASKS,
                arch=WANG_ARCHS,
                k=r"\d+",
                combination=WANG_COMBO,
            threads: 1
            resources:
                gpu=0,
            log:
                "logs/wang2021/{task}/k{k}/{combination}/{arch}.log",
            benchmark:
                "logs/wang2021/benchmark/{task}/k{k}/{combination}/{arch}.tsv",
            conda:
                "../envs/torch-cpu.yaml"
            script:
                "../workflow/scripts/wang2021_train.py"

    else:

        rule wang2021_train:
            input:
                **wang2021_inputs(),
            output:
                WANG_FIT,
            params:
                fits=wang2021_job_fits,
                wang2021=WANG,
                seed=config["seed"],
                code=WANG_CODE,
            wildcard_constraints:
                task=WANG_TASKS,
                arch=WANG_ARCHS,
                k=r"\d+",
                fold=r"\d+",
                combination=WANG_COMBO,
            threads: 1
            resources:
                gpu=0,
            log:
                "logs/wang2021/{task}/k{k}/{combination}/fold{fold}/{arch}.log",
            benchmark:
                "logs/wang2021/benchmark/{task}/k{k}/{combination}/fold{fold}/{arch}.tsv",
            conda:
                "../envs/torch-cpu.yaml"
            script:
                "../workflow/scripts/wang2021_train.py"

    rule wang2021_collect:
        input:
            wang2021_fit_files(),
        output:
            "results/wang2021/fits.json",
        params:
            code=WANG_CODE,
        log:
            "logs/wang2021/collect.log",
        conda:
            "../envs/data.yaml"
        script:
            "../workflow/scripts/wang2021_collect.py"

    rule wang2021_tables:
        input:
            "results/wang2021/fits.json",
        output:
            **{
                name: report(
                    f"results/wang2021/tables/{name}.csv",
                    caption=f"../workflow/report/wang2021_{name}.rst",
                    category="Wang 2021",
                    subcategory="tables",
                    labels={"table": name},
                )
                for name in WANG_TABLES
            },
            **{f"{name}_md": f"results/wang2021/tables/{name}.md" for name in WANG_TABLES},
        params:
            wang2021=WANG,
            code=WANG_CODE,
        log:
            "logs/wang2021/tables.log",
        conda:
            "../envs/data.yaml"
        script:
            "../workflow/scripts/wang2021_tables.py"

    rule wang2021_figures:
        input:
            "results/wang2021/fits.json",
        output:
            **{
                name: report(
                    f"results/wang2021/figures/{name}.png",
                    caption=f"../workflow/report/wang2021_{name}.rst",
                    category="Wang 2021",
                    subcategory="figures",
                    labels={"figure": name},
                )
                for name in WANG_FIGURES
            },
        params:
            wang2021=WANG,
            code=WANG_CODE,
        log:
            "logs/wang2021/figures.log",
        conda:
            "../envs/data.yaml"
        script:
            "../workflow/scripts/wang2021_figures.py"
