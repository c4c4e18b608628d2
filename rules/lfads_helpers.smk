# Helpers of rules/lfads.smk (Keshtkaran & Pandarinath 2019): job grids and targets from config.
import functools

from neurodyn.lfads.grid import chunks as lfads_chunks  # noqa: E402  (torch-free)
from neurodyn.lfads.grid import datasize_models, search_models, subset_chunks  # noqa: E402

LFADS = config.get("lfads", {})
LFADS_CODE = code_version(
    "__init__.py", "errors.py", "provenance.py", "workflow.py", "tables.py", "digest.py", "io",
    "data/spikes", "models/lfads.py", "models/lfads_data.py", "models/lfads_layers.py",
    "models/lfads_inference.py", "models/lfads_metrics.py", "models/lfads_population.py",
    "models/lfads_population_fit.py", "lfads", "eval/decoding.py", "train", "plots",
    # Fig. 5's PBT runs the AutoLFADS study's selection rule, member training and search space
    "autolfads/pbt.py", "autolfads/generations.py", "autolfads/member.py", "autolfads/plan.py",
    "autolfads/space.py",
)
# the synthetic datasets: generators only (a figure or training change regenerates nothing)
LFADS_DATA_CODE = code_version(
    "__init__.py", "errors.py", "provenance.py", "workflow.py", "io", "data/spikes",
    "lfads/datasets.py", "lfads/synthetic_rnn.py", "lfads/linear_data.py",
)
LFADS_DATA = {"search": "rnn", "datasize": "reaching"}
# config sections each synthetic dataset is generated from
LFADS_DATA_KEYS = {"rnn": ("rnn", "sv"), "reaching": ("reaching",), "linear": ("linear_ae",)}


def lfads_data_config(wildcards):
    """The config sections of one synthetic dataset (other keys do not regenerate it)."""
    return {k: LFADS[k] for k in LFADS_DATA_KEYS[wildcards.kind]}


@functools.cache
def lfads_jobs(experiment):
    """Model groups of one experiment, from config (computed once per run)."""
    per_job = int(LFADS["train"]["models_per_job"])
    if experiment == "search":  # consecutive: one arm per job, trained as one population
        return lfads_chunks(search_models(LFADS, config["seed"]), per_job)
    # one job per training subset: short jobs of similar length keep both cores busy
    return subset_chunks(datasize_models(LFADS, config["seed"]), per_job)


def lfads_job_models(wildcards):
    return [m.to_dict() for m in lfads_jobs(wildcards.experiment)[int(wildcards.job)]]


def lfads_job_files(experiment):
    return expand("results/lfads/{experiment}/jobs/job{job}.json", experiment=experiment,
                  job=range(len(lfads_jobs(experiment))))


def lfads_findings_inputs(wildcards):
    """Inputs of the findings table: search jobs, linear-AE summary and, when the
    dataset-size experiment is on, its jobs and table (L5 is inconclusive without them)."""
    out = {"search": lfads_job_files("search"),
           "linear": "results/lfads/linear_ae/summary.json", "datasize": []}
    if LFADS["dataset_size"]["enabled"]:
        out.update(datasize=lfads_job_files("datasize"),
                   datasize_table="results/lfads/tables/datasize_r2.csv")
    return out


def lfads_targets():
    """Final outputs of this study in the main job."""
    if not LFADS:
        return []
    out = [
        "results/lfads/findings.csv",
        "results/lfads/findings.md",
        "results/lfads/figures/fig3_linear_ae.png",
        "results/lfads/linear_ae/summary.json",
        "results/lfads/figures/fig1b_standard_validation.png",
        "results/lfads/figures/fig1c_example_rates.png",
        "results/lfads/figures/fig4_selection_metrics.png",
        "results/lfads/tables/search_r2.csv",
        "results/lfads/tables/search_models.csv",
    ]
    if LFADS["dataset_size"]["enabled"]:
        out += [
            "results/lfads/figures/fig5_dataset_size.png",
            "results/lfads/figures/fig5b_improvement.png",
            "results/lfads/tables/datasize_r2.csv",
        ]
    return out + lfads_nwb_targets()


def lfads_nwb_targets():
    """Real NLB MC_Maze files (lfads.nwb, off by default) converted by rules/spikes.smk."""
    nwb = LFADS.get("nwb", {})
    if not nwb.get("enabled", False):
        return []
    return [nlb_spikes_path(name, nwb["bin_width_s"]) for name in nwb["files"]]
