"""Neural-network models used by two or more studies (each study keeps its own models)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from neurodyn.train.device import TrainSettings


def use_lfads_population(settings: TrainSettings) -> bool:
    """Whether a job's LFADS models train as one batched population
    (:mod:`neurodyn.models.lfads_population_fit`, float32 CPU code) rather than one by one
    through the shared trainer: on the CPU."""
    return settings.device == "cpu"
