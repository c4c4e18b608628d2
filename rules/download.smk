# One download rule for every pinned file of every study: C. elegans raw files
# (data.download.sets, when data.download.enabled) and NLB NWB files (lfads.nwb.files, when
# lfads.nwb.download). Each file is used only if its sha256 matches the pinned one; offline,
# the rule fails at once and says where to put the file by hand.
PINNED_DOWNLOADS = {
    str(Path(DATA["download"]["dir"]) / dataset / item["file"]): item
    for dataset, items in DOWNLOAD_SETS.items()
    for item in items
}
if NLB_NWB_CFG.get("download", False):
    PINNED_DOWNLOADS.update(
        {str(Path(NLB_NWB_CFG["dir"]) / name): item for name, item in NLB_PINNED.items()}
    )


rule download:
    output:
        "{pinned_path}",
    wildcard_constraints:
        pinned_path="|".join(map(re.escape, PINNED_DOWNLOADS)) or "no-pinned-download^",
    params:
        code=code_version("download.py"),
        item=lambda wildcards: PINNED_DOWNLOADS[wildcards.pinned_path],
    log:
        "logs/download/{pinned_path}.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/download.py"
