"""Wang 2021 end to end on the tiny config in a fresh copy: every table and figure, labels,
quoted numbers, sanity checks; the paper grid and the one-fit-per-job mode plan quickly."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from workflow_helpers import clone_repo, run_snakemake

pytestmark = pytest.mark.workflow

TINY = ["--configfile", "config/config.yaml", "tests/data/tiny.yaml"]
TABLES = ["table2_1", "accuracy_by_k", "trajectory_mse", "without_ava", "edges_connectome",
          "sanity"]
FIGURES = ["fig2_2a", "fig2_2b", "fig2_2c", "fig2_3a", "fig2_3b", "without_ava",
           "edges_connectome"]
TARGETS = [f"results/wang2021/tables/{t}.csv" for t in TABLES] + \
    [f"results/wang2021/figures/{f}.png" for f in FIGURES]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    repo = clone_repo(tmp_path_factory.mktemp("wang"))
    res = run_snakemake(repo, "--cores", "2", *TINY, "--", *TARGETS)
    assert res.returncode == 0, res.stderr[-4000:]
    return repo


def test_tables_figures_and_labels(run):
    root = run / "results/wang2021"
    for rel in TARGETS:
        assert (run / rel).stat().st_size > 0, rel
    t21 = pd.read_csv(root / "tables/table2_1.csv")
    assert list(t21.model) == ["SVM", "MLP", "GNN (connectome)", "GNN",
                               "Brennan & Proekt 2019 (quoted)"]
    assert t21.seen_mean[:4].between(0, 100).all() and t21.seen_mean[:4].notna().all()
    assert t21.nichols_mean[[0, 3]].notna().all()  # SVM and GNN run on the shared neurons
    assert t21.thesis_seen[4] == "83 (quoted)" and t21.thesis_unseen_kato[4] == "81 (quoted)"
    assert t21.thesis_unseen_kato[3] == "97.7 ± 3.1 (quoted)"
    assert (t21.source[:4] == "Kato synthetic; Nichols synthetic").all()
    md = (root / "tables/table2_1.md").read_text()
    assert "SYNTHETIC" in md and "Provenance: neurodyn_version=" in md
    fits = json.loads((root / "fits.json").read_text())["fits"]
    one = next(f for f in fits if f["arch"] == "gnn" and f["task"] == "cls2")
    assert len(one["mean_adjacency"]) == 15 and one["kato_source"] == "synthetic"
    assert one["weights"].startswith("results/wang2021/work/")
    assert (run / one["weights"]).stat().st_size > 0


def test_sanity_on_the_tiny_run(run):
    sanity = pd.read_csv(run / "results/wang2021/tables/sanity.csv")
    majority = sanity[sanity.check == "beats majority class on seen worms"]
    # the 2-state classifiers must beat the majority class even on this tiny run
    two = majority[majority.task.isin(["cls2", "cls2_shared3"])]
    assert len(two) == 6 and two.passed.all(), two
    baseline = sanity[sanity.check.str.startswith("no-change baseline")]
    assert len(baseline) > 0 and baseline.passed.all()
    traj = pd.read_csv(run / "results/wang2021/tables/trajectory_mse.csv")
    for _, group in traj.groupby(["task", "k_train_worms", "data"]):
        assert "no change (baseline)" in set(group.model)
        assert group.mse_step16_mean.notna().all()


def _job_counts(stdout: str) -> dict[str, int]:
    return {ln.split()[0]: int(ln.split()[1]) for ln in stdout.splitlines()
            if len(ln.split()) == 2 and ln.split()[1].isdigit()}


@pytest.mark.parametrize("mode", ["fit", "folds"])
def test_other_job_modes_plan_the_same_files(run, mode):
    (run / f"{mode}.yaml").write_text(f"wang2021:\n  job: {mode}\n")
    res = run_snakemake(run, "-n", "--quiet", "rules", *TINY, f"{mode}.yaml", "--forceall",
                        "--", *TARGETS)
    assert res.returncode == 0, res.stderr[-3000:]
    fits = json.loads((run / "results/wang2021/fits.json").read_text())["fits"]
    ensembles = {(f["task"], f["k"], f["combination"], f["arch"]) for f in fits}
    want = len(fits) if mode == "fit" else len(ensembles)  # same fit files either way
    assert _job_counts(res.stdout)["wang2021_train"] == want


def test_real_kato_switch_plans_on_the_real_file():
    from conftest import REPO

    if not (REPO / "../shared/data/real/kato2015_wt_nostim").is_dir():
        pytest.skip("real Kato 2015 export not present")
    res = run_snakemake(REPO, "-n", "--configfile", "config/config.yaml",
                        "tests/data/wang2021_real.yaml", "--forceall", "--",
                        "results/wang2021/fits.json")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "results/data/real/processed/Kato2015.nc" in res.stdout
    assert "results/data/synthetic/processed/Nichols2017.nc" in res.stdout


def test_paper_grid_plans(run):
    res = run_snakemake(run, "-n", "--quiet", "rules", "--configfile", "config/config.yaml",
                        "config/paper.yaml", "--", *TARGETS)
    assert res.returncode == 0, res.stderr[-3000:]
    counts = _job_counts(res.stdout)
    # 7 tasks: 4+4+3+3+3+3 classifier archs + 6 trajectory archs = 26; 31 combinations;
    # the paper config batches the 10 folds of each task x combination x arch in one job
    assert counts["wang2021_train"] == 26 * 31
