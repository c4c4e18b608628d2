"""The scaling study on the shared harness: fit keys, reruns in a repo copy, paper-scale step.

* unit: which config values key a fit (a training-length change retrains; cohorts, grid,
  job size and figure settings do not);
* workflow (a throw-away repo copy, tiny config, sines cohort): a run trains every fit; a rerun
  does nothing; a forced rerun of the training job reuses every fit (byte-identical outputs);
  a new ``scaling.train.max_epochs`` retrains the trained fits and changes their numbers;
  adding a cohort plans no training job of the existing cohort;
* slow: the ``config/paper.yaml`` models with a batch of the paper's shapes take one
  optimizer step on CPU (parameter counts and peak memory printed).
"""

from __future__ import annotations

import copy
import json
import re
import resource
import time

import pytest
import yaml

from neurodyn.scaling.grid import Fit, grid
from neurodyn.scaling.keys import TRAIN_CODE, fit_config, fit_settings

from conftest import REPO
from workflow_helpers import clone_repo, merged_config, run_snakemake

# ------------------------------------------------------------------------------ fit keys

def test_fit_config_holds_what_a_fit_depends_on():
    scaling = merged_config()["scaling"]
    settings = fit_settings(scaling)
    lstm = Fit("data_scaling", "LSTM", 0, 8)
    gen = Fit("model_scaling", "LSTM", 0, 32)
    base = Fit("data_scaling", "Baseline", 0, 8)
    key = {f: fit_config(settings, f) for f in (lstm, gen, base)}
    assert key[lstm]["train"] == scaling["train"] and "generation" not in key[lstm]
    assert key[gen]["generation"] == scaling["generation"] and "matched_params" not in key[gen]
    assert "train" not in key[base]  # the baseline is never trained

    # keys no fit depends on: the cohort list, the grid, job size, control sizes
    other = copy.deepcopy(scaling)
    other.update(cohorts=["sines"], fits_per_job=1, archs=["LSTM"], seeds=[0, 5],
                 data_scaling={"worm_levels": [8]}, controls={"n_worms": 3})
    for fit in key:
        assert fit_config(fit_settings(other), fit) == key[fit]
    # a training-length key reaches every trained fit, not the baseline
    longer = copy.deepcopy(scaling)
    longer["train"]["max_epochs"] += 1
    assert fit_config(fit_settings(longer), lstm) != key[lstm]
    assert fit_config(fit_settings(longer), base) == key[base]
    # so does the training precision; the code parts exist (code_digest would raise)
    assert fit_config(settings, lstm, "bf16-mixed") != key[lstm]
    assert all((REPO / "src" / "neurodyn" / part).exists() for part in TRAIN_CODE)


def test_fit_settings_names_a_missing_key():
    scaling = merged_config()["scaling"]
    del scaling["seq_len"]
    with pytest.raises(KeyError, match="seq_len"):
        fit_settings(scaling)


# ------------------------------------------------------------------------------ workflow

TINY = ("--configfile", "config/config.yaml", "tests/data/tiny.yaml", "overlay.yaml")
TARGET = "results/scaling/sines/fits.csv"
CHUNK = "results/scaling/sines/fits/chunk0.json"
LOG = "logs/scaling/sines/chunk0.log"
#: tiny.yaml's grid: Baseline, Linear, LSTM x (2 worm levels + 1 hidden size) = 9 fits.
N_FITS, N_TRAINED = 9, 6


def _overlay(repo, **train) -> None:
    scaling = {"cohorts": ["sines"], "fits_per_job": N_FITS}
    if train:
        scaling["train"] = train
    (repo / "overlay.yaml").write_text(yaml.safe_dump({"scaling": scaling}))


def _run(repo, *args, target=TARGET):
    res = run_snakemake(repo, "--cores", "1", *TINY, *args, "--", target, timeout=600)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    return res.stdout + res.stderr


def _records(repo) -> dict[str, dict]:
    return {r["fit_id"]: r for r in json.loads((repo / CHUNK).read_text())}


