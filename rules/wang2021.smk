# Wang 2021: GNN vs MLP for behaviour classification and trajectory prediction (see README).
# Fan-out from config: task x k x combination x fold x arch; how many fits a job trains is
# wang2021.job (fit | folds | combination). Helpers: rules/wang2021_helpers.smk.


include: "wang2021_helpers.smk"


if WANG:
    # The study's own preprocessing product (neurodyn.wang2021.prepare): worms selected by
    # raw source file, native frame rate, unsmoothed, scaled to [0, 1] per worm and neuron.
    rule wang2021_data:
        input:
            "results/data/{source}/raw/{dataset}.nc",
        output:
            "results/wang2021/data/{source}/{dataset}.nc",
        params:
            files=wang2021_worm_files,
            code=WANG_DATA_CODE,
        wildcard_constraints:
            dataset="|".join(WANG_DATASETS.values()),
        log:
            "logs/wang2021/data/{source}/{dataset}.log",
        conda:
            "../envs/data.yaml"
        script:
            "../workflow/scripts/wang2021_data.py"

    # One training rule whatever wang2021.job says (one per k in 'combination' jobs when
    # tasks run their own k or folds lists); the job's wildcards, outputs and log
    # names come from rules/wang2021_helpers.smk. Fits train through the shared fit runner,
    # whose resumable fit folders (weights, ensemble checkpoints) live under
    # results/wang2021/work/ (params.work, not an output: they must survive a failed job so
    # that a rerun resumes, and the runner reuses finished fits by their key).
    for WANG_RULE, WANG_RULE_K in wang2021_train_rules():

        rule:
            name:
                WANG_RULE
            input:
                **wang2021_inputs(),
            output:
                wang2021_job_outputs(WANG_RULE_K),
            params:
                fits=wang2021_job_fits,
                wang2021=WANG_TRAIN_CONFIG,
                seed=config["seed"],
                work=WANG_WORK,
                code=WANG_TRAIN_CODE,
            wildcard_constraints:
                task=WANG_TASKS,
                arch=WANG_ARCHS,
                k=r"\d+" if WANG_RULE_K is None else str(WANG_RULE_K),
                fold=r"\d+",
                combination=WANG_COMBO,
            threads: 1
            resources:
                gpu=TRAIN_GPUS,
            log:
                f"logs/wang2021/{WANG_JOB}.log",
            benchmark:
                f"results/wang2021/benchmarks/{WANG_JOB}.tsv"
            conda:
                TORCH_ENV
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
            **{
                f"{name}_provenance": f"results/wang2021/tables/{name}.provenance.json"
                for name in WANG_TABLES
            },
            # claims W1-W5 (neurodyn.wang2021.findings); "findings" opens the report section
            findings=report(
                "results/wang2021/findings.csv",
                caption="../workflow/report/wang2021_findings.rst",
                category="Wang 2021",
                subcategory="findings",
                labels={"table": "findings W1-W5"},
            ),
            findings_md="results/wang2021/findings.md",
            findings_prov="results/wang2021/findings.provenance.json",
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
                    subcategory="thesis figures",  # sorts after "findings"
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
