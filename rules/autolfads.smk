# Patel, Sedler et al. 2023 (AutoLFADS): population based training of LFADS with two backends
# (Snakemake-native: one job per chunk of members per generation + one selection job per
# generation; Ray Tune: one job running Tune's PBT scheduler), scored with NLB metrics.
# The population x generations are known from config, so `snakemake -n` plans every job.
from neurodyn.hpo.plan import Schedule as AutolfadsSchedule  # noqa: E402  (torch-free)

AUTOLFADS = config.get("autolfads", {})
AUTOLFADS_CODE = code_version(
    "__init__.py", "errors.py", "provenance.py", "workflow.py", "tables.py", "io",
    "data/spikes", "models/lfads.py", "train", "eval/nlb.py", "hpo", "autolfads", "plots",
)
AUTOLFADS_ROOT = "results/autolfads"


def autolfads_schedule():
    return AutolfadsSchedule.from_config(AUTOLFADS)


def autolfads_backends():
    """PBT backends whose results enter the table (fixed-HP LFADS is always evaluated)."""
    return list(AUTOLFADS.get("backends", []))


# Real NLB datasets (MC_Maze, MC_Maze_Large/Medium/Small) are used when their folder exists.
AUTOLFADS_REAL = {
    name: folder for name, folder in AUTOLFADS.get("real", {}).get("dirs", {}).items()
    if Path(folder).is_dir()
}


def autolfads_datasets():
    return list(AUTOLFADS.get("datasets", [])) + sorted(AUTOLFADS_REAL)


def autolfads_real_files(wildcards):
    return sorted(str(p) for p in Path(AUTOLFADS_REAL[wildcards.nlb_dataset]).glob("*.nwb"))


def autolfads_pbt_root(wildcards):
    return f"{AUTOLFADS_ROOT}/{wildcards.nlb_dataset}/snakemake"


def autolfads_member_inputs(wildcards):
    """A member chunk of generation g needs the plan of g (its parents and HPs) and, from
    g = 1 on, every checkpoint folder of generation g - 1 (its parent is named in the plan)."""
    root = autolfads_pbt_root(wildcards)
    g = int(wildcards.gen)
    inputs = {"data": f"{AUTOLFADS_ROOT}/{wildcards.nlb_dataset}/data.nc",
              "plan": f"{root}/plan/gen{g}.json"}
    if g > 0:
        inputs["parents"] = expand(f"{root}/gen{g - 1}/chunk{{c}}.ckpt",
                                   c=range(autolfads_schedule().n_chunks))
    return inputs


def autolfads_previous_plan(wildcards):
    return f"{autolfads_pbt_root(wildcards)}/plan/gen{int(wildcards.gen) - 1}.json"


def autolfads_previous_chunks(wildcards):
    """The results of generation g - 1, from which the plan of generation g is selected."""
    root = autolfads_pbt_root(wildcards)
    return expand(f"{root}/gen{int(wildcards.gen) - 1}/chunk{{c}}.json",
                  c=range(autolfads_schedule().n_chunks))


def autolfads_all_chunks(wildcards):
    root = autolfads_pbt_root(wildcards)
    s = autolfads_schedule()
    return expand(f"{root}/gen{{g}}/chunk{{c}}.json", g=range(s.generations),
                  c=range(s.n_chunks))


def autolfads_final_ckpts(wildcards):
    root = autolfads_pbt_root(wildcards)
    s = autolfads_schedule()
    return expand(f"{root}/gen{s.generations - 1}/chunk{{c}}.ckpt", c=range(s.n_chunks))


def autolfads_evaluations(wildcards):
    methods = autolfads_backends() + ["fixed", "smoothing"]
    return expand(f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/{{method}}/evaluation.json",
                  nlb_dataset=autolfads_datasets(), method=methods)


def autolfads_rates_of_first_backend(wildcards):
    return f"{AUTOLFADS_ROOT}/{wildcards.nlb_dataset}/{autolfads_backends()[0]}/rates.nc"


def autolfads_targets():
    """Final outputs of this study in the main job."""
    if not AUTOLFADS or not autolfads_datasets():
        return []
    tables = [f"{AUTOLFADS_ROOT}/tables/{name}.{ext}" for name in ("table2", "sanity")
              for ext in ("csv", "md")]
    figures = expand(f"{AUTOLFADS_ROOT}/figures/{{nlb_dataset}}_{{backend}}_pbt.png",
                     nlb_dataset=autolfads_datasets(), backend=autolfads_backends())
    figures += expand(f"{AUTOLFADS_ROOT}/figures/{{nlb_dataset}}_rates.png",
                      nlb_dataset=autolfads_datasets())
    return tables + figures


