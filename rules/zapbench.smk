# ZAPBench (Lueckmann, Immer et al. 2025) and video forecasting (Immer et al. 2025).
# Findings Z1-Z13 (rule zapbench_tables, results/zapbench/findings.*) open the report section:
# subcategory "findings" sorts first (case-insensitively); keep the others after it.
# Fan-out from config: (trace model × context × seed) and (UNet variant × context × seed),
# grouped into chunks of `fits_per_job` fits per process (import cost paid once per job).
include: "zapbench_helpers.smk"


rule zapbench_data:
    output:
        f"{ZAPBENCH_OUT}/data/specimen{{specimen}}.nc",
    params:
        zapbench=zapbench_params("source", "data", "benchmark", "real"),
        contexts=zapbench_contexts(),
        seed=config["seed"],
        code=ZAPBENCH_DATA_CODE,
    log:
        "logs/zapbench/data/specimen{specimen}.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/zapbench_data.py"


rule zapbench_trace:
    input:
        main=f"{ZAPBENCH_OUT}/data/specimen0.nc",
    output:
        f"{ZAPBENCH_OUT}/fits/trace/chunk{{chunk}}.json",
    params:
        family="trace",
        runs=lambda wc: zapbench_grid.chunk(ZAPBENCH, "trace", int(wc.chunk)),
        zapbench=zapbench_params("source", "data", "benchmark", "real", "trace"),
        # resumable fit folders of the shared fit runner (fit/key/result.json, last.ckpt):
        # written outside the declared outputs on purpose, so they survive a failed job
        workdir=f"{ZAPBENCH_OUT}/work/trace",
        code=ZAPBENCH_FIT_CODE,
    threads: 1
    resources:
        gpu=TRAIN_GPUS,
    log:
        "logs/zapbench/fits/trace/chunk{chunk}.log",
    benchmark:
        f"{ZAPBENCH_OUT}/benchmarks/trace/chunk{{chunk}}.tsv"
    conda:
        TORCH_ENV
    script:
        "../workflow/scripts/zapbench_fit.py"


rule zapbench_unet:
    input:
        main=f"{ZAPBENCH_OUT}/data/specimen0.nc",
        extras=zapbench_extras,
    output:
        f"{ZAPBENCH_OUT}/fits/unet/chunk{{chunk}}.json",
    params:
        family="unet",
        runs=lambda wc: zapbench_grid.chunk(ZAPBENCH, "unet", int(wc.chunk)),
        zapbench=zapbench_params("source", "data", "benchmark", "real", "unet"),
        # resumable fit folders of the shared fit runner (fit/key/result.json, last.ckpt):
        # written outside the declared outputs on purpose, so they survive a failed job
        workdir=f"{ZAPBENCH_OUT}/work/unet",
        code=ZAPBENCH_FIT_CODE,
    threads: 1
    resources:
        gpu=TRAIN_GPUS,
    log:
        "logs/zapbench/fits/unet/chunk{chunk}.log",
    benchmark:
        f"{ZAPBENCH_OUT}/benchmarks/unet/chunk{{chunk}}.tsv"
    conda:
        TORCH_ENV
    script:
        "../workflow/scripts/zapbench_fit.py"


rule zapbench_tables:
    input:
        zapbench_chunk_files,
    output:
        steps=f"{ZAPBENCH_OUT}/results/steps.csv",
        conditions=f"{ZAPBENCH_OUT}/results/conditions.csv",
        per_step=report(f"{ZAPBENCH_OUT}/tables/per_step.csv",
                        caption="../workflow/report/zapbench_per_step.rst",
                        category="ZAPBench", subcategory="tables",
                        labels={"table": "per-step MAE"}),
        per_step_md=f"{ZAPBENCH_OUT}/tables/per_step.md",
        table1=report(f"{ZAPBENCH_OUT}/tables/table1.csv",
                      caption="../workflow/report/zapbench_table1.rst",
                      category="ZAPBench", subcategory="tables",
                      labels={"table": "Table 1 training data"}),
        table1_md=f"{ZAPBENCH_OUT}/tables/table1.md",
        table2=report(f"{ZAPBENCH_OUT}/tables/table2.csv",
                      caption="../workflow/report/zapbench_table2.rst",
                      category="ZAPBench", subcategory="tables",
                      labels={"table": "Table 2 input resolution"}),
        table2_md=f"{ZAPBENCH_OUT}/tables/table2.md",
        table3=report(f"{ZAPBENCH_OUT}/tables/table3.csv",
                      caption="../workflow/report/zapbench_table3.rst",
                      category="ZAPBench", subcategory="tables",
                      labels={"table": "Table 3 Corr_H"}),
        table3_md=f"{ZAPBENCH_OUT}/tables/table3.md",
        rf_sweep=report(f"{ZAPBENCH_OUT}/tables/rf_sweep.csv",
                        caption="../workflow/report/zapbench_rf_sweep.rst",
                        category="ZAPBench", subcategory="tables",
                        labels={"table": "receptive-field sweep"}),
        rf_sweep_md=f"{ZAPBENCH_OUT}/tables/rf_sweep.md",
        # claims Z1-Z13 (neurodyn.zapbench.findings); "findings" sorts first in the category
        findings=report(f"{ZAPBENCH_OUT}/findings.csv",
                        caption="../workflow/report/zapbench_findings.rst",
                        category="ZAPBench", subcategory="findings",
                        labels={"table": "findings Z1-Z13"}),
        findings_md=f"{ZAPBENCH_OUT}/findings.md",
        findings_provenance=f"{ZAPBENCH_OUT}/findings.provenance.json",
        **{
            f"{name}_provenance": f"{ZAPBENCH_OUT}/tables/{name}.provenance.json"
            for name in ZAPBENCH_TABLES
        },
    params:
        zapbench=ZAPBENCH,
        code=ZAPBENCH_CODE,
    log:
        "logs/zapbench/tables.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/zapbench_tables.py"


rule zapbench_figures:
    input:
        steps=f"{ZAPBENCH_OUT}/results/steps.csv",
        conditions=f"{ZAPBENCH_OUT}/results/conditions.csv",
    output:
        **{
            name: report(
                f"{ZAPBENCH_OUT}/figures/{name}.png",
                caption=f"../workflow/report/zapbench_{name}.rst",
                category="ZAPBench",
                subcategory="paper figures",  # sorts after "findings" (the section's first)
                labels={"figure": label},
            )
            for name, label in ZAPBENCH_FIGURES.items()
        },
    params:
        zapbench=ZAPBENCH,
        code=ZAPBENCH_CODE,
    log:
        "logs/zapbench/figures.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/zapbench_figures.py"


rule zapbench_published:
    input:
        published=zapbench_published_file() or "zapbench-published-file-not-configured",
        steps=f"{ZAPBENCH_OUT}/results/steps.csv",
    output:
        figure=report(f"{ZAPBENCH_OUT}/figures/published.png",
                      caption="../workflow/report/zapbench_published.rst",
                      category="ZAPBench", subcategory="published",
                      labels={"figure": "published results beside ours"}),
        table=f"{ZAPBENCH_OUT}/tables/published.csv",
        table_md=f"{ZAPBENCH_OUT}/tables/published.md",
        table_provenance=f"{ZAPBENCH_OUT}/tables/published.provenance.json",
    params:
        zapbench=ZAPBENCH,
        code=ZAPBENCH_CODE,
    log:
        "logs/zapbench/published.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/zapbench_published.py"
