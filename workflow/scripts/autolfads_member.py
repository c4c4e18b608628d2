"""Train a chunk of PBT members for one generation (Snakemake-native backend)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.autolfads.pipeline import load_split, read_json  # noqa: E402
from neurodyn.hpo.generations import chunk_ckpt, run_chunk  # noqa: E402
from neurodyn.hpo.plan import Schedule  # noqa: E402
from neurodyn.io.atomic import write_json  # noqa: E402
from neurodyn.train.runtime import accelerator, quiet_lightning  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    quiet_lightning()
    import torch

    from neurodyn.hpo.member import train_member

    torch.set_num_threads(sm.threads)
    cfg, g, chunk = sm.params.cfg, int(sm.wildcards.gen), int(sm.wildcards.chunk)
    schedule = Schedule.from_config(cfg)
    split = load_split(sm.input.data, cfg)
    plan = read_json(sm.input.plan)
    out_dir = Path(sm.output.ckpts)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = accelerator(sm.resources.get("gpu", 0))

    def train_one(task):
        return train_member(task, split.train, split.valid, cfg["model"], cfg["batch_size"],
                            cfg["metric"], Path(sm.params.workdir) / f"member{task.member}",
                            out_dir / f"member{task.member}.ckpt", device)

    records = run_chunk(plan, sm.input.plan, schedule.chunk_members(chunk), schedule,
                        sm.params.seed, lambda p: chunk_ckpt(sm.params.root, g - 1,
                                                             schedule.chunk_of(p), p), train_one)
    for r in records:
        log.info("member %d gen %d: %s score %s (from %s)", r["member"], g, r["status"],
                 r["score"], r["resumed_from"])
    prov = run_provenance(sm)
    prov.pop("config_json")
    write_json(sm.output.json, {"generation": g, "chunk": chunk, "members": records,
                                "provenance": prov})
