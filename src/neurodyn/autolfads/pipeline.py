"""The steps behind the AutoLFADS rules (the workflow scripts only read ``snakemake.*``).

Backends write the same two things: ``population.json`` (every member's record in every
generation: parent, hyperparameters, score, per-epoch history) and ``best.ckpt`` (the final
generation's best member), so evaluation, tables and figures treat them alike.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurodyn.autolfads.data import NLBSplit, nlb_split
from neurodyn.autolfads.generations import chunk_ckpt, score_of
from neurodyn.autolfads.plan import Schedule
from neurodyn.errors import InputError
from neurodyn.io.atomic import atomic_path
from neurodyn.io.spikes import open_spikes


def load_split(path: str | Path, cfg: Mapping[str, Any]) -> NLBSplit:
    return nlb_split(open_spikes(path), str(path), cfg["eval"])


def read_json(path: str | Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise InputError(path, "json", str(exc)) from exc


def lineage(population: Sequence[Sequence[Mapping[str, Any]]], member: int) -> list[int]:
    """Member ids from generation 0 to the last generation leading to ``member``."""
    chain = [member]
    for g in range(len(population) - 1, 0, -1):
        parent = population[g][chain[0]]["parent"]
        chain.insert(0, int(parent))
    return chain


def trained_generations(population: Sequence[Sequence[Mapping[str, Any]]]
                        ) -> list[Sequence[Mapping[str, Any]]]:
    """The generations that trained (before the no-op copies that follow an early stop)."""
    out = []
    for gen in population:
        if gen and all(r.get("reason") == "stopped" for r in gen):
            break
        out.append(gen)
    return out


def pad_stopped(population: list[list[dict[str, Any]]],
                generations: int) -> list[list[dict[str, Any]]]:
    """After an early stop, fill the planned generations with no-op copies of the last
    trained one (each member keeps its record and state; ``reason: "stopped"``), as the
    Snakemake backend's no-op member jobs write them."""
    last = len(population) - 1
    out = list(population)
    while len(out) < generations:
        out.append([{**{k: v for k, v in r.items() if k != "history"}, "generation": len(out),
                     "parent": r["member"], "reason": "stopped", "start": "parent",
                     "history": [], "stopped_after": last} for r in population[last]])
    return out


def unreplaced_failures(population: Sequence[Sequence[Mapping[str, Any]]]) -> int:
    """Failed member-generations not replaced by a clone of a healthy member: the next
    generation's record of that member is missing, continues the member itself, or clones a
    member that failed too; a failure in the final generation counts (nothing replaces it,
    the run ends with a failed member). No-op generations after an early stop are not
    counted."""
    population = trained_generations(population)
    count = 0
    for g, gen in enumerate(population):
        nxt = population[g + 1] if g + 1 < len(population) else None
        status = {int(r["member"]): r.get("status") for r in gen}
        by_member = {} if nxt is None else {int(r["member"]): r for r in nxt}
        for r in gen:
            if r.get("status") == "ok":
                continue
            m = int(r["member"])
            parent = by_member[m].get("parent") if m in by_member else None
            if parent is None or int(parent) == m or status.get(int(parent)) != "ok":
                count += 1
    return count


def summarise(population: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Best member of the last generation, its lineage and the generation-0 comparison (and,
    after an early stop, the last trained generation). ``model_epochs``: the epochs every
    member trained in the generations that trained (each record's ``epochs`` is its total at
    the end of its generation, so the last trained generation's sum; no-op generations after
    an early stop add nothing)."""
    trained = trained_generations(population)
    last = population[-1]
    scores = [score_of(r) for r in last]
    finite = [s for s in scores if math.isfinite(s)]
    if not finite:
        raise RuntimeError("no member of the last generation has a finite score")
    best = int(np.nanargmin(np.where(np.isfinite(scores), scores, np.nan)))
    chain = lineage(population, best)
    gen0 = [score_of(r) for r in population[0]]
    return {"best_member": best, "best_score": scores[best], "lineage": chain,
            "lineage_gen0_score": gen0[chain[0]], "own_gen0_score": gen0[best],
            "best_gen0_score": float(np.nanmin(gen0)),
            "failed_members": sum(r["status"] != "ok" for gen in trained for r in gen),
            "unreplaced_failures": unreplaced_failures(population),
            "member_generations": sum(len(gen) for gen in population),
            "generations_trained": len(trained),
            "stopped_early": len(trained) < len(population),
            "model_epochs": int(sum(int(r.get("epochs", 0)) for r in trained[-1]))}


def collect_snakemake(chunk_jsons: Sequence[str], schedule: Schedule, root: str,
                      population_out: str, best_out: str, meta: Mapping[str, Any]) -> None:
    """Gather the Snakemake backend's chunk results into ``population.json`` and copy the best
    final member's checkpoint to ``best.ckpt``."""
    population: list[list[dict[str, Any]]] = [[] for _ in range(schedule.generations)]
    for path in chunk_jsons:
        for rec in read_json(path)["members"]:
            population[int(rec["generation"])].append(rec)
    for g, gen in enumerate(population):
        gen.sort(key=lambda r: r["member"])
        if [r["member"] for r in gen] != list(range(schedule.population)):
            raise InputError(root, "members", f"generation {g} is incomplete")
    summary = summarise(population)
    m = summary["best_member"]
    src = chunk_ckpt(root, schedule.generations - 1, schedule.chunk_of(m), m)
    with atomic_path(best_out) as tmp:
        shutil.copyfile(src, tmp)
    write_population(population_out, population, summary, meta)


def write_population(path: str, population: list[list[dict[str, Any]]],
                     summary: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
    from neurodyn.io.atomic import write_json

    write_json(path, {"generations": population, "summary": dict(summary), **meta})


def rates_dataset(split: NLBSplit, eval_rates: np.ndarray, method: str,
                  attrs: Mapping[str, Any]) -> xr.Dataset:
    """Evaluation-trial rates (counts per bin) with spikes, condition and velocity, for
    Fig. 3."""
    test = split.test
    return xr.Dataset(
        {"rates": (("trial", "time", "neuron"), eval_rates.astype(np.float32)),
         "spikes": (("trial", "time", "neuron"), test["recon_data"].astype(np.float32)),
         "condition": ("trial", test["condition"].astype(np.int32)),
         "truth": (("trial", "time", "neuron"),
                   test.get("truth", np.full_like(eval_rates, np.nan)).astype(np.float32))},
        coords={"trial": test["trial"]},
        attrs={"method": method, "dataset": split.dataset, "n_heldin": split.n_heldin,
               "n_obs": split.n_obs, "bin_ms": split.bin_ms, "psth_sd_ms": split.psth_sd_ms,
               "t_start_ms": split.t_start_ms, "align": split.align,
               "synthetic": "true" if split.synthetic else "false",
               **{k: str(v) for k, v in attrs.items()}})


def write_rates(ds: xr.Dataset, path: str) -> None:
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4")
