"""Convert an NLB MC_Maze NWB file to the neurodyn-spikes/1 schema."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.data.spikes.nwb import read_nlb_nwb  # noqa: E402
from neurodyn.io.spikes import write_spikes  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    cfg = sm.params.nwb
    name = sm.wildcards.name
    ds = read_nlb_nwb(sm.input[0], dataset=name, bin_width_s=cfg["bin_width_s"],
                      window_s=tuple(cfg["window_s"]), forward_s=cfg["forward_s"],
                      attrs={k: str(v) for k, v in run_provenance(sm).items()})
    write_spikes(ds, sm.output[0])
