# Helpers of rules/spikes.smk: the NLB names, their NWB files and converted paths.
import re

SPIKES_CODE = code_version(
    "__init__.py", "errors.py", "provenance.py", "workflow.py", "download.py",
    "io/__init__.py", "io/atomic.py", "io/hdf5.py", "io/spikes.py", "data/spikes/nwb.py",
)
NLB_NWB_CFG = config.get("lfads", {}).get("nwb", {})
NLB_PINNED = {  # file name -> {url, sha256}
    item["file"]: item for item in NLB_NWB_CFG.get("files", {}).values()
}


def _nlb_train_file(folder):
    files = sorted(Path(folder).glob("*train*.nwb")) or sorted(
        f for f in Path(folder).glob("*.nwb") if "test" not in f.name
    )
    return str(files[0]) if len(files) == 1 else str(Path(folder) / "<one *train*.nwb file>")


def _nlb_sources():
    """NLB name -> NWB file (an error when one name names two files)."""
    out = {
        name: str(Path(NLB_NWB_CFG["dir"]) / item["file"])
        for name, item in NLB_NWB_CFG.get("files", {}).items()
    }
    for name, folder in config.get("autolfads", {}).get("real", {}).get("dirs", {}).items():
        if not Path(folder).is_dir():
            raise ValueError(
                f"config autolfads.real.dirs.{name}: folder {Path(folder).resolve()} does not "
                "exist (put the NLB *train* NWB file there, or remove the entry)"
            )
        path = _nlb_train_file(folder)
        if out.get(name, path) != path:
            raise ValueError(f"NLB dataset {name!r} is both lfads.nwb.files ({out[name]}) "
                             f"and autolfads.real.dirs ({path}): rename one")
        out[name] = path
    return out


NLB_SOURCES = _nlb_sources()


def nlb_spikes_path(name, bin_width_s):
    """The converted file of NLB dataset ``name`` at ``bin_width_s`` (s)."""
    return f"results/data/nlb/{name}_{int(round(float(bin_width_s) * 1000))}ms.nc"


def nlb_nwb_file(wildcards):
    return NLB_SOURCES[wildcards.nlb_name]
