"""NLB metrics of a backend's best model (PBT engine, random search or the fixed-HP model) of
one replicate on the evaluation trials; the record carries the replicate (``seed``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.autolfads.evaluate import lfads_rates, method_record, nlb_targets, score  # noqa: E402
from neurodyn.autolfads.pipeline import (  # noqa: E402
    load_split,
    rates_dataset,
    read_json,
    write_rates,
)
from neurodyn.io.atomic import write_json  # noqa: E402
from neurodyn.train.runtime import quiet_lightning  # noqa: E402
from neurodyn.workflow import logged, run_provenance, use_job_threads  # noqa: E402

METHODS = {"snakemake": "AutoLFADS", "ray": "AutoLFADS", "fixed": "LFADS (fixed HPs)",
           "random": "LFADS (random search)"}

sm = snakemake  # noqa: F821
with logged(sm) as log:
    quiet_lightning()
    from neurodyn.autolfads.member import load_member

    use_job_threads(sm)
    cfg, backend = sm.params.cfg, sm.wildcards.backend
    split = load_split(sm.input.data, cfg)
    summary = read_json(sm.input.population)["summary"]
    model = load_member(sm.input.best, cfg["model"], split.train)
    train_rates, eval_rates = lfads_rates(model, split, cfg["eval"]["n_samples"], sm.params.seed)
    metrics = score(train_rates, eval_rates, split, nlb_targets(split))
    prov = run_provenance(sm)
    prov.pop("config_json")
    record = method_record(METHODS[backend], backend, metrics, split,
                           **{**summary, "seed": int(sm.wildcards.seed)})
    write_json(sm.output.metrics, {**record, "provenance": prov})
    write_rates(rates_dataset(split, eval_rates, METHODS[backend], prov), sm.output.rates)
    log.info("%s: %s", backend, metrics)
