# Neural Latents Benchmark (MC_Maze) NWB files, shared by the LFADS and AutoLFADS studies: one
# conversion rule (downloads of lfads.nwb.files: rules/download.smk) to the
# neurodyn-spikes/1 schema (NLB window -250..+450 ms around movement onset, 200 ms forward):
#   results/data/nlb/<name>_<bin ms>ms.nc
# Names: the keys of lfads.nwb.files (file in lfads.nwb.dir) and of autolfads.real.dirs (the
# one *train* .nwb file in that folder, used when the folder exists).
include: "spikes_helpers.smk"


rule nlb_nwb:
    """Convert one NLB NWB file to the neurodyn-spikes/1 schema (both LFADS studies use it)."""
    input:
        nlb_nwb_file,
    output:
        "results/data/nlb/{nlb_name}_{bin_ms}ms.nc",
    wildcard_constraints:
        nlb_name="|".join(NLB_SOURCES) or "none",
        bin_ms=r"\d+",
    params:
        code=SPIKES_CODE,
    log:
        "logs/data/nlb/{nlb_name}_{bin_ms}ms.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/nlb_nwb.py"
