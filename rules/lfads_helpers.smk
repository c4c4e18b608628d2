# Helpers of rules/lfads.smk (Keshtkaran & Pandarinath 2019): job grids and targets from config.
import functools

from neurodyn.lfads.grid import chunks as lfads_chunks  # noqa: E402  (torch-free)
from neurodyn.lfads.grid import datasize_models, search_models  # noqa: E402

LFADS = config.get("lfads", {})
LFADS_CODE = code_version(
    "__init__.py", "errors.py", "provenance.py", "workflow.py", "tables.py", "io",
    "data/spikes", "models/lfads.py", "lfads", "eval/decoding.py", "eval/nlb.py", "train",
    "plots",
)
LFADS_DATA = {"search": "rnn", "datasize": "reaching"}


@functools.cache
def lfads_jobs(experiment):
    """Model groups of one experiment, from config (computed once per run)."""
    if experiment == "search":
        models = search_models(LFADS, config["seed"])
    else:
        models = datasize_models(LFADS, config["seed"])
    return lfads_chunks(models, int(LFADS["train"]["models_per_job"]))


def lfads_job_models(wildcards):
    return [m.to_dict() for m in lfads_jobs(wildcards.experiment)[int(wildcards.job)]]


def lfads_job_files(experiment):
    return expand("results/lfads/{experiment}/jobs/job{job}.json", experiment=experiment,
                  job=range(len(lfads_jobs(experiment))))


def lfads_targets():
    """Final outputs of this study in the main job."""
    if not LFADS:
        return []
    out = [
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


# real NLB MC_Maze data (off by default)
LFADS_NWB = LFADS.get("nwb", {"enabled": False, "files": {}})


def lfads_nwb_targets():
    if not LFADS_NWB["enabled"]:
        return []
    return expand("results/lfads/data/nlb_{name}.nc", name=list(LFADS_NWB["files"]))


def lfads_nwb_file(wildcards):
    return str(Path(LFADS_NWB["dir"]) / LFADS_NWB["files"][wildcards.name]["file"])
