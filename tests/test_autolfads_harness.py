"""AutoLFADS on the shared harness: the sanity row on failed members can fail, reruns in a repo
copy reuse member fits (byte-identical results), a training-length key retrains exactly the
fits it changes, and the paper-scale LFADS member takes one optimizer step on CPU.

* workflow: the Snakemake-native PBT and the fixed-HP baseline in a throw-away repo copy.
* slow: the ``config/paper.yaml`` model with a batch of the paper's shapes.
"""

from __future__ import annotations

import copy
import json
import math
import re
import resource
import tracemalloc

import numpy as np
import pytest
import yaml

from neurodyn.autolfads.pipeline import summarise, unreplaced_failures
from neurodyn.autolfads.tables import sanity

from conftest import REPO
from workflow_helpers import clone_repo, run_snakemake


def _merged(*names: str) -> dict:
    def merge(base: dict, over: dict) -> dict:
        out = copy.deepcopy(base)
        for k, v in over.items():
            out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k),
                                                                             dict) else v
        return out

    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    for name in names:
        cfg = merge(cfg, yaml.safe_load((REPO / name).read_text()))
    return cfg


# ------------------------------------------------------------------- failed-member sanity row
def _record(member, parent, status, score):
    return {"member": member, "parent": parent, "status": status, "score": score}


def _row(population):
    summary = summarise(population)
    record = {"dataset": "D", "backend": "snakemake", "co_bps": 0.1, **summary}
    table = sanity([record], ["snakemake"], len(population) * len(population[0]))
    return table[table["check"].str.startswith("failed member-generations")].iloc[0]


def test_failed_member_row_fails_when_a_failure_is_not_replaced():
    gen0 = [_record(0, None, "ok", 2.0), _record(1, None, "failed", None)]
    replaced = [gen0, [_record(0, 0, "ok", 1.0), _record(1, 0, "ok", 1.5)]]
    kept = [gen0, [_record(0, 0, "ok", 1.0), _record(1, 1, "ok", 1.5)]]
    assert unreplaced_failures(replaced) == 0 and unreplaced_failures(kept) == 1
    ok, bad = _row(replaced), _row(kept)
    assert bool(ok["pass"]) and ok["value"] == 0 and "(1)" in ok["check"]
    assert not bool(bad["pass"]) and bad["value"] == 1


def test_failed_member_row_fails_on_final_or_unhealthy_replacements():
    """A failure in the final generation (nothing replaces it) and a clone of a member that
    failed too are not replacements; the row fails on both."""
    gen0 = [_record(0, None, "ok", 2.0), _record(1, None, "ok", 1.5),
            _record(2, None, "failed", None)]
    final_fail = [gen0, [_record(0, 0, "ok", 1.0), _record(1, 1, "failed", None),
                         _record(2, 0, "ok", 1.2)]]
    assert unreplaced_failures(final_fail) == 1 and not bool(_row(final_fail)["pass"])
    both_failed = [[_record(0, None, "ok", 2.0), _record(1, None, "failed", None),
                    _record(2, None, "failed", None)],
                   [_record(0, 0, "ok", 1.0), _record(1, 2, "ok", 1.5),
                    _record(2, 0, "ok", 1.2)]]
    row = _row(both_failed)
    assert unreplaced_failures(both_failed) == 1 and not bool(row["pass"]) and "(2)" in row[
        "check"]


# --------------------------------------------------------------------------- workflow reruns
DATASET = "SyntheticReaching"
RUN = f"{DATASET}/seed0"  # replicate 0 of autolfads.seeds
TARGETS = [f"results/autolfads/{RUN}/snakemake/population.json",
           f"results/autolfads/{RUN}/fixed/population.json"]
RESULTS = [*TARGETS, *(f"results/autolfads/{RUN}/snakemake/gen{g}/chunk0.json"
                       for g in (0, 1))]
LOGS = {g: f"logs/autolfads/{RUN}/snakemake/gen{g}/chunk0.log" for g in (0, 1)}
FIXED_LOG = f"logs/autolfads/{RUN}/fixed/train.log"


def _run(repo, *args):
    res = run_snakemake(repo, "--cores", "1", "--configfile", "config/config.yaml",
                        "tests/data/tiny.yaml", "overlay.yaml", *args, "--", *TARGETS,
                        timeout=900)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    return out


def _overlay(repo, epochs_per_generation: int, **pbt) -> None:
    (repo / "overlay.yaml").write_text(yaml.safe_dump({"autolfads": {
        "backends": ["snakemake"], "datasets": [DATASET],
        "pbt": {"population": 2, "generations": 2, "first_generation_epochs": 2,
                "epochs_per_generation": epochs_per_generation, "burn_in_generations": 0,
                "members_per_job": 2, **pbt}}}))


def _fits_line(repo, log):
    text = (repo / log).read_text()
    found = re.search(r"(\d+) fits: (\d+) reused \(same key\), (\d+) to train", text)
    assert found, text[-2000:]
    return tuple(int(x) for x in found.groups())


def _scores(repo, g):
    population = json.loads((repo / TARGETS[0]).read_text())
    return [r["score"] for r in population["generations"][g]]


