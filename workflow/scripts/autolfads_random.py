"""Random search (A3): train a chunk of models with HPs drawn from the PBT search space, each
for the epochs one member of the replicate's first PBT engine trained."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

import shutil  # noqa: E402

from neurodyn.autolfads.pipeline import load_split, read_json  # noqa: E402
from neurodyn.autolfads.plan import Schedule  # noqa: E402
from neurodyn.autolfads.random_search import epochs_per_model, random_tasks  # noqa: E402
from neurodyn.autolfads.space import search_space  # noqa: E402
from neurodyn.io.atomic import atomic_path, write_json  # noqa: E402
from neurodyn.workflow import logged, run_provenance, train_settings  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    from neurodyn.autolfads.member import member_runner, train_members

    settings = train_settings(sm)
    cfg, chunk = sm.params.cfg, int(sm.wildcards.chunk)
    schedule = Schedule.from_config(cfg)
    split = load_split(sm.input.data, cfg)
    space = search_space(cfg["search_space"], split.elements_per_trial)
    epochs = epochs_per_model(read_json(sm.input.pbt)["summary"], schedule, sm.input.pbt)
    tasks = random_tasks(space, schedule, sm.params.seed, epochs, schedule.chunk_members(chunk))
    # fit folders under params.workdir survive a failed job (resume from last.ckpt)
    runner = member_runner(sm.params.workdir, cfg, settings, sm.params.code, sm.input.data,
                           label=f"random search chunk {chunk}")
    done = train_members(runner, tasks, split.train, split.valid, cfg, settings)
    out_dir = Path(sm.output.ckpts)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for task, (record, ckpt) in zip(tasks, done, strict=True):
        with atomic_path(out_dir / f"member{task.member}.ckpt") as tmp:
            shutil.copyfile(ckpt, tmp)
        records.append({**record, "reason": "random"})
    prov = run_provenance(sm)
    prov.pop("config_json")
    write_json(sm.output.json, {"generation": 0, "chunk": chunk, "members": records,
                                "provenance": prov})
    log.info("random search chunk %d: %d models of %d epochs", chunk, len(records), epochs)
