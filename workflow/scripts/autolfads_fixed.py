"""Fixed-HP LFADS baseline: one model, the PBT's total epochs, hyperparameters from config."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

import shutil  # noqa: E402

from neurodyn.autolfads.pipeline import load_split, summarise, write_population  # noqa: E402
from neurodyn.autolfads.plan import Schedule, member_seed  # noqa: E402
from neurodyn.io.atomic import atomic_path  # noqa: E402
from neurodyn.workflow import logged, run_provenance, train_settings  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    from neurodyn.autolfads.member import MemberTask, member_runner, train_members

    settings = train_settings(sm)
    cfg = sm.params.cfg
    split = load_split(sm.input[0], cfg)
    task = MemberTask(member=0, generation=0, hps=dict(cfg["fixed_hps"]),
                      seed=member_seed(sm.params.seed, 0, 0),
                      target_epochs=Schedule.from_config(cfg).total_epochs)
    # the fit folder under params.workdir survives a failed job (resume from last.ckpt)
    runner = member_runner(sm.params.workdir, cfg, settings, sm.params.code, sm.input[0],
                           label="fixed-HP LFADS")
    [(record, ckpt)] = train_members(runner, [task], split.train, split.valid, cfg, settings)
    if record["status"] != "ok":
        raise RuntimeError(f"fixed-HP LFADS failed: {record['error']}")
    with atomic_path(sm.output.best) as tmp:
        shutil.copyfile(ckpt, tmp)
    population = [[{**record, "reason": "fixed"}]]
    prov = run_provenance(sm)
    prov.pop("config_json")
    write_population(sm.output.population, population, summarise(population),
                     {"backend": "fixed", "provenance": prov,
                      "source": "synthetic" if split.synthetic else "real"})
    log.info("fixed-HP LFADS: score %.5f after %d epochs", record["score"], record["epochs"])
