"""ZAPBench on the shared harness: reruns reuse fits, a training-length change retrains them;
the paper-scale models take an optimizer step on CPU."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from zapbench_helpers import zapbench_config

from workflow_helpers import clone_repo, run_snakemake

TRACE = "results/zapbench/fits/trace/chunk0.json"
UNET = "results/zapbench/fits/unet/chunk0.json"
WORK = "results/zapbench/work"
CONFIGS = ("--configfile", "config/config.yaml", "tests/data/tiny.yaml", "overlay.yaml")
# a slice of the tiny config: two trace models, the reference UNet and a pre-trained one
OVERLAY = {"zapbench": {
    "trace": {"models": ["mean", "tide"], "contexts": [4, 8]},
    "unet": {"run": ["base", "pretrain1"],
             "variants": {"base": {"contexts": [4]}}}}}


def _write_overlay(repo: Path, trace_steps: int, unet_steps: int) -> None:
    over = json.loads(json.dumps(OVERLAY))
    tiny = zapbench_config()
    over["zapbench"]["trace"]["train"] = {**tiny["trace"]["train"], "max_steps": trace_steps}
    over["zapbench"]["unet"]["train"] = {**tiny["unet"]["train"], "max_steps": unet_steps}
    (repo / "overlay.yaml").write_text(yaml.safe_dump(over))


def _run(repo: Path, *extra: str):
    res = run_snakemake(repo, "--cores", "1", *CONFIGS, *extra, "--", TRACE, UNET,
                        timeout=600)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    return res


def _results(repo: Path) -> dict[str, bytes]:
    files = sorted((repo / WORK).rglob("result.json")) + [repo / TRACE, repo / UNET]
    return {str(p.relative_to(repo)): p.read_bytes() for p in files}


def _log(repo: Path, family: str) -> str:
    return (repo / f"logs/zapbench/fits/{family}/chunk0.log").read_text()


def _fits(repo: Path) -> dict[str, dict]:
    records = [r for chunk in (TRACE, UNET) for r in json.loads((repo / chunk).read_text())]
    return {r["fit_id"]: r for r in records}


@pytest.mark.workflow
def test_rerun_reuses_fits_and_training_length_retrains(tmp_path):
    repo = clone_repo(tmp_path / "repo")
    _write_overlay(repo, trace_steps=20, unet_steps=6)
    _run(repo)
    first, fits = _results(repo), _fits(repo)
    assert set(fits) == {"mean_c4_s0", "mean_c8_s0", "tide_c4_s0", "tide_c8_s0",
                         "unet-base_c4_s0", "unet-pretrain1_c4_s0"}
    assert fits["unet-base_c4_s0"]["fit"]["steps"] == 6
    assert fits["unet-pretrain1_c4_s0"]["fit"]["pretrain"]["steps"] == 3
    assert (repo / "results/zapbench/benchmarks/unet/chunk0.tsv").is_file()
    unet_log = _log(repo, "unet")
    assert unet_log.count("1 fits: 0 reused (same key), 1 to train") == 2  # one per input set
    assert "unet-base_c4_s0 epoch 2/2 train_loss" in unet_log  # a progress line per round

    # nothing changed: Snakemake has nothing to do; forced, the runner reuses every fit
    again = run_snakemake(repo, "--cores", "1", *CONFIGS, "-n", "--", TRACE, UNET)
    assert "Nothing to be done" in again.stdout + again.stderr
    _run(repo, "--forcerun", "zapbench_trace", "zapbench_unet")
    assert "4 fits: 4 reused (same key), 0 to train" in _log(repo, "trace")
    assert _log(repo, "unet").count("1 fits: 1 reused (same key), 0 to train") == 2
    assert _results(repo) == first  # byte-identical records and chunk files

    # a training-length key changed: those fits retrain and their numbers change
    _write_overlay(repo, trace_steps=30, unet_steps=9)
    _run(repo)
    trace_log, unet_log = _log(repo, "trace"), _log(repo, "unet")
    assert "4 fits: 0 reused (same key), 4 to train" in trace_log
    assert "removing stale fit folder" in unet_log
    changed = _fits(repo)
    for fid in ("tide_c4_s0", "tide_c8_s0", "unet-base_c4_s0", "unet-pretrain1_c4_s0"):
        assert changed[fid]["fit_key"] != fits[fid]["fit_key"]
        assert changed[fid]["fit"]["steps"] == (30 if fid.startswith("tide") else 9)
        assert changed[fid]["metrics"] != fits[fid]["metrics"], fid
    # one folder per fit: the old key's folder was removed
    assert len(list((repo / WORK / "unet" / "unet-base_c4_s0").iterdir())) == 1


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _one_step(model: torch.nn.Module, inputs: tuple[torch.Tensor, ...],
              target: torch.Tensor) -> tuple[float, float]:
    """One AdamW step on the MAE; the loss and the largest parameter change."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in model.parameters()]
    loss = (model(*inputs) - target).abs().mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    moved = max(float((a - p.detach()).abs().max())
                for a, p in zip(before, model.parameters(), strict=True))
    return float(loss.detach()), moved


@pytest.mark.slow
def test_paper_scale_models_take_an_optimizer_step():
    from neurodyn.zapbench.grid import all_unet_settings
    from neurodyn.zapbench.synthetic import COVARIATES
    from neurodyn.zapbench.trace_models import build_trace_model
    from neurodyn.zapbench.unet import VideoUNet, count_parameters, unet_config

    torch.manual_seed(0)
    z = zapbench_config(tiny=False, paper=True)
    gen, bench = z["data"]["generator"], z["benchmark"]
    shape, n_cells, horizon = tuple(gen["shape"]), int(gen["n_cells"]), int(bench["horizon"])
    # the paper-scale trace models at the long context, a batch of the paper's shape
    batch, context = int(z["trace"]["train"]["batch_size"]), int(bench["long_context"])
    for name in (m for m in z["trace"]["models"] if m != "stimulus"):  # stimulus: no model
        model = build_trace_model(name, context, horizon, n_cells, len(COVARIATES), True,
                                  z["trace"]["hyper"])
        if not model.trainable:
            continue
        x = torch.randn(batch, context, n_cells)
        cov = torch.randn(batch, horizon, len(COVARIATES))
        target = torch.randn(batch, horizon, n_cells)
        loss, moved = _one_step(model, (x, cov), target)
        print(f"trace {name}: {count_parameters(model)} parameters, loss {loss:.4f}, "
              f"peak RSS {_peak_rss_mb():.0f} MB")
        assert np.isfinite(loss) and moved > 0
    # every UNet variant the paper config runs, at its longest context
    ubatch = int(z["unet"]["train"]["batch_size"])
    for variant, s in all_unet_settings(z).items():
        c = max(int(v) for v in z["unet"]["variants"][variant]["contexts"])
        cfg = unet_config(s, c, horizon)
        model = VideoUNet(cfg, shape)
        d = int(s["input_downsample"])
        x = torch.randn(ubatch, c, shape[0], shape[1] // d, shape[2] // d)
        lead = torch.randint(1, horizon + 1, (ubatch,)).float()
        k = horizon if cfg.direct else 1
        target = torch.randn(ubatch, k, *shape)
        loss, moved = _one_step(model, (x,) if cfg.direct else (x, lead), target)
        print(f"unet {variant} C={c}: {count_parameters(model)} parameters, loss {loss:.4f}, "
              f"peak RSS {_peak_rss_mb():.0f} MB")
        assert np.isfinite(loss) and moved > 0
