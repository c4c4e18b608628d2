"""Wang 2021 on the shared harness: fit keys hold exactly the config a fit depends on, a
killed ensemble resumes to the same numbers, a rerun reuses every fit byte for byte, a
training-length change retrains, and the paper-scale models take an optimizer step."""

from __future__ import annotations

import copy
import json
import logging
import resource
import sys
from pathlib import Path

import pytest
import torch
import yaml
from test_wang2021_units import CFG, _FakeInputs

from neurodyn.train.device import TrainSettings
from neurodyn.wang2021 import grid as G
from neurodyn.wang2021.job import fit_config
from neurodyn.wang2021.run import run_ensemble

from conftest import REPO
from workflow_helpers import clone_repo, run_snakemake

CPU = TrainSettings(device="cpu", progress=False)


def _base_cfg() -> dict:
    return yaml.safe_load((REPO / "config/config.yaml").read_text())["wang2021"]


def test_fit_key_config_holds_what_the_fit_depends_on():
    cfg = _base_cfg()
    key = {arch: fit_config(cfg, task, arch, 0, CPU)
           for task, arch in (("cls2", "gnn"), ("cls2", "svm"), ("traj", "nochange"))}
    unrelated = copy.deepcopy(cfg)
    unrelated.update(table_k=1, max_combinations=None, k=[1, 2], folds=[0], job="fit")
    unrelated["tasks"]["cls7"]["archs"] = ["svm"]  # another task
    unrelated["trajectory"]["epochs"] = 3  # the other kind's training length
    for (task, arch), want in zip((("cls2", "gnn"), ("cls2", "svm")), key.values(), strict=False):
        assert fit_config(unrelated, task, arch, 0, CPU) == want
    longer = copy.deepcopy(cfg)
    longer["classify"]["epochs"] += 1
    assert fit_config(longer, "cls2", "gnn", 0, CPU) != key["gnn"]
    assert fit_config(longer, "cls2", "svm", 0, CPU) == key["svm"]  # SVMs have no epochs
    assert fit_config(cfg, "cls2", "gnn", 1, CPU) != key["gnn"]  # the seed
    other_neurons = copy.deepcopy(cfg)
    other_neurons["neuron_sets"]["kato15"] = other_neurons["neuron_sets"]["kato15"][:-1]
    assert fit_config(other_neurons, "cls2", "svm", 0, CPU) != key["svm"]
    horizon = copy.deepcopy(cfg)
    horizon["trajectory"]["horizon"] += 1
    assert fit_config(horizon, "traj", "nochange", 0, CPU) != key["nochange"]


