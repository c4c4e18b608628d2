"""Fixed-HP LFADS baseline: one model, the PBT's total epochs, hyperparameters from config."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.autolfads.pipeline import load_split, summarise, write_population  # noqa: E402
from neurodyn.hpo.plan import Schedule, member_seed  # noqa: E402
from neurodyn.train.runtime import accelerator, quiet_lightning  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    quiet_lightning()
    import torch

    from neurodyn.hpo.member import MemberTask, train_member

    torch.set_num_threads(sm.threads)
    cfg = sm.params.cfg
    split = load_split(sm.input[0], cfg)
    task = MemberTask(member=0, generation=0, hps=dict(cfg["fixed_hps"]),
                      seed=member_seed(sm.params.seed, 0, 0),
                      target_epochs=Schedule.from_config(cfg).total_epochs)
    result = train_member(task, split.train, split.valid, cfg["model"], cfg["batch_size"],
                          cfg["metric"], Path(sm.params.workdir), Path(sm.output.best),
                          accelerator(sm.resources.get("gpu", 0)))
    if result.status != "ok":
        raise RuntimeError(f"fixed-HP LFADS failed: {result.error}")
    population = [[{**result.to_json(), "reason": "fixed"}]]
    prov = run_provenance(sm)
    prov.pop("config_json")
    write_population(sm.output.population, population, summarise(population),
                     {"backend": "fixed", "provenance": prov,
                      "source": "synthetic" if split.synthetic else "real"})
    log.info("fixed-HP LFADS: score %.5f after %d epochs", result.score, result.epochs)
