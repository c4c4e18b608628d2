"""Random search at the PBT's budget (the A3 arm, backend ``random``).

``population`` models, each with hyperparameters drawn from the PBT's search space (uniform or
log-uniform in ``[low, high]``; the ``init`` values of generation 0 are not used), each trained
from scratch for as many epochs as one PBT member trained in the same replicate (the
generations it actually trained, so an improvement-rule stop shortens both arms alike), so the
two arms spend the same model-epochs. The best model is chosen by the same selection metric.
Models train as keyed fits of the shared member runner, several per job; their records and
checkpoints are laid out as a one-generation population (``gen0/chunk{c}.json`` and
``gen0/chunk{c}.ckpt``), so the Snakemake backend's collection step gathers them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from neurodyn.autolfads.plan import Schedule, member_seed
from neurodyn.autolfads.space import SearchSpace
from neurodyn.errors import InputError

if TYPE_CHECKING:
    from neurodyn.autolfads.member import MemberTask


def random_hps(space: SearchSpace, n: int, seed: int) -> list[dict[str, float]]:
    """Hyperparameters of the ``n`` random-search models (reproducible from the seed; a stream
    apart from PBT's generation-0 draws)."""
    rng = np.random.default_rng([int(seed), 0x4A4D])
    return [space.sample(rng, use_init=False) for _ in range(n)]


def epochs_per_model(pbt_summary: Mapping[str, Any], schedule: Schedule, source: str) -> int:
    """Epochs of one random-search model: what one member of the PBT run trained
    (``generations_trained`` of its population summary)."""
    if "generations_trained" not in pbt_summary:
        raise InputError(source, "summary.generations_trained", "missing")
    gens = int(pbt_summary["generations_trained"])
    if not 1 <= gens <= schedule.generations:
        raise InputError(source, "summary.generations_trained",
                         f"{gens} is outside 1..{schedule.generations}")
    return schedule.target_epochs(gens - 1)


def random_tasks(space: SearchSpace, schedule: Schedule, seed: int, epochs: int,
                 members: Sequence[int]) -> list[MemberTask]:
    """The tasks of ``members`` (a chunk): generation 0, from scratch, ``epochs`` epochs."""
    from neurodyn.autolfads.member import MemberTask

    hps = random_hps(space, schedule.population, seed)
    return [MemberTask(member=m, generation=0, hps=hps[m], seed=member_seed(seed, m, 0),
                       target_epochs=int(epochs)) for m in members]


def one_generation(schedule: Schedule) -> Schedule:
    """The schedule of the random-search population (one generation) for collection."""
    return replace(schedule, generations=1)
