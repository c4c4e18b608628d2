"""Train a chunk of scaling fits in one process through the shared fit runner.

A fit is (experiment, arch, seed, level): ``data_scaling`` fits use the matched model size
and the first ``level`` worms of a seeded permutation (capped at the cohort's worms);
``model_scaling`` fits use hidden size ``level`` on all worms. Every fit is evaluated on the
fixed validation set (second halves of all worms). Each fit lives in
``<workdir>/<fit id>/<key>/`` (:class:`~neurodyn.train.runner.FitRunner`): its key digests
the fit, :func:`~neurodyn.scaling.keys.fit_config`, the training code and the cohort file, so
a finished fit is reused only when none of them changed, and a killed one resumes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurodyn.digest import code_digest
from neurodyn.scaling.generation import PAPER_SEED_DATASET, generation_record, generation_worm
from neurodyn.scaling.grid import FIXED_SIZE_ARCHS, Fit, generates
from neurodyn.scaling.keys import TRAIN_CODE, fit_config, fit_settings
from neurodyn.scaling.models import build_model, hidden_for_params
from neurodyn.scaling.next_step import TrainConfig, fit_next_step
from neurodyn.scaling.windows import Windows, eligible_worms, nested_worm_subsets, worm_windows
from neurodyn.train.device import TrainSettings
from neurodyn.train.runner import FitRunner, PlannedFit
from neurodyn.train.runtime import seed_all

log = logging.getLogger("neurodyn")


def _hidden(fit: Fit, matched_params: int) -> int | None:
    if fit.arch in FIXED_SIZE_ARCHS:
        return None
    if fit.experiment == "model_scaling":
        return fit.level
    return hidden_for_params(fit.arch, matched_params)


class _Cohort:
    """The windows of one cohort: the fixed validation set and the training sets (cached per
    seed and worm count, since several fits of a chunk share them)."""

    def __init__(self, ds: xr.Dataset, cfg: Mapping[str, Any]) -> None:
        self.ds, self.cfg = ds, cfg
        self.worms, self.skipped = eligible_worms(ds, cfg["seq_len"])
        if not self.worms:
            raise ValueError(f"no worm is long enough for windows of {cfg['seq_len']} steps "
                             "(config scaling.seq_len)")
        if self.skipped:
            log.warning("skipping %d worms too short for windows of %d steps: %s",
                        len(self.skipped), cfg["seq_len"], ", ".join(self.skipped))
        self.window = {"seq_len": cfg["seq_len"], "train_first": cfg.get("train_first", True)}
        self.val = worm_windows(ds, self.worms, n_windows=cfg["val_windows"], split="val",
                                **self.window)
        self._train: dict[tuple[int, int], Windows] = {}

    def n_worms(self, fit: Fit) -> int:
        if fit.experiment == "data_scaling":
            return min(fit.level, len(self.worms))
        return len(self.worms)

    def train_set(self, fit: Fit) -> Windows:
        key = (fit.seed, self.n_worms(fit))
        if key not in self._train:
            subset = nested_worm_subsets(self.worms, [key[1]], fit.seed)[key[1]]
            self._train[key] = worm_windows(self.ds, subset, n_windows=self.cfg["train_windows"],
                                            split="train", **self.window)
        return self._train[key]


def train_fit(cohort: _Cohort, fit: Fit, workdir: Path, settings: TrainSettings,
              label: str = "") -> dict[str, Any]:
    """Train and evaluate one fit in ``workdir``; return its record."""
    cfg = cohort.cfg
    train = cohort.train_set(fit)
    seed_all(fit.seed)
    hidden = _hidden(fit, cfg["matched_params"])
    model = build_model(fit.arch, hidden)
    record = fit_next_step(model, train, cohort.val, TrainConfig(**cfg["train"]), workdir,
                           fit.seed, settings, label=label or fit.fit_id)
    record.update(experiment=fit.experiment, arch=fit.arch, seed=fit.seed,
                  hidden=hidden or 0, n_worms=cohort.n_worms(fit),
                  n_train_steps=train.unique_steps, n_worms_skipped=len(cohort.skipped))
    if generates(fit):
        dataset = cfg["generation"].get("seed_dataset", PAPER_SEED_DATASET)
        worm = generation_worm(cohort.ds, cohort.worms, dataset)
        record["generation"] = generation_record(model, cohort.ds, worm, cfg)
    return {k: (float(v) if isinstance(v, np.floating) else v) for k, v in record.items()}


def run_fits(ds: xr.Dataset, fits: Sequence[Fit], cfg: Mapping[str, Any], workdir: Path,
             settings: TrainSettings | None = None, inputs: Sequence[str | Path] = (),
             label: str = "scaling") -> list[dict[str, Any]]:
    """Train and evaluate ``fits`` on the cohort ``ds`` (read from the files ``inputs``), with
    config ``cfg`` (``scaling``); return one record per fit, reusing finished fits whose key
    is unchanged."""
    settings = settings or TrainSettings()
    cfg = fit_settings(cfg)
    precision = settings.effective_precision
    runner = FitRunner(workdir, config=lambda spec: fit_config(cfg, Fit(**spec), precision),
                       code=code_digest(*TRAIN_CODE), inputs=inputs, label=label)
    by_id = {fit.fit_id: fit for fit in fits}
    specs = [(fit.fit_id, vars(fit)) for fit in fits]
    cohort: list[_Cohort] = []  # built on the first fit to train: nothing to do, no windows

    def train_one(planned: PlannedFit) -> dict[str, Any]:
        if not cohort:
            cohort.append(_Cohort(ds, cfg))
        return train_fit(cohort[0], by_id[planned.fit_id], planned.dir, settings)

    return runner.run(specs, train_one)
