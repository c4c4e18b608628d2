# Patel, Sedler et al. 2023 (AutoLFADS): population based training of LFADS with two backends
# (Snakemake-native: one job per chunk of members per generation + one selection job per
# generation; Ray Tune: one job running Tune's PBT scheduler), scored with NLB metrics.
# The population x generations are known from config, so `snakemake -n` plans every job.
# Every method runs once per replicate of autolfads.seeds, under <dataset>/seed<k>/ (seed of
# replicate k: config seed + 1000 k); the random-search arm (backend "random") trains
# `population` models at the first PBT engine's model-epochs of the same replicate.
# Training rules (member, fixed, ray) train each member-generation as a keyed fit of
# neurodyn.train.runner under results/autolfads/work/ (params.workdir, not an output: those
# folders survive a failed job so that a rerun resumes or reuses them).


include: "autolfads_helpers.smk"


rule autolfads_data:
    output:
        f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/data.nc",
    wildcard_constraints:
        nlb_dataset="SyntheticReaching",
    params:
        synthetic=AUTOLFADS.get("synthetic", {}),
        seed=config["seed"],
        code=AUTOLFADS_CODE,
    log:
        "logs/autolfads/{nlb_dataset}/data.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/autolfads_data.py"


rule autolfads_real_data:
    input:
        autolfads_real_file,
    output:
        f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/data.nc",
    wildcard_constraints:
        nlb_dataset="MC_Maze|MC_Maze_Large|MC_Maze_Medium|MC_Maze_Small",
    params:
        real=AUTOLFADS.get("real", {}),
        seed=config["seed"],
        code=AUTOLFADS_CODE,
    log:
        "logs/autolfads/{nlb_dataset}/data.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/autolfads_real_data.py"


rule autolfads_init:
    input:
        f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/data.nc",
    output:
        f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/snakemake/plan/gen0.json",
    wildcard_constraints:
        seed=r"\d+",
    params:
        cfg=AUTOLFADS,
        seed=autolfads_seed,
        code=AUTOLFADS_CODE,
    log:
        "logs/autolfads/{nlb_dataset}/seed{seed}/snakemake/init.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/autolfads_init.py"


