# AutoLFADS helpers (config, schedule, code versions, input functions, target list), included
# by rules/autolfads.smk (kept apart so that file holds only rules).
from neurodyn.autolfads.plan import Schedule as AutolfadsSchedule  # noqa: E402  (torch-free)
from neurodyn.autolfads.plan import replicate_seeds as autolfads_replicate_seeds  # noqa: E402
from neurodyn.autolfads.plan import run_seed as autolfads_run_seed  # noqa: E402

AUTOLFADS = config.get("autolfads", {})
AUTOLFADS_CODE = code_version(
    "__init__.py", "errors.py", "provenance.py", "workflow.py", "tables.py", "io",
    "data/spikes", "models/lfads.py", "models/lfads_data.py", "train", "eval/nlb.py",
    "autolfads", "plots",
)
# What member training runs (the fit key's code: a figure or table edit retrains nothing).
AUTOLFADS_TRAIN_CODE = code_version(
    "__init__.py", "errors.py", "workflow.py", "io", "data/spikes", "models", "train",
    "autolfads/data.py", "autolfads/pipeline.py", "autolfads/member.py",
    "autolfads/member_population.py", "autolfads/generations.py", "autolfads/plan.py",
    "autolfads/pbt.py", "autolfads/space.py", "autolfads/ray_backend.py",
    "autolfads/random_search.py",
)
AUTOLFADS_ROOT = "results/autolfads"
# Resumable member fit folders (neurodyn.train.runner): kept when a job fails, so a rerun
# resumes from last.ckpt or reuses finished fits with the same key.
AUTOLFADS_WORK = f"{AUTOLFADS_ROOT}/work"
AUTOLFADS_BENCH = f"{AUTOLFADS_ROOT}/benchmarks"
# The Ray job's environment follows the training rules' CPU/GPU choice (TRAIN_GPUS).
AUTOLFADS_RAY_ENV = (
    "../envs/autolfads-ray-gpu.yaml" if TRAIN_GPUS else "../envs/autolfads-ray.yaml"
)


def autolfads_schedule():
    return AutolfadsSchedule.from_config(AUTOLFADS)


def autolfads_backends():
    """PBT engines whose results enter the table (``random``, the random-search arm, and the
    fixed-HP and smoothing baselines are not PBT engines)."""
    engines = [b for b in AUTOLFADS.get("backends", []) if b != "random"]
    if AUTOLFADS and not engines:
        raise ValueError("autolfads.backends needs a PBT engine (snakemake or ray) besides "
                         "random")
    return engines


def autolfads_random():
    """The random-search arm (A3) is in the run: ``random`` in autolfads.backends."""
    return "random" in AUTOLFADS.get("backends", [])


# Replicates: every method runs once per entry of autolfads.seeds, under seed<k>/ (the
# smoothing baseline, deterministic, once per dataset).
AUTOLFADS_SEEDS = autolfads_replicate_seeds(AUTOLFADS) if AUTOLFADS else [0]


def autolfads_seed(wildcards):
    """The seed of replicate ``wildcards.seed`` (replicate 0: the global seed)."""
    return autolfads_run_seed(config["seed"], wildcards.seed)


# Real NLB datasets (MC_Maze, MC_Maze_Large/Medium/Small); rules/spikes_helpers.smk stops
# the run when a listed folder does not exist.
AUTOLFADS_REAL = dict(AUTOLFADS.get("real", {}).get("dirs", {}))


def autolfads_datasets():
    return list(AUTOLFADS.get("datasets", [])) + sorted(AUTOLFADS_REAL)


def autolfads_real_file(wildcards):
    """The shared NWB conversion (rules/spikes.smk) of a real NLB dataset."""
    return nlb_spikes_path(wildcards.nlb_dataset, AUTOLFADS["real"]["bin_width_s"])


def autolfads_run_root(wildcards):
    """The folder of one dataset's replicate."""
    return f"{AUTOLFADS_ROOT}/{wildcards.nlb_dataset}/seed{wildcards.seed}"


def autolfads_pbt_root(wildcards):
    return f"{autolfads_run_root(wildcards)}/snakemake"


def autolfads_random_root(wildcards):
    return f"{autolfads_run_root(wildcards)}/random"


def autolfads_random_pbt(wildcards):
    """The population of the replicate's first PBT engine, whose trained epochs per member the
    random-search models match."""
    return f"{autolfads_run_root(wildcards)}/{autolfads_backends()[0]}/population.json"


def autolfads_random_chunks(wildcards):
    return expand(f"{autolfads_random_root(wildcards)}/gen0/chunk{{c}}.json",
                  c=range(autolfads_schedule().n_chunks))


def autolfads_random_ckpts(wildcards):
    return expand(f"{autolfads_random_root(wildcards)}/gen0/chunk{{c}}.ckpt",
                  c=range(autolfads_schedule().n_chunks))


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


def autolfads_generation_priority(wildcards):
    """Earlier generations first (member and selection jobs): replicates then advance
    together, instead of Snakemake finishing some and leaving one to run alone at the end
    (below the Ray run and the random-search and fixed-HP jobs, at 0 or above)."""
    return -int(wildcards.gen)


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


def autolfads_methods():
    """Methods run once per replicate: the PBT engines, random search, fixed-HP LFADS."""
    return autolfads_backends() + (["random"] if autolfads_random() else []) + ["fixed"]


def autolfads_method_seeds(method):
    """Replicates a method runs: all of autolfads.seeds, the Ray engine only the first
    autolfads.ray.replicates of them (null: all; A2 is decided on seed pairs)."""
    if method != "ray":
        return AUTOLFADS_SEEDS
    return AUTOLFADS_SEEDS[:AUTOLFADS.get("ray", {}).get("replicates") or len(AUTOLFADS_SEEDS)]


def autolfads_evaluations(wildcards):
    runs = [f"{AUTOLFADS_ROOT}/{dataset}/seed{seed}/{method}/evaluation.json"
            for dataset in autolfads_datasets() for method in autolfads_methods()
            for seed in autolfads_method_seeds(method)]
    return runs + expand(f"{AUTOLFADS_ROOT}/{{nlb_dataset}}/smoothing/evaluation.json",
                         nlb_dataset=autolfads_datasets())


def autolfads_rates_of_first_backend(wildcards):
    """Fig. 3: the first replicate's first PBT engine."""
    return (f"{AUTOLFADS_ROOT}/{wildcards.nlb_dataset}/seed{AUTOLFADS_SEEDS[0]}/"
            f"{autolfads_backends()[0]}/rates.nc")


def autolfads_pbt_population(wildcards):
    """Fig. 2: the first replicate's population of the figure's engine."""
    return (f"{AUTOLFADS_ROOT}/{wildcards.nlb_dataset}/seed{AUTOLFADS_SEEDS[0]}/"
            f"{wildcards.backend}/population.json")


def autolfads_targets():
    """Final outputs of this study in the main job."""
    if not AUTOLFADS or not autolfads_datasets():
        return []
    tables = [f"{AUTOLFADS_ROOT}/tables/{name}.{ext}" for name in ("table2", "sanity")
              for ext in ("csv", "md")]
    tables += [f"{AUTOLFADS_ROOT}/findings.{ext}" for ext in ("csv", "md")]
    figures = expand(f"{AUTOLFADS_ROOT}/figures/{{nlb_dataset}}_{{backend}}_pbt.png",
                     nlb_dataset=autolfads_datasets(), backend=autolfads_backends())
    figures += expand(f"{AUTOLFADS_ROOT}/figures/{{nlb_dataset}}_rates.png",
                      nlb_dataset=autolfads_datasets())
    return tables + figures
