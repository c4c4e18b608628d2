"""Fig. 5's "HP optimisation" arm: population-based training (PBT) of LFADS with coordinated
dropout, selecting on the standard validation loss, as in Keshtkaran & Pandarinath 2019.

One PBT per training subset, run synchronously in one process: the selection rule (binary
tournament, bounded multiplicative explore), the member training (restore the parent's
weights, optimiser and smoothing state, apply the member's HPs, train to the generation's
epoch count) and the search space come from the AutoLFADS study (``neurodyn.autolfads``:
``pbt``, ``generations``, ``member``, ``space``), so both studies run one PBT. Every member
generation is a keyed fit of the shared runner under ``workdir/gen<g>``, so an interrupted PBT
resumes where it stopped. The schedule splits a model's epoch budget (the same as a fixed-HP
model's) over the generations; the best member of the last generation (lowest score) is
returned.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from neurodyn.autolfads.generations import initial_plan, member_tasks, next_plan, score_of
from neurodyn.autolfads.plan import Schedule
from neurodyn.autolfads.space import SearchSpace, search_space
from neurodyn.train.device import TrainSettings

log = logging.getLogger("neurodyn")
PBT_METRIC = "valid/recon_heldin_smth"  # the standard validation loss (smoothed), lower wins
# The paper's Table 1 beyond the five ranges of ``lfads.search.ranges``: learning rate
# 1e-5–0.02 (start 0.01) and CD keep ratio 0.3–0.99 (start 0.5, i.e. cd_rate 0.01–0.7).
# Explore weights as in the AutoLFADS study's config (0.3 for rates, 0.8 for KL/L2 weights).
FIXED_SPACE: dict[str, dict[str, Any]] = {
    "lr_init": {"low": 1e-5, "high": 0.02, "log": True, "init": 0.01, "explore_weight": 0.3},
    "cd_rate": {"low": 0.01, "high": 0.7, "log": False, "init": 0.5, "explore_weight": 0.3},
}


def space_config(cfg: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The PBT search space in the paper's units: ``lfads.search.ranges`` + :data:`FIXED_SPACE`."""
    out = {k: dict(v) for k, v in FIXED_SPACE.items()}
    for name, (low, high) in cfg["search"]["ranges"].items():
        rate = name == "dropout_rate"
        out[name] = {"low": float(low), "high": float(high), "log": not rate,
                     "per_element": not rate, "explore_weight": 0.3 if rate else 0.8}
    return out


def pbt_space(cfg: Mapping[str, Any], elements_per_trial: int) -> SearchSpace:
    return search_space(space_config(cfg), elements_per_trial, "config lfads.search.ranges")


def pbt_schedule(cfg: Mapping[str, Any], total_epochs: int) -> Schedule:
    """Population ``dataset_size.hpo_models``; ``total_epochs`` split over the generations
    (``dataset_size.pbt.generations``, the remainder going to generation 0, which covers the
    KL/L2 ramps)."""
    d = cfg["dataset_size"]
    pbt = d.get("pbt", {})
    gens = max(1, min(int(pbt.get("generations", 3)), int(total_epochs)))
    per = int(total_epochs) // gens
    first = int(total_epochs) - (gens - 1) * per
    population = int(d["hpo_models"])
    return Schedule(population=population, generations=gens, first_generation_epochs=first,
                    epochs_per_generation=per,
                    burn_in_generations=int(pbt.get("burn_in_generations", 0)),
                    members_per_job=population)


def run_pbt(train: Mapping[str, np.ndarray], valid: Mapping[str, np.ndarray],
            model_cfg: Mapping[str, Any], batch_size: int, space: SearchSpace,
            schedule: Schedule, seed: int, workdir: Path, settings: TrainSettings, code: str,
            data_path: str | Path, label: str = "pbt") -> tuple[Any, dict[str, Any],
                                                                list[list[dict[str, Any]]]]:
    """Run a whole PBT; return the best final member (model on the CPU), its record and
    every member's record per generation."""
    from neurodyn.autolfads.member import load_member, member_runner, train_members

    base = {k: v for k, v in model_cfg.items() if k not in space.names}
    member_cfg = {"model": base, "batch_size": int(batch_size), "metric": PBT_METRIC}
    workdir = Path(workdir)
    plan = initial_plan(space, schedule, seed)
    handed_ckpt: dict[int, str] = {}  # member -> checkpoint it handed on last generation
    population: list[list[dict[str, Any]]] = []
    for g in range(schedule.generations):
        tasks = [t for t, _ in member_tasks(plan, str(workdir / f"gen{g}"),
                                            range(schedule.population), schedule, seed,
                                            handed_ckpt.__getitem__)]
        runner = member_runner(workdir / f"gen{g}", member_cfg, settings, code, data_path,
                               label=f"{label} gen {g}")
        results = train_members(runner, tasks, train, valid, member_cfg, settings)
        handed_ckpt = {int(r["member"]): str(path) for r, path in results}
        records = sorted((r for r, _ in results), key=lambda r: int(r["member"]))
        population.append(records)
        if g + 1 < schedule.generations:
            plan = next_plan(plan, records, schedule, seed, str(workdir))
    finite = [r for r in population[-1] if math.isfinite(score_of(r))]
    if not finite:
        raise RuntimeError(f"{label}: every member of the last generation failed")
    best = min(finite, key=score_of)
    model = load_member(handed_ckpt[int(best["member"])], base, train)
    log.info("%s: best member %d, %s %.4f", label, best["member"], PBT_METRIC, score_of(best))
    return model.cpu(), best, population
