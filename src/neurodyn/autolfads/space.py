"""The PBT search space shared by both backends (Snakemake-native and Ray Tune).

Two sets of ranges are configured (``autolfads.search_space``):

* Keshtkaran & Pandarinath 2019 (Table 1; the embedded default), whose KL and L2 weights
  multiply a reconstruction NLL *summed* over time × neurons of a trial. Our LFADS loss
  averages the NLL over elements, so those weights are divided by the number of reconstructed
  elements per trial (``per_element: true``). The keep ratio of coordinated dropout
  (0.3–0.99, init 0.5) is expressed as ``cd_rate = 1 − keep``.
* The JOSS run (autolfads-tf2 / autolfads-deploy MC_Maze; ``config/paper.yaml``), already in
  mean-NLL units (lfads-tf2's ``NLL_MEAN``), used as given.

``low``/``high`` are the sampling range of generation 0. With ``enforce_limits: false`` (the
JOSS run's KL and L2 weights) PBT may explore past them (any positive value), as
autolfads-tf2's ``HyperParam(enforce_limits=False)``; otherwise exploration stays inside.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurodyn.errors import InputError


@dataclass(frozen=True)
class HParam:
    """One searched hyperparameter: bounds (in our loss scale), sampling and exploration."""

    name: str
    low: float
    high: float
    log: bool
    explore_weight: float
    init: float | None = None  # the same start value for every member; None = sampled
    enforce_limits: bool = True  # False: exploration may leave [low, high] (stays > 0)

    def sample(self, rng: np.random.Generator, use_init: bool = True) -> float:
        """A start value: ``init`` when set (and ``use_init``), else uniform or
        log-uniform in ``[low, high]``."""
        if self.init is not None and use_init:
            return float(self.init)
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    @property
    def bounds(self) -> tuple[float, float]:
        """Where exploration may take the value: ``[low, high]`` or, without enforced
        limits, ``[0, inf)``."""
        return (self.low, self.high) if self.enforce_limits else (0.0, math.inf)

    def contains(self, value: float) -> bool:
        lo, hi = self.bounds
        return lo <= value <= hi


@dataclass(frozen=True)
class SearchSpace:
    params: tuple[HParam, ...]
    elements_per_trial: int  # the divisor applied to the per-element (KL, L2) weights

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def sample(self, rng: np.random.Generator, use_init: bool = True) -> dict[str, float]:
        """Initial hyperparameters of one member (random search: ``use_init=False``, every
        HP drawn from its range)."""
        return {p.name: p.sample(rng, use_init) for p in self.params}

    def contains(self, hps: Mapping[str, float]) -> bool:
        return all(p.contains(float(hps[p.name])) for p in self.params)

    def to_json(self) -> dict[str, Any]:
        return {"elements_per_trial": self.elements_per_trial,
                "params": [dict(vars(p)) for p in self.params]}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> SearchSpace:
        return cls(tuple(HParam(**p) for p in obj["params"]), int(obj["elements_per_trial"]))


def search_space(cfg: Mapping[str, Mapping[str, Any]], elements_per_trial: int,
                 source: str = "config autolfads.search_space") -> SearchSpace:
    """Build the search space from config entries ``name: {low, high, log, explore_weight,
    init?, per_element?, enforce_limits?}`` given in the paper's units."""
    if elements_per_trial <= 0:
        raise InputError(source, "elements_per_trial", "must be positive")
    params = []
    for name, spec in cfg.items():
        div = float(elements_per_trial) if spec.get("per_element", False) else 1.0
        low, high = float(spec["low"]) / div, float(spec["high"]) / div
        init = spec.get("init")
        init = None if init is None else float(init) / div
        if not low < high:
            raise InputError(source, f"{name}.low", f"low {low} must be below high {high}")
        if spec["log"] and low <= 0:
            raise InputError(source, f"{name}.low", "log-uniform ranges need low > 0")
        if init is not None and not low <= init <= high:
            raise InputError(source, f"{name}.init", f"{init} is outside [{low}, {high}]")
        params.append(HParam(name, low, high, bool(spec["log"]),
                             float(spec["explore_weight"]), init,
                             bool(spec.get("enforce_limits", True))))
    return SearchSpace(tuple(params), int(elements_per_trial))
