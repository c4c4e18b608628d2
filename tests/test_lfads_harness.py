"""The LFADS study on the shared harness: fits reused when nothing they depend on changed,
retrained when a training-length key changes; the paper-scale model takes one step on CPU."""

from __future__ import annotations

import json
import re
import resource
from pathlib import Path

import numpy as np
import pytest
import yaml

from workflow_helpers import clone_repo, run_snakemake

TINY = {"lfads": {
    "rnn": {"n_conditions": 4, "trials_per_condition": 5, "n_units": 12, "n_bins": 15},
    "model": {"ic_enc_dim": 8, "ci_enc_dim": 4, "con_dim": 4, "co_dim": 1, "ic_dim": 4,
              "gen_dim": 12, "fac_dim": 4},
    "train": {"max_epochs": 2, "batch_size": 8, "min_steps": 0, "posterior_samples": 1,
              "models_per_job": 2},
    "search": {"arms": ["standard", "cd"], "models_per_arm": 3},
    "linear_ae": {"n_obs": 8, "n_train": 100, "n_valid": 20, "epochs": 2},
    "dataset_size": {"enabled": False},
}}
JOB = "results/lfads/search/jobs/job0.json"
SUMMARY = "results/lfads/linear_ae/summary.json"


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = (_merge(out[key], value) if isinstance(value, dict)
                    and isinstance(out.get(key), dict) else value)
    return out


def _overlay(tmp: Path, name: str, **changes: dict) -> str:
    cfg = json.loads(json.dumps(TINY))
    for section, values in changes.items():
        cfg["lfads"][section].update(values)
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def _run(repo: Path, overlay: str) -> str:
    run = run_snakemake(repo, "--cores", "1", "--configfile", overlay, "--", JOB, SUMMARY)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout + run.stderr


def _outputs(repo: Path) -> dict[str, bytes]:
    files = [repo / JOB, repo / SUMMARY, *sorted((repo / "results/lfads/work").rglob(
        "result.json"))]
    return {str(p.relative_to(repo)): p.read_bytes() for p in files}


def _records(repo: Path) -> dict[str, dict]:
    return {r["model_id"]: {k: v for k, v in r.items() if k != "provenance"}
            for r in json.loads((repo / JOB).read_text())}


@pytest.mark.workflow
def test_fits_reused_when_unchanged_and_retrained_on_training_length(tmp_path):
    repo = clone_repo(tmp_path / "repo")
    base = _overlay(tmp_path, "base")
    _run(repo, base)
    log = (repo / "logs/lfads/search/job0.log").read_text()
    assert "2 fits: 0 reused (same key), 2 to train" in log
    assert re.search(r"search_standard_000 epoch 2/2 train_loss \S+ val_loss \S+ lr", log)
    assert (repo / "results/lfads/benchmarks/search/job0.tsv").exists()
    first, records = _outputs(repo), _records(repo)
    assert len(first) == 2 + 2 + 2  # job, summary, 2 search fits + 2 linear-AE fits
    assert {r["epochs_run"] for r in records.values()} == {2}

    # nothing changed: nothing runs, every output byte-identical
    again = _run(repo, base)
    assert "Nothing to be done" in again
    assert _outputs(repo) == first

    # a key no fit depends on (a figure setting): the job reruns, every fit is reused
    unrelated = _overlay(tmp_path, "unrelated", dataset_size={"smoothing_sd_s": 0.05})
    _run(repo, unrelated)
    log = (repo / "logs/lfads/search/job0.log").read_text()
    assert "2 fits: 2 reused (same key), 0 to train" in log
    assert _records(repo) == records
    assert {k: v for k, v in _outputs(repo).items() if "/work/" in k} == {
        k: v for k, v in first.items() if "/work/" in k}

    # a training-length key: the fits retrain (stale folders removed) and their numbers change
    longer = _overlay(tmp_path, "longer", train={"max_epochs": 3}, linear_ae={"epochs": 3})
    _run(repo, longer)
    log = (repo / "logs/lfads/search/job0.log").read_text()
    assert "2 fits: 0 reused (same key), 2 to train" in log and "removing stale fit" in log
    assert "linear AE: 2 fits: 0 reused" in (repo / "logs/lfads/linear_ae.log").read_text()
    retrained = _records(repo)
    for model_id, rec in retrained.items():
        assert rec["epochs_run"] == 3
        assert rec["valid_recon_heldin"] != records[model_id]["valid_recon_heldin"]
        assert rec["fit_key"] != records[model_id]["fit_key"]
    summary_before = json.loads(first[SUMMARY])
    summary_after = json.loads((repo / SUMMARY).read_text())
    assert summary_after["cd_train_loss"] != summary_before["cd_train_loss"]
    assert len(list((repo / "results/lfads/work/search").glob("*/*"))) == 2  # one key each

    # back to the first config: retrained from scratch, byte-identical to the first run
    _run(repo, base)
    assert _outputs(repo) == first


