"""The PBT selection rule shared by both backends: binary tournament exploit, bounded
multiplicative explore, synchronous generations, burn-in before the first exploit.

* **Exploit**: after a generation, the members with a finite score are shuffled and paired;
  in each pair the worse (higher) score loses and clones the winner: weights, optimiser
  state and hyperparameters (the unpaired member of an odd population keeps its own). A
  member whose run failed (no finite score) always clones a randomly chosen tournament
  winner, also during burn-in: a crashed member is replaced, never dropped.
* **Explore**: only clones explore. Each searched hyperparameter takes a step of size
  ``s = U(0.002·w, w)`` (``w`` = its ``explore_weight``), up or down 50/50: log-scaled ones
  are multiplied or divided by ``1 + s`` (steps in log space, as autolfads-tf2 explores
  them), linear ones move by ``± s·(high − low)``; redrawn up to 100 times until it is
  inside its bounds, then clipped.
  The bounds are the sampling range, or ``[0, inf)`` for a hyperparameter without enforced
  limits (the JOSS run's KL and L2 weights, as autolfads-tf2), which can leave the range.
* **Burn-in**: no tournament after generations ``< burn_in_generations``.
* **Length**: a fixed number of generations, or autolfads-tf2's improvement-ratio rule
  (:func:`stop_by_improvement`, up to a maximum number of generations).

All randomness comes from a generator seeded by (seed, generation), so a selection is
reproducible from its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from neurodyn.autolfads.space import HParam, SearchSpace

MAX_EXPLORE_DRAWS = 100


@dataclass(frozen=True)
class Choice:
    """What member ``member`` does in the next generation."""

    member: int
    parent: int  # whose checkpoint it continues from (itself unless cloned)
    hps: dict[str, float]
    reason: str  # "kept", "burn-in", "won", "unpaired", "lost", "failed"

    @property
    def cloned(self) -> bool:
        return self.parent != self.member

    def to_json(self) -> dict:
        return {**asdict(self), "cloned": self.cloned}


def selection_rng(seed: int, generation: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(generation), 0x5EED])


def initial_hps(space: SearchSpace, population: int, seed: int) -> list[dict[str, float]]:
    """Generation-0 hyperparameters of every member (reproducible from the seed)."""
    rng = np.random.default_rng([int(seed), 0x1417])
    return [space.sample(rng) for _ in range(population)]


def perturb(value: float, p: HParam, rng: np.random.Generator) -> float:
    """One explore step of ``value``: ``s = U(0.002·w, w)`` (``w`` = ``explore_weight``), up
    or down 50/50. A log-scaled HP is multiplied or divided by ``1 + s`` (a symmetric step in
    log space, never through 0); a linear one moves by ``± s·(high − low)`` (additive, so a
    value at 0, e.g. no dropout, can still move)."""
    step = rng.uniform(0.002 * p.explore_weight, p.explore_weight)
    up = rng.random() < 0.5
    if p.log:
        return value * (1 + step) if up else value / (1 + step)
    return value + (step if up else -step) * (p.high - p.low)


def explore(hps: Mapping[str, float], space: SearchSpace,
            rng: np.random.Generator) -> dict[str, float]:
    """Perturb every searched hyperparameter (:func:`perturb`), redrawing up to
    :data:`MAX_EXPLORE_DRAWS` times until it is inside its bounds, then clipping."""
    out = dict(hps)
    for p in space.params:
        value = float(hps[p.name])
        for _ in range(MAX_EXPLORE_DRAWS):
            new = perturb(value, p, rng)
            if p.contains(new):
                break
        lo, hi = p.bounds
        out[p.name] = float(min(max(new, lo), hi))
    return out


def tournament(scores: Sequence[float],
               rng: np.random.Generator) -> tuple[dict[int, int], int | None]:
    """Binary tournament on finite scores (lower is better). Returns ``{member: parent}`` for
    every member with a finite score (the winner of its pair, or itself) and the unpaired
    member of an odd population (or None)."""
    alive = [i for i, s in enumerate(scores) if math.isfinite(s)]
    order = [alive[i] for i in rng.permutation(len(alive))]
    parent = {i: i for i in alive}
    for a, b in zip(order[0::2], order[1::2], strict=False):
        winner, loser = (a, b) if scores[a] <= scores[b] else (b, a)
        parent[loser] = winner
    return parent, (order[-1] if len(order) % 2 else None)


def select(scores: Sequence[float], hps: Sequence[Mapping[str, float]], space: SearchSpace,
           generation: int, burn_in_generations: int, seed: int) -> list[Choice]:
    """The next generation's parent and hyperparameters for every member, after
    ``generation`` (0-based) produced ``scores``."""
    if len(scores) != len(hps):
        raise ValueError(f"{len(scores)} scores for {len(hps)} members")
    rng = selection_rng(seed, generation)
    alive = [i for i, s in enumerate(scores) if math.isfinite(s)]
    if not alive:
        raise RuntimeError(f"generation {generation}: every member failed (no finite score)")
    exploit = generation >= burn_in_generations
    if exploit:
        parent, unpaired = tournament(scores, rng)
        winners = sorted(set(parent.values()))
    else:
        parent, unpaired, winners = {i: i for i in alive}, None, alive
    choices = []
    for m in range(len(scores)):
        if m not in parent:
            src, reason = int(rng.choice(winners)), "failed"
        elif not exploit:
            src, reason = m, "burn-in"
        else:
            src = parent[m]
            reason = "lost" if src != m else "unpaired" if m == unpaired else "won"
        new = explore(hps[src], space, rng) if src != m else dict(hps[m])
        choices.append(Choice(m, src, {k: float(v) for k, v in new.items()}, reason))
    return choices


def best_score(scores: Sequence[float]) -> float:
    """The generation's best (lowest) finite score; NaN when every member failed."""
    finite = [float(s) for s in scores if math.isfinite(s)]
    return min(finite) if finite else math.nan


def improvement_ratio(best_scores: Sequence[float], patience: int) -> float | None:
    """Relative improvement of the generation-best score over the last ``patience``
    generations (lower is better): ``(first − min) / mean(|·|)`` of that window, as
    autolfads-tf2's ``MultiStrategyPBT`` computes its "percent improvement" (a fraction).
    None until ``patience`` generations are done."""
    if patience < 1:
        raise ValueError(f"patience must be >= 1, not {patience}")
    window = [float(s) for s in best_scores[-patience:]]
    if len(window) < patience:
        return None
    if not all(math.isfinite(s) for s in window):
        return math.inf  # a generation without a finite score: keep going
    scale = float(np.mean(np.abs(window)))
    return (window[0] - min(window)) / scale if scale > 0 else 0.0


def stop_by_improvement(best_scores: Sequence[float], patience: int,
                        min_improvement: float) -> bool:
    """Stop PBT after the generation whose best score is the last of ``best_scores``: the
    last ``patience`` generation-best scores improved by at most ``min_improvement``
    (autolfads-tf2: patience 4, 0.0005, at most 50 generations)."""
    ratio = improvement_ratio(best_scores, patience)
    return ratio is not None and ratio <= min_improvement
