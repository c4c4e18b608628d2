"""Convert an NLB MC_Maze NWB file to the neurodyn-spikes/1 schema (NLB trial window)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.data.spikes.nwb import NLB_FORWARD_S, NLB_WINDOW_S, read_nlb_nwb  # noqa: E402
from neurodyn.io.spikes import write_spikes  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    prov = {k: str(v) for k, v in run_provenance(sm).items() if k != "config_json"}
    ds = read_nlb_nwb(sm.input[0], dataset=sm.wildcards.nlb_name,
                      bin_width_s=int(sm.wildcards.bin_ms) / 1000, window_s=NLB_WINDOW_S,
                      forward_s=NLB_FORWARD_S, attrs=prov)
    write_spikes(ds, sm.output[0])
    log.info("wrote %s: %s", sm.output[0], dict(ds.sizes))