@pytest.mark.slow
def test_paper_scale_lfads_takes_one_optimizer_step_on_cpu():
    """The config/paper.yaml LFADS (search model) on a batch of the paper's shapes."""
    import torch

    from neurodyn.lfads.grid import search_models
    from neurodyn.models.lfads import GRAD_CLIP, LFADS

    repo = Path(__file__).resolve().parents[1]
    cfg = _merge(*(yaml.safe_load((repo / f"config/{name}.yaml").read_text())["lfads"]
                   for name in ("config", "paper")))
    spec = next(m for m in search_models(cfg, 0) if m.arm == "cd")
    n_bins, n_units = int(cfg["rnn"]["n_bins"]), int(cfg["rnn"]["n_units"])
    batch_size = int(cfg["train"]["batch_size"])
    torch.manual_seed(0)
    spikes = torch.poisson(torch.full((batch_size, n_bins, n_units), 0.5))
    arrays = {"encod_data": spikes.numpy(), "recon_data": spikes.numpy()}
    model = LFADS(LFADS.hparams_for_data(arrays, **spec.hparams))
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    opt = model.configure_optimizers()
    batch = {"encod_data": spikes, "recon_data": spikes.clone(),
             "sv_mask": torch.ones_like(spikes, dtype=torch.bool)}
    loss, _, _ = model.shared_step(batch, "train")
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
    opt.step()
    n_params = sum(p.numel() for p in model.parameters())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"paper LFADS: {n_params} parameters, batch {tuple(spikes.shape)}, loss "
          f"{float(loss.detach()):.4g}, peak RSS {peak_mb:.0f} MB")
    assert np.isfinite(float(loss))
    changed = [k for k, v in model.named_parameters() if not torch.equal(v, before[k])]
    assert len(changed) > 0.9 * len(before)


@pytest.mark.workflow
def test_one_nlb_conversion_rule_serves_both_lfads_studies(tmp_path):
    """lfads.nwb.files and autolfads.real.dirs names both convert through rule nlb_nwb."""
    from test_lfads_nwb import _write_fixture

    from neurodyn.io.spikes import open_spikes

    repo = clone_repo(tmp_path / "repo")
    pinned = "sub-Jenkins_ses-small_desc-train_behavior+ecephys.nwb"
    (repo / "resources/raw/nlb").mkdir(parents=True)
    _write_fixture(repo / "resources/raw/nlb" / pinned)
    folder = tmp_path / "mc_maze"
    folder.mkdir()
    _write_fixture(folder / "sub-Jenkins_desc-train_behavior+ecephys.nwb")
    overlay = tmp_path / "nwb.yaml"
    overlay.write_text(yaml.safe_dump({"lfads": {"nwb": {"enabled": True}},
                                       "autolfads": {"real": {"dirs": {"MC_Maze": str(folder)}}}}))
    targets = ["results/data/nlb/MC_Maze_Small_train_5ms.nc", "results/data/nlb/MC_Maze_20ms.nc"]
    run = run_snakemake(repo, "--cores", "1", "--configfile", str(overlay), "--", *targets)
    assert run.returncode == 0, run.stderr[-3000:]
    fine, coarse = (open_spikes(repo / t) for t in targets)
    assert fine.sizes["time"] == 140 + 40 and coarse.sizes["time"] == 35 + 10  # NLB window
    assert fine.attrs["dataset"] == "MC_Maze_Small_train" and coarse.attrs["dataset"] == "MC_Maze"
    assert int(fine["spikes"].sum()) == int(coarse["spikes"].sum())