wildcard_constraints:
    gen=r"\d+",
    backend="snakemake|ray|fixed",


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
        autolfads_real_files,
    output:
        f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/data.nc",
    wildcard_constraints:
        nlb_dataset="MC_Maze|MC_Maze_Large|MC_Maze_Medium|MC_Maze_Small",
    params:
        folder=lambda wildcards: AUTOLFADS_REAL[wildcards.nlb_dataset],
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
        f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/snakemake/plan/gen0.json",
    params:
        cfg=AUTOLFADS,
        seed=config["seed"],
        code=AUTOLFADS_CODE,
    log:
        "logs/autolfads/{nlb_dataset}/snakemake/init.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/autolfads_init.py"


rule autolfads_member:
    input:
        unpack(autolfads_member_inputs),
    output:
        json=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/snakemake/gen{{gen}}/chunk{{chunk}}.json",
        ckpts=directory(f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/snakemake/gen{{gen}}/chunk{{chunk}}.ckpt"),
    params:
        cfg=AUTOLFADS,
        seed=config["seed"],
        root=autolfads_pbt_root,
        workdir=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/snakemake/work/gen{{gen}}",
        code=AUTOLFADS_CODE,
    threads: 1
    resources:
        gpu=0,
    log:
        "logs/autolfads/{nlb_dataset}/snakemake/gen{gen}/chunk{chunk}.log",
    conda:
        "../envs/torch-cpu.yaml"
    script:
        "../workflow/scripts/autolfads_member.py"


rule autolfads_select:
    input:
        plan=autolfads_previous_plan,
        chunks=autolfads_previous_chunks,
    output:
        f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/snakemake/plan/gen{{gen}}.json",
    params:
        cfg=AUTOLFADS,
        seed=config["seed"],
        code=AUTOLFADS_CODE,
    wildcard_constraints:
        gen=r"[1-9]\d*",
    log:
        "logs/autolfads/{nlb_dataset}/snakemake/select_for_gen{gen}.log",
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
        population=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/snakemake/population.json",
        best=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/snakemake/best.ckpt",
    params:
        cfg=AUTOLFADS,
        root=autolfads_pbt_root,
        code=AUTOLFADS_CODE,
    log:
        "logs/autolfads/{nlb_dataset}/snakemake/collect.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/autolfads_collect.py"


rule autolfads_fixed:
    input:
        f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/data.nc",
    output:
        population=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/fixed/population.json",
        best=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/fixed/best.ckpt",
    params:
        cfg=AUTOLFADS,
        seed=config["seed"],
        workdir=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/fixed/work",
        code=AUTOLFADS_CODE,
    threads: 1
    resources:
        gpu=0,
    log:
        "logs/autolfads/{nlb_dataset}/fixed/train.log",
    conda:
        "../envs/torch-cpu.yaml"
    script:
        "../workflow/scripts/autolfads_fixed.py"


rule autolfads_ray:
    input:
        f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/data.nc",
    output:
        population=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/ray/population.json",
        best=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/ray/best.ckpt",
    params:
        cfg=AUTOLFADS,
        seed=config["seed"],
        storage=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/ray/tune",
        code=AUTOLFADS_CODE,
    threads: AUTOLFADS.get("ray", {}).get("num_cpus", 2)
    log:
        "logs/autolfads/{nlb_dataset}/ray/tune.log",
    conda:
        "../envs/autolfads-ray.yaml"
    script:
        "../workflow/scripts/autolfads_ray.py"


rule autolfads_evaluate:
    input:
        data=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/data.nc",
        population=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/{{backend}}/population.json",
        best=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/{{backend}}/best.ckpt",
    output:
        metrics=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/{{backend}}/evaluation.json",
        rates=f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/{{backend}}/rates.nc",
    params:
        cfg=AUTOLFADS,
        seed=config["seed"],
        code=AUTOLFADS_CODE,
    threads: 1
    log:
        "logs/autolfads/{nlb_dataset}/{backend}/evaluate.log",
    conda:
        "../envs/torch-cpu.yaml"
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
    params:
        backends=autolfads_backends(),
        population=AUTOLFADS.get("pbt", {}).get("population"),
        generations=AUTOLFADS.get("pbt", {}).get("generations"),
        code=AUTOLFADS_CODE,
    log:
        "logs/autolfads/tables.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/autolfads_tables.py"


rule autolfads_pbt_figure:
    input:
        f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/{{backend}}/population.json",
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
