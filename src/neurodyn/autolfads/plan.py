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


def member_seed(seed: int, member: int, generation: int) -> int:
    """A distinct, reproducible seed per member and generation."""
    return int(seed) * 1_000_003 + generation * 10_007 + member
