"""The miniature's wave sources: one direction (the default) or mixed with in-place sources."""

import numpy as np

from neurodyn.zapbench.synthetic import (
    DIRECTIONS,
    GeneratorConfig,
    _spontaneous_source,
    latent_field,
)

SHAPE = (4, 16, 12)


def _sources(n: int = 400, **kw) -> list[tuple[str, tuple[float, float, float]]]:
    cfg = GeneratorConfig(shape=SHAPE, **kw)
    rng = np.random.default_rng(3)
    return [_spontaneous_source(cfg, rng) for _ in range(n)]


def _distance_from_upstream_edge(d: str, centre: tuple[float, float, float]) -> float:
    axis = 1 if d[1] == "x" else 2
    return centre[axis] if d[0] == "+" else SHAPE[axis] - 1 - centre[axis]


def test_one_way_sources_enter_at_the_upstream_edge_of_their_direction():
    for direction in DIRECTIONS:
        srcs = _sources(wave_direction=direction)
        assert {d for d, _ in srcs} == {direction}
        assert max(_distance_from_upstream_edge(d, c) for d, c in srcs) < 3


def test_mixed_sources_use_every_direction_at_its_own_edge():
    srcs = _sources(wave_direction="mixed")
    counts = {d: sum(s == d for s, _ in srcs) for d in DIRECTIONS}
    assert min(counts.values()) > 60, counts
    assert max(_distance_from_upstream_edge(d, c) for d, c in srcs) < 3


def test_in_place_sources_spread_over_the_volume():
    srcs = _sources(wave_direction="mixed", local_fraction=0.5)
    far = [_distance_from_upstream_edge(d, c) >= 3 for d, c in srcs]
    assert 0.3 < np.mean(far) < 0.5  # half in place, most of those beyond the edge band


def test_mixed_stimuli_travel_away_from_their_edge():
    """A stimulus at the −x edge moves +x: its centre of mass drifts to larger x."""
    from neurodyn.zapbench.synthetic import StimulusCondition

    cfg = GeneratorConfig(shape=SHAPE, condition_length=40, spontaneous_rate=0.0,
                          conditions=(StimulusCondition(40, "-x"), StimulusCondition(40, "+y")),
                          wave_direction="mixed")
    field = latent_field(cfg, np.random.default_rng(0))
    x = np.arange(SHAPE[1])[None, None, :, None]
    y = np.arange(SHAPE[2])[None, None, None, :]
    mass = field.sum(axis=(1, 2, 3))
    com_x = (field * x).sum(axis=(1, 2, 3)) / mass
    com_y = (field * y).sum(axis=(1, 2, 3)) / mass
    assert com_x[8] > com_x[0] + 4  # condition 0: from the −x edge towards +x
    assert com_y[48] < com_y[40] - 4  # condition 1: from the +y edge towards −y
