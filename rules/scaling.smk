# Simeon et al. 2024: data and model scaling of next-step prediction.
# Fan-out: cohort x chunk of fits (fits = seed x arch x worm level / hidden size, from config).
# Helpers (grid, chunks, targets): rules/scaling_helpers.smk.
include: "scaling_helpers.smk"


rule scaling_control_data:
    output:
        "results/data/controls/{kind}.nc",
    params:
        controls=SCALING.get("controls", {}),
        seed=config["seed"],
        code=DATA_CODE,
    log:
        "logs/data/controls/{kind}.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/scaling_control_data.py"


rule scaling_train:
    input:
        scaling_cohort_data,
    output:
        "results/scaling/{cohort}/fits/chunk{chunk}.json",
    params:
        fits=scaling_chunk_fits,
        # The config values training reads: not cohorts, the grid or fits_per_job, so adding
        # a cohort retrains nothing (the fit runner keys each fit by what it depends on).
        scaling=scaling_train_params(),
        # The fit runner's resumable fit folders (<fit id>/<key>/: checkpoints, metrics.csv,
        # result.json). Not an output: they must survive a failed or killed job to resume it.
        workdir="results/scaling/{cohort}/work",
        code=SCALING_TRAIN_CODE,
    threads: 1
    resources:
        gpu=TRAIN_GPUS,
    log:
        "logs/scaling/{cohort}/chunk{chunk}.log",
    benchmark:
        "logs/scaling/benchmark/{cohort}/chunk{chunk}.tsv"
    conda:
        TORCH_ENV
    script:
        "../workflow/scripts/scaling_train.py"


rule scaling_collect:
    input:
        scaling_chunk_files,
    output:
        fits="results/scaling/{cohort}/fits.csv",
        generation="results/scaling/{cohort}/generation.nc",
    params:
        code=SCALING_CODE,
    log:
        "logs/scaling/{cohort}/collect.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/scaling_collect.py"


rule scaling_figures:
    input:
        fits="results/scaling/{cohort}/fits.csv",
        generation="results/scaling/{cohort}/generation.nc",
    output:
        data_scaling=report(
            "results/scaling/{cohort}/figures/data_scaling.png",
            caption="../workflow/report/scaling_data.rst",
            category="Simeon 2024 scaling",
            subcategory="{cohort}",
            labels={"cohort": "{cohort}", "figure": "data scaling"},
        ),
        model_scaling=report(
            "results/scaling/{cohort}/figures/model_scaling.png",
            caption="../workflow/report/scaling_model.rst",
            category="Simeon 2024 scaling",
            subcategory="{cohort}",
            labels={"cohort": "{cohort}", "figure": "model scaling"},
        ),
        generation=report(
            "results/scaling/{cohort}/figures/generation.png",
            caption="../workflow/report/scaling_generation.rst",
            category="Simeon 2024 scaling",
            subcategory="{cohort}",
            labels={"cohort": "{cohort}", "figure": "generation"},
        ),
    params:
        code=SCALING_CODE,
    log:
        "logs/scaling/{cohort}/figures.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/scaling_figures.py"


rule scaling_tables:
    input:
        scaling_fit_tables,
    output:
        table2=report(
            "results/scaling/tables/table2.csv",
            caption="../workflow/report/scaling_table2.rst",
            category="Simeon 2024 scaling",
            subcategory="tables",
            labels={"table": "Table II parameter counts"},
        ),
        table2_md="results/scaling/tables/table2.md",
        table2_prov="results/scaling/tables/table2.provenance.json",
        slopes=report(
            "results/scaling/tables/slopes.csv",
            caption="../workflow/report/scaling_slopes.rst",
            category="Simeon 2024 scaling",
            subcategory="tables",
            labels={"table": "slopes and minimum losses"},
        ),
        slopes_md="results/scaling/tables/slopes.md",
        slopes_prov="results/scaling/tables/slopes.provenance.json",
        sanity=report(
            "results/scaling/tables/sanity.csv",
            caption="../workflow/report/scaling_sanity.rst",
            category="Simeon 2024 scaling",
            subcategory="tables",
            labels={"table": "scientific sanity checks"},
        ),
        sanity_md="results/scaling/tables/sanity.md",
        sanity_prov="results/scaling/tables/sanity.provenance.json",
        findings=report(
            "results/scaling/findings.csv",
            caption="../workflow/report/scaling_findings.rst",
            category="Simeon 2024 scaling",
            subcategory="findings",
            labels={"table": "findings S1-S6"},
        ),
        findings_md="results/scaling/findings.md",
        findings_prov="results/scaling/findings.provenance.json",
    params:
        cohorts=SCALING_COHORTS,
        matched_params=SCALING.get("matched_params"),
        code=SCALING_CODE,
    log:
        "logs/scaling/tables.log",
    conda:
        TORCH_ENV
    script:
        "../workflow/scripts/scaling_tables.py"


rule scaling_source_slopes:
    input:
        "results/scaling/{cohort}/fits.csv",
    output:
        report(
            "results/scaling/{cohort}/figures/source_slopes.png",
            caption="../workflow/report/scaling_sources.rst",
            category="Simeon 2024 scaling",
            subcategory="{cohort}",
            labels={"cohort": "{cohort}", "figure": "slopes per source"},
        ),
    wildcard_constraints:
        cohort="synthetic|real",
    params:
        code=SCALING_CODE,
    log:
        "logs/scaling/{cohort}/source_slopes.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/scaling_source_slopes.py"