@pytest.mark.workflow
def test_reruns_reuse_fits_and_a_training_key_retrains(tmp_path):
    repo = clone_repo(tmp_path / "repo")
    _overlay(repo, epochs_per_generation=1)
    _run(repo)
    assert _fits_line(repo, LOGS[0]) == (2, 0, 2) and _fits_line(repo, LOGS[1]) == (2, 0, 2)
    first = {p: (repo / p).read_bytes() for p in RESULTS}
    ckpt = repo / f"results/autolfads/{RUN}/snakemake/gen1/chunk0.ckpt/member0.ckpt"
    first_ckpt = ckpt.read_bytes()
    epochs = [r["epochs"] for r in json.loads((repo / TARGETS[0]).read_text())[
        "generations"][1]]
    assert epochs == [3, 3]

    assert "Nothing to be done" in _run(repo)  # nothing changed: nothing reruns

    _run(repo, "--forcerun", "autolfads_member", "autolfads_fixed")  # jobs rerun, fits reused
    assert _fits_line(repo, LOGS[0]) == (2, 2, 0) and _fits_line(repo, LOGS[1]) == (2, 2, 0)
    assert _fits_line(repo, FIXED_LOG) == (1, 1, 0)
    assert {p: (repo / p).read_bytes() for p in RESULTS} == first
    assert ckpt.read_bytes() == first_ckpt

    before = _scores(repo, 1)
    _overlay(repo, epochs_per_generation=2)  # a training-length key
    _run(repo)
    assert _fits_line(repo, LOGS[0]) == (2, 2, 0)  # generation 0 does not depend on it
    assert _fits_line(repo, LOGS[1]) == (2, 0, 2)  # generation 1 retrains ...
    assert _fits_line(repo, FIXED_LOG) == (1, 0, 1)  # ... and so does the baseline
    population = json.loads((repo / TARGETS[0]).read_text())
    assert [r["epochs"] for r in population["generations"][1]] == [4, 4]
    after = _scores(repo, 1)
    assert all(a != b for a, b in zip(after, before, strict=True))  # new numbers

    # the improvement-ratio rule (patience 1 stops after generation 0): the planned
    # generation 1 is a no-op copy of generation 0, nothing trains
    _overlay(repo, epochs_per_generation=2, stopping="improvement", patience=1)
    _run(repo)
    population = json.loads((repo / TARGETS[0]).read_text())
    assert [r["reason"] for r in population["generations"][1]] == ["stopped", "stopped"]
    assert _scores(repo, 1) == _scores(repo, 0)
    assert population["summary"]["generations_trained"] == 1
    assert "PBT stopped after generation 0" in (repo / LOGS[1]).read_text()


# ------------------------------------------------------------------------------ paper scale
@pytest.mark.slow
def test_paper_member_takes_one_step_on_cpu(tmp_path):
    import torch

    from neurodyn.autolfads.member import MEMBER_CKPT, MemberTask, build_model, train_member
    from neurodyn.train.device import TrainSettings
    from neurodyn.train.runtime import load_weights, quiet_lightning

    quiet_lightning()
    torch.set_num_threads(1)
    cfg = _merged("config/paper.yaml")["autolfads"]
    syn, batch = cfg["synthetic"], int(cfg["batch_size"])
    bins = round((syn["window_s"][1] - syn["window_s"][0]) / syn["bin_width_s"])
    n_fwd, n_in = int(syn["n_forward_bins"]), syn["n_neurons"] - syn["n_heldout"]
    rng = np.random.default_rng(0)

    def arrays(n):
        recon = rng.poisson(0.3, size=(n, bins, syn["n_neurons"])).astype(np.float32)
        encod = recon[:, :bins - n_fwd, :n_in].copy()
        return {"encod_data": encod, "recon_data": recon, "sv_mask": np.ones(encod.shape, bool)}

    train, valid = arrays(batch), arrays(batch)  # one optimizer step per epoch
    task = MemberTask(member=0, generation=0, hps=dict(cfg["fixed_hps"]), seed=11,
                      target_epochs=1)
    torch.manual_seed(task.seed)
    start = {k: v.clone() for k, v in build_model(cfg["model"], train, task.hps)
             .state_dict().items()}
    n_params = sum(v.numel() for v in start.values())
    tracemalloc.start()
    result = train_member(task, train, valid, cfg["model"], batch, cfg["metric"], tmp_path,
                          settings=TrainSettings(device="cpu", progress=False))
    _, peak_py = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"AutoLFADS paper member: {n_params:,} parameters, batch {batch} x {bins} bins x "
          f"{syn['n_neurons']} neurons; peak RSS {rss_mb:.0f} MB, python heap peak "
          f"{peak_py / 2**20:.1f} MB")
    assert result.status == "ok" and math.isfinite(result.score)
    assert math.isfinite(result.history[-1]["train/loss"])
    after = load_weights(tmp_path / MEMBER_CKPT)["state_dict"]
    changed = [k for k in start if not torch.equal(start[k], after[k])]
    assert len(changed) > len(start) // 2, changed
