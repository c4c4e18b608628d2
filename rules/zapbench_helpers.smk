# ZAPBench study: config, target lists and input functions (rules in zapbench.smk).
from neurodyn.zapbench import grid as zapbench_grid  # noqa: E402  (torch-free)

ZAPBENCH = config.get("zapbench", {})
ZAPBENCH_ON = bool(ZAPBENCH)  # configured; zapbench.enabled only picks rule all (Snakefile)
if ZAPBENCH_ON:
    zapbench_grid.check(ZAPBENCH)
# Package code per group of jobs (editing it reruns them; the fit code also keys each fit).
_ZB_CORE = ("__init__.py", "errors.py", "provenance.py", "workflow.py", "io/__init__.py",
            "io/atomic.py", "zapbench/__init__.py", "zapbench/benchmark.py",
            "zapbench/dataset.py", "zapbench/grid.py")
ZAPBENCH_DATA_CODE = code_version(
    *_ZB_CORE, "zapbench/synthetic.py", "zapbench/real.py", "zapbench/prepare.py",
)
ZAPBENCH_FIT_CODE = code_version(
    *_ZB_CORE, "digest.py", "train/__init__.py", "train/callbacks.py", "train/device.py",
    "train/runner.py", "train/runtime.py", "train/trainer.py", "zapbench/metrics.py",
    "zapbench/trace_models.py", "zapbench/compute.py", "zapbench/conv.py", "zapbench/unet.py",
    "zapbench/fit.py", "zapbench/runs.py", "zapbench/jobs.py",
)
ZAPBENCH_CODE = code_version(  # tables and figures
    "__init__.py", "errors.py", "provenance.py", "workflow.py", "tables.py", "io", "plots",
    "zapbench",
)
ZAPBENCH_OUT = "results/zapbench"
ZAPBENCH_TABLES = ("per_step", "table1", "table2", "table3", "rf_sweep")
ZAPBENCH_FIGURES = {
    "fig6": "Fig. 6 video vs trace models",
    "fig5": "Fig. 5 spatial vs temporal context",
    "fig4": "Fig. 4 direct vs lead-time conditioned",
    "fig8": "Fig. 8 per condition, short context",
    "fig9": "Fig. 9 per condition, long context",
    "fig10": "Fig. 10 held-out condition",
}


wildcard_constraints:
    specimen=r"\d+",


def zapbench_extra_specimens():
    """Synthetic pre-training specimens (none with source: real; grid.check rejects a real
    run that pre-trains)."""
    if not ZAPBENCH_ON or ZAPBENCH.get("source") == "real":
        return 0
    return int(ZAPBENCH["data"]["extra_specimens"])


def zapbench_extras(wildcards):
    return expand(f"{ZAPBENCH_OUT}/data/specimen{{k}}.nc",
                  k=range(1, zapbench_extra_specimens() + 1))


def zapbench_chunk_files(wildcards):
    return [f"{ZAPBENCH_OUT}/fits/{kind}/chunk{i}.json" for kind in ("trace", "unet")
            for i in range(zapbench_grid.n_chunks(ZAPBENCH, kind))]


def zapbench_published_file():
    return ZAPBENCH.get("published", {}).get("file") if ZAPBENCH_ON else None


def zapbench_targets():
    """Final outputs of this study in the main job."""
    if not ZAPBENCH_ON:
        return []
    out = [f"{ZAPBENCH_OUT}/tables/{t}.{ext}" for t in ZAPBENCH_TABLES for ext in ("csv", "md")]
    out += [f"{ZAPBENCH_OUT}/findings.{ext}" for ext in ("csv", "md")]
    out += [f"{ZAPBENCH_OUT}/figures/{f}.png" for f in ZAPBENCH_FIGURES]
    if zapbench_published_file():
        out += [f"{ZAPBENCH_OUT}/figures/published.png", f"{ZAPBENCH_OUT}/tables/published.csv"]
    return out


def zapbench_params(*keys):
    """The part of the study's config a rule depends on (other edits do not rerun it)."""
    return {k: ZAPBENCH[k] for k in keys if k in ZAPBENCH}


def zapbench_contexts():
    return zapbench_grid.contexts_used(ZAPBENCH) if ZAPBENCH_ON else []
