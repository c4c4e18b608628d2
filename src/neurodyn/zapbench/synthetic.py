"""Miniature ZAPBench: a seeded synthetic volumetric calcium video (spec §6.2, setting C).

Generative model (documented in README, section ZAPBench):

* Nuclei: ``n_cells`` centres drawn uniformly with rejection (anisotropic minimum distance,
  z distances weighted ×2); each nucleus is an ellipsoid (semi-axes 1.3, 1.3, 0.7 voxels in
  x, y, z); voxels in two ellipsoids go to the nearer centre; empty cells are dropped and
  labels renumbered 1..N. Everything else is neuropil (label 0).
* Latent field: four advected components (+x, −x, +y, −y). Each frame a component moves one
  voxel along its direction (zero inflow), is mixed 80/20 with its 3×3 XY box blur and
  decays by ``gamma``. Spontaneous Gaussian sources (Poisson rate per frame) enter at the
  upstream edge of +x; each stimulus trial adds a larger source at a condition-specific
  location. A neuron's input h frames ahead is therefore visible now, h voxels upstream.
* Neurons: drive = field averaged over the nucleus; private AR(1) noise; rate =
  softplus_6(g·drive + noise − threshold); calcium c(t) = λ c(t−1) + rate; ΔF/F = 0.45 c.
* Video: nucleus voxels = the cell's ΔF/F; neuropil = 0.3 × a Gaussian blur of the painted
  nuclei; plus voxel noise; clipped to [−0.25, 1.5]. Traces = segment means of the video.
* Conditions: equal-length blocks, each with a stimulus period and source location (or none);
  covariates per frame: onset indicator, sin/cos of trial phase, has-stimulus flag.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from scipy import ndimage

DIRECTIONS = ("+x", "-x", "+y", "-y")
#: a stimulus at an edge travels into the volume, away from that edge
AWAY_FROM = {"-x": "+x", "+x": "-x", "-y": "+y", "+y": "-y"}
COVARIATES = ("onset", "phase_sin", "phase_cos", "has_stimulus")


@dataclass(frozen=True)
class StimulusCondition:
    """One stimulus condition: trial period in frames (0 = none) and source location."""

    period: int
    location: str  # an edge: "-x", "+x", "-y", "+y", or "none"


@dataclass(frozen=True)
class GeneratorConfig:
    """Knobs of the generator; defaults are setting C of the spec."""

    shape: tuple[int, int, int] = (4, 24, 24)  # z, x, y
    n_cells: int = 130
    min_distance: float = 2.2
    semi_axes: tuple[float, float, float] = (0.7, 1.3, 1.3)  # z, x, y
    condition_length: int = 520
    conditions: tuple[StimulusCondition, ...] = (
        StimulusCondition(26, "-x"), StimulusCondition(34, "+y"), StimulusCondition(30, "+x"),
        StimulusCondition(22, "-y"), StimulusCondition(0, "none"))
    # component that receives every source, or "mixed": each spontaneous source enters one
    # of the four at its upstream edge (drawn per source) and each stimulus travels away
    # from its edge, so the upstream direction of a neuron's future input is not fixed
    wave_direction: str = "+x"
    speed: int = 1
    # fraction of spontaneous sources that appear anywhere in the volume (no upstream
    # precursor), so the future is only partly visible upstream
    local_fraction: float = 0.0
    blur_mix: float = 0.2
    gamma: float = 0.985
    spontaneous_rate: float = 0.2
    spontaneous_amplitude: tuple[float, float] = (1.0, 2.0)
    source_sigma: tuple[float, float] = (2.0, 1.6)  # z, xy
    stimulus_amplitude: float = 2.0
    stimulus_sigma_xy: float = 2.5
    noise_ar: float = 0.8
    private_noise_sd: float = 0.03
    gain_range: tuple[float, float] = (0.5, 1.5)
    threshold: float = 0.4
    sharpness: float = 6.0
    calcium_decay: float = 0.7
    dff_scale: float = 0.45
    neuropil_scale: float = 0.3
    neuropil_sigma: tuple[float, float, float] = (0.5, 1.5, 1.5)
    voxel_noise_sd: float = 0.02
    clip: tuple[float, float] = (-0.25, 1.5)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, cfg: dict[str, Any]) -> GeneratorConfig:
        """Build from a config mapping (lists become tuples; conditions become objects)."""
        known = {f.name for f in fields(cls)}
        unknown = set(cfg) - known
        if unknown:
            raise ValueError(f"unknown generator keys: {sorted(unknown)}")
        kw: dict[str, Any] = {}
        for k, v in cfg.items():
            if k == "conditions":
                kw[k] = tuple(StimulusCondition(int(c["period"]), str(c["location"]))
                              for c in v)
            elif isinstance(v, list):
                kw[k] = tuple(v)
            else:
                kw[k] = v
        return cls(**kw)


@dataclass(frozen=True)
class Specimen:
    """A generated recording: video (T, Z, X, Y), segmentation, traces (T, N), covariates."""

    video: np.ndarray
    segmentation: np.ndarray
    traces: np.ndarray
    covariates: np.ndarray
    condition_offsets: tuple[int, ...]


def place_nuclei(cfg: GeneratorConfig, rng: np.random.Generator) -> np.ndarray:
    """Segmentation volume (Z, X, Y) int32: ellipsoidal nuclei labelled 1..N, 0 = neuropil."""
    shape = np.array(cfg.shape, dtype=float)
    weight = np.array([2.0, 1.0, 1.0])  # z distances count double
    centres: list[np.ndarray] = []
    for _ in range(cfg.n_cells * 200):
        if len(centres) == cfg.n_cells:
            break
        c = rng.uniform(0, shape) - 0.5
        if not centres or np.min(np.linalg.norm((np.array(centres) - c) * weight, axis=1)) \
                >= cfg.min_distance:
            centres.append(c)
    grid = np.stack(np.meshgrid(*[np.arange(n) for n in cfg.shape], indexing="ij"), axis=-1)
    axes = np.array(cfg.semi_axes)
    dist = np.stack([np.sum(((grid - c) / axes) ** 2, axis=-1) for c in centres])
    nearest = np.argmin(dist, axis=0)
    inside = np.min(dist, axis=0) <= 1.0
    labels = np.where(inside, nearest + 1, 0)
    present = np.unique(labels[labels > 0])
    relabel = np.zeros(len(centres) + 1, dtype=np.int32)
    relabel[present] = np.arange(1, len(present) + 1)
    return relabel[labels].astype(np.int32)


def _blob(shape: tuple[int, int, int], centre: tuple[float, float, float],
          sigma: tuple[float, float, float]) -> np.ndarray:
    axes = [np.exp(-0.5 * ((np.arange(n) - c) / s) ** 2)
            for n, c, s in zip(shape, centre, sigma, strict=True)]
    return axes[0][:, None, None] * axes[1][None, :, None] * axes[2][None, None, :]


def _edge_centre(location: str, shape: tuple[int, int, int]) -> tuple[float, float, float]:
    z, x, y = shape
    mid = ((z - 1) / 2, (x - 1) / 2, (y - 1) / 2)
    return {"-x": (mid[0], 1.0, mid[2]), "+x": (mid[0], x - 2.0, mid[2]),
            "-y": (mid[0], mid[1], 1.0), "+y": (mid[0], mid[1], y - 2.0)}[location]


def _advect(comp: np.ndarray, direction: str, speed: int) -> np.ndarray:
    axis = 1 if direction[1] == "x" else 2
    shift = speed if direction[0] == "+" else -speed
    out = np.roll(comp, shift, axis=axis)
    index = [slice(None)] * 3
    index[axis] = slice(0, shift) if shift > 0 else slice(shift, None)
    out[tuple(index)] = 0.0  # zero inflow at the upstream boundary
    return out


def _spontaneous_source(cfg: GeneratorConfig, rng: np.random.Generator
                        ) -> tuple[str, tuple[float, float, float]]:
    """(component, centre) of one spontaneous source: within 3 voxels of the upstream edge of
    its component, or anywhere with probability ``local_fraction``. Draws z, x, y in that
    order, as the single-direction generator always did (same specimens for a seed)."""
    d = (DIRECTIONS[int(rng.integers(len(DIRECTIONS)))] if cfg.wave_direction == "mixed"
         else cfg.wave_direction)
    local = cfg.local_fraction > 0 and rng.uniform() < cfg.local_fraction
    z, x, y = cfg.shape
    zc = rng.uniform(0, z - 1)
    coords = []
    for axis, n in (("x", x), ("y", y)):
        if local or d[1] != axis:
            coords.append(rng.uniform(0, n - 1))
        else:
            depth = rng.uniform(0, 3)
            coords.append(depth if d[0] == "+" else n - 1 - depth)
    return d, (zc, coords[0], coords[1])


def latent_field(cfg: GeneratorConfig, rng: np.random.Generator) -> np.ndarray:
    """Sum of the advected components for every frame: (T, Z, X, Y)."""
    n_frames = cfg.condition_length * len(cfg.conditions)
    comps = {d: np.zeros(cfg.shape) for d in DIRECTIONS}
    out = np.zeros((n_frames, *cfg.shape), dtype=np.float32)
    sz, sxy = cfg.source_sigma
    for t in range(n_frames):
        for d in DIRECTIONS:
            moved = _advect(comps[d], d, cfg.speed)
            blurred = ndimage.uniform_filter(moved, size=(1, 3, 3), mode="constant")
            comps[d] = cfg.gamma * ((1 - cfg.blur_mix) * moved + cfg.blur_mix * blurred)
        for _ in range(rng.poisson(cfg.spontaneous_rate)):
            d, centre = _spontaneous_source(cfg, rng)
            amplitude = rng.uniform(*cfg.spontaneous_amplitude)
            comps[d] += amplitude * _blob(cfg.shape, centre, (sz, sxy, sxy))
        cond = cfg.conditions[t // cfg.condition_length]
        phase = t % cfg.condition_length
        if cond.period > 0 and cond.location != "none" and phase % cond.period == 0:
            d = (AWAY_FROM[cond.location] if cfg.wave_direction == "mixed"
                 else cfg.wave_direction)
            comps[d] += cfg.stimulus_amplitude * _blob(
                cfg.shape, _edge_centre(cond.location, cfg.shape),
                (sz, cfg.stimulus_sigma_xy, cfg.stimulus_sigma_xy))
        out[t] = sum(comps.values())
    return out


def stimulus_covariates(cfg: GeneratorConfig) -> np.ndarray:
    """(T, 4): onset indicator, sin and cos of trial phase, has-stimulus flag."""
    rows = []
    for cond in cfg.conditions:
        t = np.arange(cfg.condition_length)
        if cond.period > 0 and cond.location != "none":
            phase = 2 * np.pi * (t % cond.period) / cond.period
            rows.append(np.stack([(t % cond.period == 0).astype(float), np.sin(phase),
                                  np.cos(phase), np.ones_like(phase)], axis=1))
        else:
            rows.append(np.zeros((cfg.condition_length, len(COVARIATES))))
    return np.concatenate(rows).astype(np.float32)


def segment_means(frames: np.ndarray, segmentation: np.ndarray, n_segments: int) -> np.ndarray:
    """Mean of every labelled segment in each frame: (T, ...) → (T, n_segments)."""
    flat = frames.reshape(frames.shape[0], -1)
    labels = segmentation.reshape(-1)
    keep = labels > 0
    onehot = np.zeros((keep.sum(), n_segments), dtype=np.float64)
    onehot[np.arange(keep.sum()), labels[keep] - 1] = 1.0
    counts = onehot.sum(axis=0)
    return (flat[:, keep] @ onehot / np.where(counts > 0, counts, 1)).astype(np.float32)


def generate(cfg: GeneratorConfig, seed: int) -> Specimen:
    """Generate one specimen (cell layout, activity and video all follow ``seed``)."""
    rng = np.random.default_rng(seed)
    seg = place_nuclei(cfg, rng)
    n = int(seg.max())
    drive_field = latent_field(cfg, rng)
    drive = segment_means(drive_field, seg, n).astype(np.float64)
    n_frames = drive.shape[0]
    gain = rng.uniform(*cfg.gain_range, size=n)
    xi = np.zeros(n)
    c = np.zeros(n)
    dff = np.zeros((n_frames, n))
    for t in range(n_frames):
        xi = cfg.noise_ar * xi + cfg.private_noise_sd * rng.standard_normal(n)
        u = gain * drive[t] + xi - cfg.threshold
        rate = np.logaddexp(0.0, cfg.sharpness * u) / cfg.sharpness
        c = cfg.calcium_decay * c + rate
        dff[t] = cfg.dff_scale * c
    painted = np.concatenate([np.zeros((n_frames, 1)), dff], axis=1)[:, seg]  # (T, Z, X, Y)
    neuropil = ndimage.gaussian_filter(painted, sigma=(0, *cfg.neuropil_sigma), mode="constant")
    video = np.where(seg[None] > 0, painted, cfg.neuropil_scale * neuropil)
    video = video + cfg.voxel_noise_sd * rng.standard_normal(video.shape)
    video = np.clip(video, *cfg.clip).astype(np.float32)
    offsets = tuple(int(i * cfg.condition_length) for i in range(len(cfg.conditions) + 1))
    return Specimen(video=video, segmentation=seg, traces=segment_means(video, seg, n),
                    covariates=stimulus_covariates(cfg), condition_offsets=offsets)
