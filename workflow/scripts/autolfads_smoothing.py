"""NLB metrics of the Gaussian-smoothing baseline (GLM for held-out neurons)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.autolfads.evaluate import (  # noqa: E402
    method_record,
    nlb_targets,
    score,
    smoothing_rates,
)
from neurodyn.autolfads.pipeline import load_split, rates_dataset, write_rates  # noqa: E402
from neurodyn.io.atomic import write_json  # noqa: E402
from neurodyn.workflow import logged, run_provenance  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm) as log:
    cfg = sm.params.cfg
    split = load_split(sm.input[0], cfg)
    sd = float(cfg["eval"]["smoothing_sd_ms"])
    train_rates, eval_rates = smoothing_rates(split, sd)
    metrics = score(train_rates, eval_rates, split, nlb_targets(split))
    prov = run_provenance(sm)
    prov.pop("config_json")
    write_json(sm.output.metrics, {**method_record("Gaussian smoothing", "none", metrics, split,
                                                   smoothing_sd_ms=sd), "provenance": prov})
    write_rates(rates_dataset(split, eval_rates, "Gaussian smoothing", prov), sm.output.rates)
    log.info("smoothing: %s", metrics)
