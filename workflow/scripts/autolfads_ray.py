"""Run the PBT population under Ray Tune (local Ray or an existing cluster)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

import shutil  # noqa: E402

from neurodyn.autolfads.pipeline import load_split, summarise, write_population  # noqa: E402
from neurodyn.autolfads.space import search_space  # noqa: E402
from neurodyn.io.atomic import atomic_path  # noqa: E402
from neurodyn.workflow import logged, run_provenance, train_settings  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    from neurodyn.autolfads.ray_backend import run_ray_pbt

    cfg = sm.params.cfg
    settings = train_settings(sm)  # a job given a GPU that torch cannot see fails here
    if settings.device == "cuda" and not cfg["ray"]["gpus_per_trial"]:
        log.warning("a GPU is visible but autolfads.ray.gpus_per_trial is 0: the Ray trials "
                    "train on CPU")
    split = load_split(sm.input[0], cfg)
    space = search_space(cfg["search_space"], split.elements_per_trial)
    # seed_offset 0: the Snakemake backend's seeds (the same population, a check that the two
    # engines are equivalent); another value: an independent PBT run, as in the paper.
    seed = sm.params.seed + int(cfg["ray"]["seed_offset"])
    # member fits under params.workdir survive a failed job (keyed; reused or resumed)
    population, best, selections = run_ray_pbt(sm.input[0], cfg, space, seed,
                                               sm.output.tune, sm.params.workdir,
                                               sm.config.get("train", {}), sm.params.code)
    with atomic_path(sm.output.best) as tmp:
        shutil.copyfile(best, tmp)
    prov = run_provenance(sm)
    prov.pop("config_json")
    write_population(sm.output.population, population, summarise(population),
                     {"backend": "ray", "provenance": prov, "selections": selections,
                      "source": "synthetic" if split.synthetic else "real"})
    log.info("Ray Tune PBT done; best member %s", summarise(population)["best_member"])
