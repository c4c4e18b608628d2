# Keshtkaran & Pandarinath 2019: LFADS with coordinated dropout (CD) and sample validation (SV).
# Findings L1-L5 (rule lfads_findings) open the report section: subcategory "findings" sorts
# first (case-insensitively) among this category's subcategories; keep the others after it.
# Fan-out from config (no checkpoints): search jobs (arm x model index, grouped) and
# dataset-size jobs (fraction x draw x {fixed, hpo_k}, grouped). Targets: lfads_targets().
# Training rules run every model as a fit of the shared runner (neurodyn.train.runner): its
# resumable fit folders live under results/lfads/work/ (passed as params, not outputs, so
# that they survive a failed or killed job and a rerun resumes or reuses them).
include: "lfads_helpers.smk"


wildcard_constraints:
    experiment="search|datasize",
    job=r"\d+",


rule lfads_data:
    output:
        "results/lfads/data/{kind}.nc",
    wildcard_constraints:
        kind="rnn|reaching|linear",
    params:
        lfads=lfads_data_config,
        seed=config["seed"],
        code=LFADS_DATA_CODE,
    log:
        "logs/lfads/data/{kind}.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/lfads_data.py"


rule lfads_linear_ae:
    input:
        "results/lfads/data/linear.nc",
    output:
        figure=report(
            "results/lfads/figures/fig3_linear_ae.png",
            caption="../workflow/report/lfads_fig3.rst",
            category="Keshtkaran & Pandarinath 2019",
            subcategory="linear autoencoder",
            labels={"figure": "Fig. 3 linear autoencoder and CD"},
        ),
        summary="results/lfads/linear_ae/summary.json",
    params:
        linear_ae=LFADS.get("linear_ae"),
        seed=config["seed"],
        workdir="results/lfads/work/linear_ae",  # resumable fit folders (see top)
        code=LFADS_CODE,
    threads: 1
    resources:
        gpu=TRAIN_GPUS,
    log:
        "logs/lfads/linear_ae.log",
    benchmark:
        "results/lfads/benchmarks/linear_ae.tsv"
    conda:
        TORCH_ENV
    script:
        "../workflow/scripts/lfads_linear_ae.py"


rule lfads_train:
    input:
        lambda wc: f"results/lfads/data/{LFADS_DATA[wc.experiment]}.nc",
    output:
        "results/lfads/{experiment}/jobs/job{job}.json",
    params:
        models=lfads_job_models,
        lfads=LFADS,
        seed=config["seed"],
        workdir="results/lfads/work/{experiment}",  # resumable fit folders (see top)
        code=LFADS_CODE,
    threads: 1
    resources:
        gpu=TRAIN_GPUS,
    log:
        "logs/lfads/{experiment}/job{job}.log",
    benchmark:
        "results/lfads/benchmarks/{experiment}/job{job}.tsv"
    conda:
        TORCH_ENV
    script:
        "../workflow/scripts/lfads_train.py"


rule lfads_search_report:
    input:
        jobs=lfads_job_files("search") if LFADS else [],
        data="results/lfads/data/rnn.nc",
    output:
        fig1b=report(
            "results/lfads/figures/fig1b_standard_validation.png",
            caption="../workflow/report/lfads_fig1b.rst",
            category="Keshtkaran & Pandarinath 2019",
            subcategory="HP search (synthetic RNN)",
            labels={"figure": "Fig. 1b standard validation vs rate R²"},
        ),
        fig1c=report(
            "results/lfads/figures/fig1c_example_rates.png",
            caption="../workflow/report/lfads_fig1c.rst",
            category="Keshtkaran & Pandarinath 2019",
            subcategory="HP search (synthetic RNN)",
            labels={"figure": "Fig. 1c example rates"},
        ),
        fig4=report(
            "results/lfads/figures/fig4_selection_metrics.png",
            caption="../workflow/report/lfads_fig4.rst",
            category="Keshtkaran & Pandarinath 2019",
            subcategory="HP search (synthetic RNN)",
            labels={"figure": "Fig. 4 selection metrics per arm"},
        ),
        table=report(
            "results/lfads/tables/search_r2.csv",
            caption="../workflow/report/lfads_search_table.rst",
            category="Keshtkaran & Pandarinath 2019",
            subcategory="HP search (synthetic RNN)",
            labels={"table": "rate R² per arm"},
        ),
        table_md="results/lfads/tables/search_r2.md",
        table_prov="results/lfads/tables/search_r2.provenance.json",
        models="results/lfads/tables/search_models.csv",
        models_md="results/lfads/tables/search_models.md",
        models_prov="results/lfads/tables/search_models.provenance.json",
    params:
        code=LFADS_CODE,
    log:
        "logs/lfads/search_report.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/lfads_search_report.py"


rule lfads_datasize_report:
    input:
        jobs=lfads_job_files("datasize") if LFADS else [],
        data="results/lfads/data/reaching.nc",
    output:
        fig5=report(
            "results/lfads/figures/fig5_dataset_size.png",
            caption="../workflow/report/lfads_fig5.rst",
            category="Keshtkaran & Pandarinath 2019",
            subcategory="velocity decoding vs dataset size (reaching)",
            labels={"figure": "Fig. 5 decoding vs dataset size"},
        ),
        fig5b=report(
            "results/lfads/figures/fig5b_improvement.png",
            caption="../workflow/report/lfads_fig5b.rst",
            category="Keshtkaran & Pandarinath 2019",
            subcategory="velocity decoding vs dataset size (reaching)",
            labels={"figure": "Fig. 5b HP optimisation over fixed HPs"},
        ),
        table=report(
            "results/lfads/tables/datasize_r2.csv",
            caption="../workflow/report/lfads_datasize_table.rst",
            category="Keshtkaran & Pandarinath 2019",
            subcategory="velocity decoding vs dataset size (reaching)",
            labels={"table": "decoding R² vs dataset size"},
        ),
        table_md="results/lfads/tables/datasize_r2.md",
        table_prov="results/lfads/tables/datasize_r2.provenance.json",
    params:
        lfads=LFADS,
        seed=config["seed"],
        code=LFADS_CODE,
    log:
        "logs/lfads/datasize_report.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/lfads_datasize_report.py"


rule lfads_findings:
    input:
        unpack(lfads_findings_inputs),
    output:
        findings=report(
            "results/lfads/findings.csv",
            caption="../workflow/report/lfads_findings.rst",
            category="Keshtkaran & Pandarinath 2019",
            subcategory="findings",
            labels={"table": "findings L1-L5"},
        ),
        findings_md="results/lfads/findings.md",
        findings_prov="results/lfads/findings.provenance.json",
    params:
        lfads=LFADS,
        code=LFADS_CODE,
    log:
        "logs/lfads/findings.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/lfads_findings.py"
