# Wang 2021: GNN vs MLP for behaviour classification and trajectory prediction (see README).
# Fan-out from config (no checkpoints): task x k x combination x fold x arch; how many fits a
# job trains is wang2021.job (fit | folds | combination). Helpers: rules/wang2021_common.smk.


include: "wang2021_common.smk"


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
