"""The PBT schedule as plain numbers from config (torch-free; the Snakefile imports it).

Population × generations are known up front, so the whole DAG is planned by ``snakemake -n``:
member jobs of generation g+1 depend on the selection file of generation g, which names each
member's parent and hyperparameters. With ``pbt.stopping: improvement`` (autolfads-tf2's
rule, see :func:`neurodyn.autolfads.pbt.stop_by_improvement`) ``generations`` is the maximum;
after an early stop the remaining planned generations are no-ops that copy the last trained
one (the DAG cannot shrink at run time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Schedule:
    population: int
    generations: int
    first_generation_epochs: int  # generation 0 (covers the KL/L2 ramps)
    epochs_per_generation: int  # every later generation
    burn_in_generations: int  # no tournament after generations < this
    members_per_job: int
    stopping: str = "fixed"  # "fixed" | "improvement" (generations = the maximum)
    patience: int = 4  # generations whose best scores the improvement rule compares
    min_improvement: float = 5e-4  # stop when the relative improvement is at most this

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> Schedule:
        p = cfg["pbt"]
        stopping = str(p.get("stopping", "fixed"))
        if stopping not in ("fixed", "improvement"):
            raise ValueError(f"autolfads.pbt.stopping must be fixed or improvement, not "
                             f"{stopping!r}")
        return cls(int(p["population"]), int(p["generations"]),
                   int(p["first_generation_epochs"]), int(p["epochs_per_generation"]),
                   int(p["burn_in_generations"]), int(p["members_per_job"]), stopping,
                   int(p.get("patience", 4)), float(p.get("min_improvement", 5e-4)))

    @property
    def n_chunks(self) -> int:
        return -(-self.population // self.members_per_job)

    def chunk_members(self, chunk: int) -> list[int]:
        start = chunk * self.members_per_job
        return list(range(start, min(start + self.members_per_job, self.population)))

    def chunk_of(self, member: int) -> int:
        return member // self.members_per_job

    def target_epochs(self, generation: int) -> int:
        """Total epochs a member has trained at the end of ``generation``."""
        return self.first_generation_epochs + generation * self.epochs_per_generation

    @property
    def total_epochs(self) -> int:
        return self.target_epochs(self.generations - 1)


#: Seeds of replicate k are ``seed + SEED_STRIDE · k`` (replicate 0 keeps the global seed, so
#: a one-seed run keeps its numbers and fit keys); ``ray.seed_offset`` (< SEED_STRIDE) is
#: added on top, so no Ray replicate shares the seeds of any Snakemake replicate.
SEED_STRIDE = 1000


def replicate_seeds(cfg: Mapping[str, Any]) -> list[int]:
    """``autolfads.seeds``: the replicate indices every method runs once for (default [0])."""
    seeds = [int(s) for s in cfg.get("seeds", [0])]
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ValueError(f"autolfads.seeds must be distinct non-negative integers, not {seeds}")
    return seeds


def run_seed(base: int, replicate: int | str, offset: int = 0) -> int:
    """The seed of one run (one method, one replicate) from the global seed."""
    if not 0 <= int(offset) < SEED_STRIDE:
        raise ValueError(f"autolfads.ray.seed_offset must be in [0, {SEED_STRIDE}), not "
                         f"{offset}")
    return int(base) + SEED_STRIDE * int(replicate) + int(offset)


def member_seed(seed: int, member: int, generation: int) -> int:
    """A distinct, reproducible seed per member and generation."""
    return int(seed) * 1_000_003 + generation * 10_007 + member
