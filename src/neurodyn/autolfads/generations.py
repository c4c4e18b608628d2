"""The Snakemake-native PBT backend, file by file: the generation-0 plan, one generation of a
chunk of members, and the selection that writes the next generation's plan.

A plan (``plan/gen{g}.json``) lists, for every member of generation g, its parent in
generation g−1 (None in generation 0), its hyperparameters and why (init, kept, won, lost,
failed…); it also carries the search space, so member jobs never recompute it, and the
best score of every generation so far (for the improvement-ratio stopping rule). Once that
rule stops the run (``stopped_after``: the last trained generation), every later plan is a
no-op: each member keeps its own checkpoint and record (``reason: "stopped"``), and its
member job copies them instead of training.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neurodyn.autolfads.pbt import best_score, initial_hps, select, stop_by_improvement
from neurodyn.autolfads.plan import Schedule, member_seed
from neurodyn.autolfads.space import SearchSpace
from neurodyn.errors import InputError

if TYPE_CHECKING:  # torch-free at import: the selection jobs run without torch
    from neurodyn.autolfads.member import MemberTask


def initial_plan(space: SearchSpace, schedule: Schedule, seed: int) -> dict[str, Any]:
    members = [{"member": m, "parent": None, "hps": hps, "reason": "init", "cloned": False}
               for m, hps in enumerate(initial_hps(space, schedule.population, seed))]
    return {"generation": 0, "members": members, "search_space": space.to_json(),
            "best_scores": [], "stopped_after": None}


def plan_member(plan: Mapping[str, Any], member: int, path: str) -> Mapping[str, Any]:
    for entry in plan["members"]:
        if entry["member"] == member:
            return entry
    raise InputError(path, "members", f"no entry for member {member}")


def member_tasks(plan: Mapping[str, Any], plan_path: str, members: Sequence[int],
                 schedule: Schedule, seed: int,
                 parent_ckpt: Callable[[int], str]) -> list[tuple[MemberTask, str]]:
    """The task (and the plan's reason) of each of ``members`` in the plan's generation;
    ``parent_ckpt(p)`` is the path of member p's checkpoint of the previous generation."""
    from neurodyn.autolfads.member import MemberTask

    g = int(plan["generation"])
    tasks = []
    for m in members:
        entry = plan_member(plan, m, plan_path)
        parent = entry["parent"]
        task = MemberTask(member=m, generation=g, hps=dict(entry["hps"]),
                          seed=member_seed(seed, m, g), target_epochs=schedule.target_epochs(g),
                          parent=parent,
                          parent_ckpt=None if parent is None else parent_ckpt(int(parent)))
        tasks.append((task, str(entry["reason"])))
    return tasks


def score_of(record: Mapping[str, Any]) -> float:
    s = record.get("score")
    return math.nan if s is None else float(s)


def next_plan(plan: Mapping[str, Any], records: Sequence[Mapping[str, Any]],
              schedule: Schedule, seed: int, source: str) -> dict[str, Any]:
    """Selection after the plan's generation: every member of the population must have a
    record (a missing one is an error, not a silent drop)."""
    g = int(plan["generation"])
    by_member = {int(r["member"]): r for r in records}
    missing = sorted(set(range(schedule.population)) - set(by_member))
    if missing:
        raise InputError(source, "member", f"generation {g}: no result for members {missing}")
    ordered = [by_member[m] for m in range(schedule.population)]
    scores = [score_of(r) for r in ordered]
    best = list(plan.get("best_scores", []))  # JSON: None for a generation without a score
    stopped = plan.get("stopped_after")
    if stopped is None:
        gen_best = best_score(scores)
        best.append(gen_best if math.isfinite(gen_best) else None)
        if schedule.stopping == "improvement" and stop_by_improvement(
                [math.nan if b is None else b for b in best], schedule.patience,
                schedule.min_improvement):
            stopped = g
    out = {"generation": g + 1, "search_space": plan["search_space"], "best_scores": best,
           "stopped_after": stopped,
           "previous_scores": [s if math.isfinite(s) else None for s in scores]}
    if stopped is not None:  # a no-op generation: every member keeps its state and record
        kept = [{"member": m, "parent": m, "hps": dict(r["hps"]), "reason": "stopped",
                 "cloned": False, "record": {k: v for k, v in r.items() if k != "history"}}
                for m, r in enumerate(ordered)]
        return {**out, "members": kept}
    space = SearchSpace.from_json(plan["search_space"])
    choices = select(scores, [r["hps"] for r in ordered], space, g,
                     schedule.burn_in_generations, seed)
    return {**out, "members": [c.to_json() for c in choices]}


def stopped_records(plan: Mapping[str, Any], members: Sequence[int],
                    path: str) -> list[dict[str, Any]] | None:
    """The records of ``members`` in a no-op generation after an early stop (their last
    trained generation's, with no new epochs), or None when the plan's generation trains."""
    if plan.get("stopped_after") is None:
        return None
    g = int(plan["generation"])
    out = []
    for m in members:
        entry = plan_member(plan, m, path)
        out.append({**entry["record"], "generation": g, "parent": m, "reason": "stopped",
                    "start": "parent", "history": [],
                    "stopped_after": int(plan["stopped_after"])})
    return out


def chunk_ckpt(root: str | Path, generation: int, chunk: int, member: int) -> str:
    return str(Path(root) / f"gen{generation}" / f"chunk{chunk}.ckpt" / f"member{member}.ckpt")