rule autolfads_member:
    input:
        unpack(autolfads_member_inputs),
    output:
        json=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/snakemake/gen{{gen}}/chunk{{chunk}}.json",
        ckpts=directory(f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/snakemake/gen{{gen}}/chunk{{chunk}}.ckpt"),
    params:
        cfg=AUTOLFADS,
        seed=autolfads_seed,
        root=autolfads_pbt_root,
        # resumable fits
        workdir=f"{AUTOLFADS_WORK}/{{nlb_dataset}}/seed{{seed}}/snakemake/gen{{gen}}",
        code=AUTOLFADS_TRAIN_CODE,
    wildcard_constraints:
        gen=r"\d+",
        seed=r"\d+",
    threads: 1
    resources:
        gpu=TRAIN_GPUS,
    priority: autolfads_generation_priority
    benchmark:
        f"{AUTOLFADS_BENCH}/{{nlb_dataset}}/seed{{seed}}/snakemake/gen{{gen}}_chunk{{chunk}}.tsv"
    log:
        "logs/autolfads/{nlb_dataset}/seed{seed}/snakemake/gen{gen}/chunk{chunk}.log",
    conda:
        TORCH_ENV
    script:
        "../workflow/scripts/autolfads_member.py"


rule autolfads_select:
    input:
        plan=autolfads_previous_plan,
        chunks=autolfads_previous_chunks,
    output:
        f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/snakemake/plan/gen{{gen}}.json",
    params:
        cfg=AUTOLFADS,
        seed=autolfads_seed,
        code=AUTOLFADS_CODE,
    wildcard_constraints:
        gen=r"[1-9]\d*",
        seed=r"\d+",
    priority: autolfads_generation_priority
    log:
        "logs/autolfads/{nlb_dataset}/seed{seed}/snakemake/select_for_gen{gen}.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/autolfads_select.py"


rule autolfads_collect:
    input:
        data=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/data.nc",
        chunks=autolfads_all_chunks,
        ckpts=autolfads_final_ckpts,
    output:
        population=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/snakemake/population.json",
        best=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/snakemake/best.ckpt",
    wildcard_constraints:
        seed=r"\d+",
    params:
        cfg=AUTOLFADS,
        root=autolfads_pbt_root,
        backend="snakemake",
        code=AUTOLFADS_CODE,
    log:
        "logs/autolfads/{nlb_dataset}/seed{seed}/snakemake/collect.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/autolfads_collect.py"


rule autolfads_fixed:
    input:
        f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/data.nc",
    output:
        population=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/fixed/population.json",
        best=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/fixed/best.ckpt",
    wildcard_constraints:
        seed=r"\d+",
    params:
        cfg=AUTOLFADS,
        seed=autolfads_seed,
        workdir=f"{AUTOLFADS_WORK}/{{nlb_dataset}}/seed{{seed}}/fixed",  # resumable fit
        code=AUTOLFADS_TRAIN_CODE,
    threads: 1
    resources:
        gpu=TRAIN_GPUS,
    benchmark:
        f"{AUTOLFADS_BENCH}/{{nlb_dataset}}/seed{{seed}}/fixed.tsv"
    log:
        "logs/autolfads/{nlb_dataset}/seed{seed}/fixed/train.log",
    conda:
        TORCH_ENV
    script:
        "../workflow/scripts/autolfads_fixed.py"


rule autolfads_random:
    # random search (A3): a chunk of models, each trained from scratch for the epochs one
    # member of the replicate's first PBT engine trained (equal model-epochs)
    input:
        data=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/data.nc",
        pbt=autolfads_random_pbt,
    output:
        json=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/random/gen0/chunk{{chunk}}.json",
        ckpts=directory(
            f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/random/gen0/chunk{{chunk}}.ckpt"),
    wildcard_constraints:
        seed=r"\d+",
        chunk=r"\d+",
    params:
        cfg=AUTOLFADS,
        seed=autolfads_seed,
        workdir=f"{AUTOLFADS_WORK}/{{nlb_dataset}}/seed{{seed}}/random",  # resumable fits
        code=AUTOLFADS_TRAIN_CODE,
    threads: 1
    resources:
        gpu=TRAIN_GPUS,
    benchmark:
        f"{AUTOLFADS_BENCH}/{{nlb_dataset}}/seed{{seed}}/random_chunk{{chunk}}.tsv"
    log:
        "logs/autolfads/{nlb_dataset}/seed{seed}/random/chunk{chunk}.log",
    conda:
        TORCH_ENV
    script:
        "../workflow/scripts/autolfads_random.py"


rule autolfads_random_collect:
    input:
        data=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/data.nc",
        chunks=autolfads_random_chunks,
        ckpts=autolfads_random_ckpts,
    output:
        population=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/random/population.json",
        best=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/random/best.ckpt",
    wildcard_constraints:
        seed=r"\d+",
    params:
        cfg=AUTOLFADS,
        root=autolfads_random_root,
        backend="random",
        code=AUTOLFADS_CODE,
    log:
        "logs/autolfads/{nlb_dataset}/seed{seed}/random/collect.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/autolfads_collect.py"


rule autolfads_ray:
    input:
        f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/data.nc",
    output:
        population=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/ray/population.json",
        best=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/ray/best.ckpt",
        tune=directory(f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/ray/tune"),  # Tune's own files
    wildcard_constraints:
        seed=r"\d+",
    params:
        cfg=AUTOLFADS,
        seed=autolfads_seed,  # the script adds autolfads.ray.seed_offset
        # resumable member fits
        workdir=f"{AUTOLFADS_WORK}/{{nlb_dataset}}/seed{{seed}}/ray",
        code=AUTOLFADS_TRAIN_CODE,
    threads: AUTOLFADS.get("ray", {}).get("num_cpus", 2)
    resources:
        gpu=TRAIN_GPUS,
    # the longest job that waits for nothing but the data: start it first, so that it does
    # not run alone at the end while the PBT chains (one job per generation) have finished
    priority: 10
    benchmark:
        f"{AUTOLFADS_BENCH}/{{nlb_dataset}}/seed{{seed}}/ray.tsv"
    log:
        "logs/autolfads/{nlb_dataset}/seed{seed}/ray/tune.log",
    conda:
        # TORCH_ENV plus ray[tune], CPU or GPU build as TORCH_ENV (rules/autolfads_helpers.smk)
        AUTOLFADS_RAY_ENV
    script:
        "../workflow/scripts/autolfads_ray.py"


rule autolfads_evaluate:
    input:
        data=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/data.nc",
        population=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/{{backend}}/population.json",
        best=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/{{backend}}/best.ckpt",
    output:
        metrics=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/{{backend}}/evaluation.json",
        rates=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/seed{{seed}}/{{backend}}/rates.nc",
    wildcard_constraints:
        backend="snakemake|ray|fixed|random",
        seed=r"\d+",
    params:
        cfg=AUTOLFADS,
        seed=autolfads_seed,
        code=AUTOLFADS_CODE,
    threads: 1
    log:
        "logs/autolfads/{nlb_dataset}/seed{seed}/{backend}/evaluate.log",
    conda:
        TORCH_ENV
    script:
        "../workflow/scripts/autolfads_evaluate.py"


rule autolfads_smoothing:
    input:
        f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/data.nc",
    output:
        metrics=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/smoothing/evaluation.json",
        rates=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/smoothing/rates.nc",
    params:
        cfg=AUTOLFADS,
        code=AUTOLFADS_CODE,
    log:
        "logs/autolfads/{nlb_dataset}/smoothing.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/autolfads_smoothing.py"


rule autolfads_tables:
    input:
        autolfads_evaluations,
    output:
        table2=report(
            f"{AUTOLFADS_ROOT}/tables/table2.csv",
            caption="../workflow/report/autolfads_table2.rst",
            category="Patel et al. (AutoLFADS)",
            subcategory="tables",
            labels={"table": "Table 2: NLB metrics per backend"},
        ),
        table2_md=f"{AUTOLFADS_ROOT}/tables/table2.md",
        table2_prov=f"{AUTOLFADS_ROOT}/tables/table2.provenance.json",
        sanity=report(
            f"{AUTOLFADS_ROOT}/tables/sanity.csv",
            caption="../workflow/report/autolfads_sanity.rst",
            category="Patel et al. (AutoLFADS)",
            subcategory="tables",
            labels={"table": "sanity checks"},
        ),
        sanity_md=f"{AUTOLFADS_ROOT}/tables/sanity.md",
        sanity_prov=f"{AUTOLFADS_ROOT}/tables/sanity.provenance.json",
        # claims A1-A3 (neurodyn.autolfads.findings); "findings" sorts first in the category
        findings=report(
            f"{AUTOLFADS_ROOT}/findings.csv",
            caption="../workflow/report/autolfads_findings.rst",
            category="Patel et al. (AutoLFADS)",
            subcategory="findings",
            labels={"table": "findings A1-A3"},
        ),
        findings_md=f"{AUTOLFADS_ROOT}/findings.md",
        findings_prov=f"{AUTOLFADS_ROOT}/findings.provenance.json",
    params:
        backends=autolfads_backends(),
        seeds=AUTOLFADS_SEEDS,
        population=AUTOLFADS.get("pbt", {}).get("population"),
        generations=AUTOLFADS.get("pbt", {}).get("generations"),
        pbt=AUTOLFADS.get("pbt", {}),
        seed_offset=AUTOLFADS.get("ray", {}).get("seed_offset", 0),
        code=AUTOLFADS_CODE,
    log:
        "logs/autolfads/tables.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/autolfads_tables.py"


rule autolfads_pbt_figure:
    input:
        autolfads_pbt_population,  # the first replicate
    output:
        report(
            f"{AUTOLFADS_ROOT}/figures/{{nlb_dataset}}_{{backend}}_pbt.png",
            caption="../workflow/report/autolfads_pbt.rst",
            category="Patel et al. (AutoLFADS)",
            subcategory="{nlb_dataset}",
            labels={"dataset": "{nlb_dataset}", "figure": "Fig. 2 PBT trajectories ({backend})"},
        ),
    wildcard_constraints:
        backend="snakemake|ray",
    params:
        cfg=AUTOLFADS,
        code=AUTOLFADS_CODE,
    log:
        "logs/autolfads/{nlb_dataset}/{backend}/pbt_figure.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/autolfads_pbt_figure.py"


rule autolfads_rates_figure:
    input:
        autolfads=autolfads_rates_of_first_backend,
        smoothing=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/smoothing/rates.nc",
    output:
        report(
            f"{AUTOLFADS_ROOT}/figures/{{nlb_dataset}}_rates.png",
            caption="../workflow/report/autolfads_rates.rst",
            category="Patel et al. (AutoLFADS)",
            subcategory="{nlb_dataset}",
            labels={"dataset": "{nlb_dataset}", "figure": "Fig. 3 inferred rates"},
        ),
    params:
        cfg=AUTOLFADS,
        code=AUTOLFADS_CODE,
    log:
        "logs/autolfads/{nlb_dataset}/rates_figure.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/autolfads_rates_figure.py"
