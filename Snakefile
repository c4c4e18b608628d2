# neurodyn: regenerate the tables and figures of five neural-dynamics papers.
# Main job:   snakemake --cores all          (embedded default, config/config.yaml)
# Paper scale: snakemake --cores all --configfile config/paper.yaml
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/spikes.smk"
include: "rules/download.smk"
include: "rules/scaling.smk"
include: "rules/wang2021.smk"
include: "rules/lfads.smk"
include: "rules/autolfads.smk"
include: "rules/zapbench.smk"


# One run per results/ folder: an flock on results/.neurodyn.lock that the kernel drops when
# the run dies (see profiles/default/config.yaml). Snakemake calls onstart only in the main
# process of a real run: not for -n, --lint, --report, --unlock, nor in job processes.
onstart:
    if workflow.is_main_process:
        take_run_lock()


# One target per study (`snakemake --cores all zapbench_all`); `<study>.enabled: false`
# leaves a study out of the main job only.
STUDY_TARGETS = {
    "scaling": scaling_targets,
    "wang2021": wang2021_targets,
    "lfads": lfads_targets,
    "autolfads": autolfads_targets,
    "zapbench": zapbench_targets,
}
ENABLED_STUDIES = [s for s in STUDY_TARGETS if config.get(s, {}).get("enabled", True)]


rule all:
    default_target: True
    input:
        data_targets(),
        [STUDY_TARGETS[s]() for s in ENABLED_STUDIES],


rule data_all:
    """The C. elegans data study: processed files, Table 1 and figures per source."""
    input:
        data_targets(),


rule scaling_all:
    """Simeon et al. 2024 (scaling)."""
    input:
        scaling_targets(),


rule wang2021_all:
    """Wang 2021 (GNN vs MLP)."""
    input:
        wang2021_targets(),


rule lfads_all:
    """Keshtkaran & Pandarinath 2019 (LFADS)."""
    input:
        lfads_targets(),


rule autolfads_all:
    """AutoLFADS (population-based training)."""
    input:
        autolfads_targets(),


rule zapbench_all:
    """ZAPBench."""
    input:
        zapbench_targets(),


localrules:
    all,
    data_all,
    scaling_all,
    wang2021_all,
    lfads_all,
    autolfads_all,
    zapbench_all,