@pytest.mark.workflow
def test_reruns_reuse_fits_and_a_training_key_retrains(tmp_path):
    repo = clone_repo(tmp_path / "repo")
    _overlay(repo)
    start = time.perf_counter()
    _run(repo)
    first = _records(repo)
    assert len(first) == N_FITS
    assert f"{N_FITS} fits: 0 reused (same key), {N_FITS} to train" in (repo / LOG).read_text()
    assert "epoch 2/2 train_loss" in (repo / LOG).read_text()  # the shared progress line
    assert {r["epochs_run"] for r in first.values() if r["arch"] != "Baseline"} == {2}
    files = {p: (repo / p).read_bytes() for p in (TARGET, CHUNK)}
    print(f"first run {time.perf_counter() - start:.1f} s")

    # nothing changed: nothing to do; a forced training job reuses every fit, same bytes
    assert "Nothing to be done" in _run(repo)
    _run(repo, "--forcerun", "scaling_train")
    assert f"{N_FITS} fits: {N_FITS} reused (same key), 0 to train" in (repo / LOG).read_text()
    assert {p: (repo / p).read_bytes() for p in files} == files

    # a new cohort plans no training job of the sines cohort
    (repo / "overlay.yaml").write_text(yaml.safe_dump(
        {"scaling": {"cohorts": ["sines", "randomwalk"], "fits_per_job": N_FITS}}))
    plan = run_snakemake(repo, "-n", *TINY, "--", TARGET, "results/scaling/randomwalk/fits.csv")
    out = plan.stdout + plan.stderr
    assert plan.returncode == 0, out[-3000:]
    assert "results/scaling/randomwalk/fits/chunk0.json" in out
    assert not re.search(r"output: results/scaling/sines/fits/chunk0\.json", out), out[-3000:]

    # a training-length key retrains the trained fits (not the baseline) with new numbers
    _overlay(repo, max_epochs=1)
    _run(repo, target=CHUNK)
    log = (repo / LOG).read_text()
    assert (f"{N_FITS} fits: {N_FITS - N_TRAINED} reused (same key), {N_TRAINED} to train"
            in log), log[-3000:]
    assert "removing stale fit folder" in log
    second = _records(repo)
    for fit_id, rec in second.items():
        old = first[fit_id]
        if rec["arch"] == "Baseline":  # reused: the same record (the job's provenance is new)
            assert {**rec, "provenance": None} == {**old, "provenance": None}
        else:
            assert rec["epochs_run"] == 1 and old["epochs_run"] == 2
            assert rec["fit_key"] != old["fit_key"]
            assert rec["min_val_loss"] != old["min_val_loss"], fit_id
    work = repo / "results/scaling/sines/work"
    assert all(len(list((work / fit_id).iterdir())) == 1 for fit_id in second)  # one key each
    print(f"whole test {time.perf_counter() - start:.1f} s")


# ------------------------------------------------------------------------------ paper scale

@pytest.mark.slow
def test_paper_models_take_one_step_on_cpu():
    import torch

    from neurodyn.eval.losses import masked_mse
    from neurodyn.scaling.models import (
        N_NEURONS,
        build_model,
        count_parameters,
        hidden_for_params,
        paper_param_count,
    )
    from neurodyn.scaling.next_step import NextStepModule, TrainConfig

    scaling = merged_config("config/paper.yaml")["scaling"]
    train = TrainConfig(**scaling["train"])
    batch, length = train.batch_size, scaling["seq_len"]
    assert (batch, length, scaling["matched_params"]) == (128, 180, 580_000)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, length + 1, N_NEURONS, generator=g)
    mask = torch.rand(batch, N_NEURONS, generator=g) < 0.4
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for arch in scaling["archs"]:
            if arch == "Baseline":
                continue
            hidden = None if arch == "Linear" else hidden_for_params(arch,
                                                                     scaling["matched_params"])
            model = build_model(arch, hidden)
            opt = NextStepModule(model, train).configure_optimizers()["optimizer"]
            before = [p.detach().clone() for p in model.parameters()]
            t0 = time.perf_counter()
            loss = masked_mse(model(x[:, :-1], mask), x[:, 1:], mask)
            opt.zero_grad()
            loss.backward()
            opt.step()
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{arch:13s} hidden {hidden or N_NEURONS:4d} params {count_parameters(model):9,d}"
                  f" loss {loss.item():.4f} step {time.perf_counter() - t0:.2f} s"
                  f" peak RSS {peak_mb:.0f} MB")
            assert torch.isfinite(loss)
            assert count_parameters(model) >= 0.9 * scaling["matched_params"] or arch == "Linear"
            assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(),
                                                             strict=True))
    finally:
        torch.set_num_threads(threads)
    largest = max(scaling["model_scaling"]["hidden"])
    sizes = {a: paper_param_count(a, largest) for a in ("feedforward", "ctrnn", "lstm",
                                                        "transformer", "attention")}
    print(f"model-scaling sweep up to hidden {largest}: {sizes} parameters (not built here)")
    assert len(grid(scaling)) == 3 * (7 * 56 + 5 * len(scaling["model_scaling"]["hidden"]) + 2)
