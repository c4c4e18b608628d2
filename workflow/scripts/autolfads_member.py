"""Train a chunk of PBT members for one generation (Snakemake-native backend)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

import shutil  # noqa: E402

from neurodyn.autolfads.generations import (  # noqa: E402
    chunk_ckpt,
    member_tasks,
    stopped_records,
)
from neurodyn.autolfads.pipeline import load_split, read_json  # noqa: E402
from neurodyn.autolfads.plan import Schedule  # noqa: E402
from neurodyn.io.atomic import atomic_path, write_json  # noqa: E402
from neurodyn.workflow import logged, run_provenance, train_settings  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    cfg, g, chunk = sm.params.cfg, int(sm.wildcards.gen), int(sm.wildcards.chunk)
    schedule = Schedule.from_config(cfg)
    plan = read_json(sm.input.plan)
    out_dir = Path(sm.output.ckpts)
    members = schedule.chunk_members(chunk)
    stopped = stopped_records(plan, members, sm.input.plan)
    if stopped is not None:  # PBT stopped early: this planned generation copies the last one
        out_dir.mkdir(parents=True, exist_ok=True)
        for m in members:
            with atomic_path(out_dir / f"member{m}.ckpt") as tmp:
                shutil.copyfile(chunk_ckpt(sm.params.root, g - 1, schedule.chunk_of(m), m), tmp)
        records = stopped
        log.info("generation %d: PBT stopped after generation %s, members copied", g,
                 plan["stopped_after"])
    else:
        from neurodyn.autolfads.member import member_runner, train_members

        settings = train_settings(sm)
        split = load_split(sm.input.data, cfg)
        tasks = member_tasks(plan, sm.input.plan, members, schedule, sm.params.seed,
                             lambda p: chunk_ckpt(sm.params.root, g - 1, schedule.chunk_of(p),
                                                  p))
        # fit folders under params.workdir survive a failed job (resume from last.ckpt)
        runner = member_runner(sm.params.workdir, cfg, settings, sm.params.code, sm.input.data,
                               label=f"generation {g} chunk {chunk}")
        done = train_members(runner, [t for t, _ in tasks], split.train, split.valid, cfg,
                             settings)
        out_dir.mkdir(parents=True, exist_ok=True)
        records = []
        for (task, reason), (record, ckpt) in zip(tasks, done, strict=True):
            with atomic_path(out_dir / f"member{task.member}.ckpt") as tmp:
                shutil.copyfile(ckpt, tmp)
            records.append({**record, "reason": reason})
    prov = run_provenance(sm)
    prov.pop("config_json")
    write_json(sm.output.json, {"generation": g, "chunk": chunk, "members": records,
                                "provenance": prov})
    log.info("generation %d chunk %d: %d members written", g, chunk, len(records))
