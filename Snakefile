# neurodyn: regenerate the tables and figures of five neural-dynamics papers.
# Main job:   snakemake --cores all          (embedded default, config/config.yaml)
# Paper scale: snakemake --cores all --configfile config/paper.yaml
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/scaling.smk"
include: "rules/wang2021.smk"
include: "rules/lfads.smk"
include: "rules/autolfads.smk"
include: "rules/zapbench.smk"


rule all:
    default_target: True
    input:
        data_targets(),
        scaling_targets(),
        wang2021_targets(),
        lfads_targets(),
        autolfads_targets(),
        zapbench_targets(),
