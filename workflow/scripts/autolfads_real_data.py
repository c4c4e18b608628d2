"""An NLB MC_Maze file (converted by the shared rule nlb_nwb) in AutoLFADS's layout (NLB val
phase)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.autolfads.data import real_nlb_dataset  # noqa: E402
from neurodyn.io.spikes import open_spikes, write_spikes  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    ds = real_nlb_dataset(open_spikes(sm.input[0]), sm.input[0], sm.params.real, sm.params.seed)
    ds.attrs.update({k: str(v) for k, v in run_provenance(sm).items() if k != "config_json"})
    write_spikes(ds, sm.output[0])
    log.info("wrote %s: %s", sm.output[0], dict(ds.sizes))