def test_fit_keys_digest_every_study_module_the_training_imports():
    """A changed module that training runs must change the fit keys (no stale fits)."""
    import subprocess

    code = ("import sys, neurodyn.wang2021.run, neurodyn.wang2021.job; print(' '.join("
            "m.split('.')[-1] for m in sys.modules if m.startswith('neurodyn.wang2021.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    digested = {p for p in G.TRAIN_CODE if p.startswith("wang2021/")}
    assert "static_embedding" in out
    assert {f"wang2021/{m}.py" for m in out} <= digested


def test_killed_ensemble_resumes_to_the_same_numbers(tmp_path, caplog):
    """An ensemble stopped after 2 of 4 epochs (its last checkpoint) and restarted ends with
    the same losses, best epochs and best weights as one trained straight through."""
    fits = [G.Fit("c2", 2, "w1-2", f, "mlp") for f in (0, 1)]
    inputs = _FakeInputs()
    straight, w_straight = run_ensemble(inputs, fits, CFG, 0, CPU, tmp_path / "a")
    short = copy.deepcopy(CFG)
    short["classify"]["epochs"] = 2
    run_ensemble(inputs, fits, short, 0, CPU, tmp_path / "b")
    assert (tmp_path / "b/last.ckpt").exists()
    with caplog.at_level(logging.INFO, logger="neurodyn"):
        resumed, w_resumed = run_ensemble(inputs, fits, CFG, 0, CPU, tmp_path / "b")
    assert "resuming from" in caplog.text
    for a, b in zip(straight, resumed, strict=True):
        assert a["val_loss_history"] == b["val_loss_history"]
        assert a["best_epoch"] == b["best_epoch"] and a["best_val_loss"] == b["best_val_loss"]
        # it learns: the best validation loss is below the first epoch's
        assert a["best_val_loss"] < a["val_loss_history"][0]
    for sa, sb in zip(w_straight, w_resumed, strict=True):
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    rows = (tmp_path / "b/metrics.csv").read_text().splitlines()
    assert len(rows) == 1 + 4  # header + one row per epoch, continued across the restart


# ------------------------------------------------------------------ workflow: reuse / retrain
SMALL = """wang2021:
  tasks:
    cls2: {archs: [svm, mlp]}
    cls2_shared3: {archs: [svm]}
    cls7: {archs: [svm]}
    cls4: {archs: [svm]}
    cls4_shared3: {archs: [svm]}
    cls2_noava: {archs: [svm]}
    traj: {archs: [nochange, mlp]}
  classify: {epochs: 4}
  trajectory: {epochs: 2, ss_epochs: 1}
"""
TARGET = "results/wang2021/fits.json"
LOG = "logs/wang2021/k1/w1.log"


def _outputs(repo: Path) -> dict[str, bytes]:
    root = repo / "results/wang2021"
    files = [p for p in root.rglob("metrics.json") if "work" not in p.parts]
    return {str(p.relative_to(root)): p.read_bytes() for p in files} | {
        "fits.json": (root / "fits.json").read_bytes()}


def _results(repo: Path) -> dict[str, bytes]:
    work = repo / "results/wang2021/work"
    return {str(p.relative_to(work)): p.read_bytes() for p in work.rglob("result.json")}


def _records(repo: Path) -> dict[str, dict]:
    out = {}
    for path, blob in _outputs(repo).items():
        if path != "fits.json":
            rec = json.loads(blob)
            rec.pop("provenance")
            out[path] = rec
    return out


@pytest.mark.workflow
def test_rerun_reuses_and_training_length_retrains(tmp_path):
    repo = clone_repo(tmp_path / "repo")
    (repo / "small.yaml").write_text(SMALL)
    args = ["--cores", "1", "--configfile", "config/config.yaml", "tests/data/tiny.yaml",
            "small.yaml"]
    res = run_snakemake(repo, *args, "--", TARGET)
    assert res.returncode == 0, res.stderr[-4000:]
    log = (repo / LOG).read_text()
    assert "cls2 k1 w1 mlp: 2 fits: 0 reused (same key), 2 to train" in log
    assert "epoch 4/4 train_loss" in log  # a progress line per epoch
    first, first_results, first_records = _outputs(repo), _results(repo), _records(repo)
    assert len(first_results) == 2 * 9  # 7 classify + 2 trajectory archs, 2 folds each
    fit_dir = next((repo / "results/wang2021/work/cls2.k1.w1.fold1.mlp").iterdir())
    assert len((fit_dir / "metrics.csv").read_text().splitlines()) == 1 + 4
    assert (fit_dir / "weights.pt").exists()
    assert not list((repo / "results/wang2021/work").rglob("last.ckpt"))  # finished: dropped

    # nothing changed: nothing to do, nothing rewritten
    res = run_snakemake(repo, *args, "--", TARGET)
    assert res.returncode == 0 and "Nothing to be done" in res.stdout + res.stderr
    assert _outputs(repo) == first

    # an unrelated key (a table setting) reruns nothing; a forced rerun reuses every fit
    (repo / "unrelated.yaml").write_text("wang2021:\n  table_k: 3\n")
    res = run_snakemake(repo, *args, "unrelated.yaml", "--", TARGET)
    assert res.returncode == 0 and "Nothing to be done" in res.stdout + res.stderr
    res = run_snakemake(repo, *args, "unrelated.yaml", "--forcerun", "wang2021_train", "--",
                        TARGET)
    assert res.returncode == 0, res.stderr[-4000:]
    log = (repo / LOG).read_text()
    assert log.count("0 to train") == 9 and "epoch 1/" not in log
    assert _results(repo) == first_results and _records(repo) == first_records

    # a training-length key: classifier networks retrain, SVMs and trajectory fits do not
    (repo / "longer.yaml").write_text("wang2021:\n  classify: {epochs: 6}\n")
    res = run_snakemake(repo, *args, "longer.yaml", "--", TARGET)
    assert res.returncode == 0, res.stderr[-4000:]
    log = (repo / LOG).read_text()
    assert "cls2 k1 w1 mlp: 2 fits: 0 reused (same key), 2 to train" in log
    assert "removing stale fit folder" in log and log.count("0 to train") == 8
    records = _records(repo)
    for path, rec in records.items():
        old = first_records[path]
        if rec["task"] == "cls2" and rec["arch"] == "mlp":
            assert (old["epochs_run"], rec["epochs_run"]) == (4, 6)
            assert len(rec["val_loss_history"]) == 6
            assert rec["fit_key"] != old["fit_key"]
            assert rec["best_val_loss"] != old["best_val_loss"]
        else:
            assert rec == old, path


# ------------------------------------------------------------------ paper scale, one step
def _paper_cfg() -> dict:
    cfg = _base_cfg()
    paper = yaml.safe_load((REPO / "config/paper.yaml").read_text())["wang2021"]
    for key, value in paper.items():
        cfg[key] = {**cfg[key], **value} if isinstance(value, dict) else value
    return cfg


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["classify", "trajectory"])
def test_paper_scale_models_take_one_step(kind, capsys):
    """Every paper.yaml network of a task kind (on the neurons of cls7 / traj), with the
    paper's ensemble (10 folds) and whole-worm batch (a Kato worm at its native rate: 3300
    timesteps / its 412 training windows of 1 or 4 context + 8 steps) shapes: one Adam step
    on CPU."""
    from neurodyn.wang2021.batched import MemberAdam, init_members
    from neurodyn.wang2021.harness import EnsembleModule, WormBatch
    from neurodyn.wang2021.run import build_model, task_neurons, train_context

    cfg = _paper_cfg()
    task = "cls7" if kind == "classify" else "traj"
    neurons = task_neurons(cfg, task)
    opts = cfg[kind]
    assert opts["batch_size"] is None  # whole worms (thesis App. A.3)
    T = 3300
    E, N, B = len(cfg["folds"]), len(neurons), T if kind == "classify" else T // cfg["window"]
    gen = torch.Generator().manual_seed(0)
    archs = {a for spec in cfg["tasks"].values() if spec["kind"] == kind for a in spec["archs"]}
    for arch in sorted(archs - {"svm", "nochange"}):
        model = build_model(arch, kind, E, N, 7, cfg, neurons)
        init_members(model, range(E))
        if kind == "classify":
            wb = WormBatch(torch.rand(B, N, 2, generator=gen), torch.ones(N),
                           torch.randint(0, 7, (B,), generator=gen), torch.ones(E, B),
                           torch.ones(E, B))
        else:
            context = train_context(arch, opts)
            wb = WormBatch(torch.rand(B, context + cfg["window"], N, 2, generator=gen),
                           torch.ones(N), None, torch.ones(E, B), torch.ones(E, B))
        module = EnsembleModule(model, [wb], kind, opts["lr"], opts["lr_factor"],
                                opts["lr_patience"], ss_epochs=opts.get("ss_epochs", 0),
                                burn_in=train_context(arch, opts) if kind == "trajectory"
                                else 1)
        before = [p.detach().clone() for p in model.parameters()]
        opt = MemberAdam(model.parameters(), torch.full((E,), opts["lr"]))
        total, n = module.member_losses(wb, wb.train, training=True)
        loss = (total / n).sum()
        loss.backward()
        opt.step()
        assert torch.isfinite(loss)
        changed = sum(not torch.equal(a, p)
                      for a, p in zip(before, model.parameters(), strict=True))
        assert changed > 0
        params = sum(p.numel() for p in model.parameters())
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with capsys.disabled():
            print(f"\nwang2021 paper {kind} {arch}: {params} parameters ({E} members), "
                  f"loss {loss.item():.4g}, peak RSS {peak_mb:.0f} MB", file=sys.stderr)
