"""The study's recordings: a synthetic specimen or a real sub-crop, as NetCDF (rule
zapbench_data; training jobs are in ``jobs``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from neurodyn.errors import InputError
from neurodyn.zapbench.benchmark import Benchmark, miniature_benchmark
from neurodyn.zapbench.dataset import to_dataset, write_video_dataset
from neurodyn.zapbench.synthetic import COVARIATES, GeneratorConfig, generate, segment_means


def check_windows(bench: Benchmark, contexts: Sequence[int], where: str) -> None:
    """Every split needs at least one window for every context (else a config error)."""
    for c in contexts:
        for split in ("train", "val", "test", "test_holdout"):
            for k in bench.conditions_of(split):
                if bench.num_windows(k, split, c) < 1:
                    raise InputError("config", where, f"condition {k} has no {split} window "
                                     f"of C={c} + H={bench.horizon} frames; make the "
                                     "conditions longer or the contexts shorter")


def _flat(prov: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in prov.items() if k != "config_json"}


def write_recording(z: Mapping[str, Any], specimen: int, seed: int, out: str | Path,
                    prov: Mapping[str, Any], contexts: Sequence[int]) -> None:
    """Specimen 0 is the benchmark recording; 1..K are extra synthetic specimens.

    ``contexts``: every context the run trains (each split needs a window for each).
    """
    b = z["benchmark"]
    if z["source"] == "real":
        if specimen != 0:
            raise InputError("config", "zapbench.data.extra_specimens", "with source: real "
                             "there are no extra specimens (pre-training would be on "
                             "synthetic data); set it to 0")
        write_real(z["real"], out, prov, contexts)
        return
    cfg = GeneratorConfig.from_dict(dict(z["data"]["generator"]))
    bench = miniature_benchmark(cfg.condition_length, len(cfg.conditions),
                                int(z["data"]["holdout_condition"]), int(b["max_context"]),
                                int(b["horizon"]))
    check_windows(bench, contexts, "zapbench.data.generator.condition_length")
    spec_seed = int(seed) * 1000 + int(z["data"]["seed"]) * 100 + int(specimen)
    sp = generate(cfg, spec_seed)
    ds = to_dataset(sp.video, sp.segmentation, sp.traces, sp.covariates, COVARIATES, bench,
                    synthetic=True, attrs={**_flat(prov), "specimen": int(specimen),
                                           "generator_seed": spec_seed,
                                           "generator": json.dumps(z["data"]["generator"],
                                                                   sort_keys=True)})
    write_video_dataset(ds, out)


def write_real(r: Mapping[str, Any], out: str | Path, prov: Mapping[str, Any],
               contexts: Sequence[int]) -> None:
    """A real sub-crop, cut at the last condition boundary inside ``n_frames``; the video is
    streamed from the store to the file in blocks of whole time chunks (never whole in
    memory) and the traces are the segment means of each block."""
    import numpy as np

    from neurodyn.zapbench.real import Crop, CropReader, real_frames

    if r["trace_source"] != "video":
        raise InputError("config", "zapbench.real.trace_source", "only 'video' compares like "
                         "with like (see docs/zapbench.md)")
    bench = real_frames(r["base"], int(r["scale"]), r.get("n_frames"))
    check_windows(bench, contexts, "zapbench.real")
    reader = CropReader(r["base"], int(r["scale"]),
                        Crop(**{k: tuple(v) for k, v in r["crop"].items()}),
                        bench.condition_offsets[-1])
    n = len(reader.neuron_ids)
    placeholder = np.zeros((reader.n_frames, n), dtype=np.float32)  # filled block by block
    ds = to_dataset(None, reader.segmentation, placeholder, reader.covariates,
                    tuple(f"feature{i}" for i in range(reader.covariates.shape[1])), bench,
                    synthetic=False, attrs={**_flat(prov), "source": r["base"],
                                            "neuron_ids": reader.neuron_ids.tolist(),
                                            "scale": int(r["scale"])},
                    evoked=reader.evoked)
    blocks = ((t0, {"video": frames, "traces": segment_means(frames, reader.segmentation, n)})
              for t0, frames in reader.blocks())
    write_video_dataset(ds, out, blocks)
