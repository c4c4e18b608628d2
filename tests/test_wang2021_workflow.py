"""Wang 2021 end to end on the tiny config in a fresh copy: every table and figure, labels,
quoted numbers, sanity checks; the paper grid and the one-fit-per-job mode plan quickly."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.patches import Rectangle

from workflow_helpers import clone_repo, run_snakemake

pytestmark = pytest.mark.workflow

TINY = ["--configfile", "config/config.yaml", "tests/data/tiny.yaml"]
TABLES = ["table2_1", "accuracy_by_k", "trajectory_mse", "without_ava", "edges_connectome",
          "sanity"]
FIGURES = ["fig2_2a", "fig2_2b", "fig2_2c", "fig2_3a", "fig2_3b", "without_ava",
           "edges_connectome"]
TARGETS = [f"results/wang2021/tables/{t}.csv" for t in TABLES] + \
    [f"results/wang2021/figures/{f}.png" for f in FIGURES] + ["results/wang2021/findings.csv"]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    repo = clone_repo(tmp_path_factory.mktemp("wang"))
    res = run_snakemake(repo, "--cores", "2", *TINY, "--", *TARGETS)
    assert res.returncode == 0, res.stderr[-4000:]
    return repo


def _wang_cfg(repo: Path) -> dict:
    cfg = yaml.safe_load((repo / "config/config.yaml").read_text())["wang2021"]
    for key, value in yaml.safe_load((repo / "tests/data/tiny.yaml").read_text())[
            "wang2021"].items():
        cfg[key] = {**cfg[key], **value} if isinstance(value, dict) else value
    return cfg


def _artists_with_data(ax) -> int:
    """Lines, bars, markers or images of ``ax`` that carry at least one finite value."""
    n = sum(bool(np.isfinite(np.asarray(ln.get_ydata(), float)).any())
            for ln in ax.get_lines())
    n += sum(isinstance(p, Rectangle) and np.isfinite(p.get_height()) and p.get_height() != 0
             for p in ax.patches)
    n += sum(bool(np.isfinite(np.asarray(c.get_offsets(), float)).any())
             for c in ax.collections if np.asarray(c.get_offsets()).size)
    n += sum(bool(np.isfinite(np.asarray(im.get_array(), float)).any()) for im in ax.images)
    return n


def test_tables_figures_and_labels(run):
    from neurodyn.wang2021.figures import FIGURES

    root = run / "results/wang2021"
    fits = json.loads((root / "fits.json").read_text())["fits"]
    cfg = _wang_cfg(run)
    for name, make in FIGURES.items():  # every drawn panel carries data from the fits
        fig = make(fits, cfg)
        panels = [ax for ax in fig.axes if ax.axison]
        assert panels and all(_artists_with_data(ax) > 0 for ax in panels), name
        plt.close(fig)
        img = plt.imread(root / f"figures/{name}.png")
        assert img.shape[0] >= 300 and img.shape[1] >= 500, (name, img.shape)
        assert img[..., :3].std() > 0.05, name  # not a blank canvas
    for name in TABLES:  # every table has rows, its Markdown and its provenance sidecar
        assert len(pd.read_csv(root / f"tables/{name}.csv")) > 0, name
        prov = json.loads((root / f"tables/{name}.provenance.json").read_text())
        assert prov["rule"] == "wang2021_tables" and (root / f"tables/{name}.md").exists()
    by_k = pd.read_csv(root / "tables/accuracy_by_k.csv")
    for row in by_k.itertuples():
        accs = [100 * f["acc_seen"] for f in fits if (f["task"], f["arch"], f["k"]) ==
                (row.task, row.arch, row.k_train_worms)]
        assert row.seen_mean == pytest.approx(np.mean(accs), rel=1e-5), row
    t21 = pd.read_csv(root / "tables/table2_1.csv")
    assert list(t21.model) == ["SVM", "MLP", "GNN (connectome)", "GNN",
                               "Brennan & Proekt 2019 (quoted)"]
    for i, arch in enumerate(("svm", "mlp", "gnn_connectome", "gnn")):  # means of the fits
        accs = [100 * f["acc_seen"] for f in fits if f["task"] == "cls2" and f["arch"] == arch
                and f["k"] == cfg["table_k"]]
        assert len(accs) == len(cfg["folds"]) and t21.seen_n_fits[i] == len(accs)
        assert t21.seen_mean[i] == pytest.approx(np.mean(accs), rel=1e-5)
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


def test_findings_table_on_the_tiny_run(run):
    root = run / "results/wang2021"
    table = pd.read_csv(root / "findings.csv")
    assert list(table.claim) == ["W1", "W2", "W3", "W4", "W5"]
    # synthetic Kato stand-ins, one combination of 2 folds: every claim inconclusive, saying why
    assert (table.verdict == "inconclusive").all() and table.reason.notna().all()
    assert table.reason.str.contains("synthetic|need 3|no W").all()
    assert table.paper.str.contains("(published)", regex=False).all()
    assert table.data.str.startswith("synthetic").all()
    assert json.loads((root / "findings.provenance.json").read_text())["rule"] == \
        "wang2021_tables"
    assert "SYNTHETIC" in (root / "findings.md").read_text()


def test_sanity_on_the_tiny_run(run):
    sanity = pd.read_csv(run / "results/wang2021/tables/sanity.csv")
    majority = sanity[sanity.check == "beats majority class on seen worms"]
    # the 2-state classifiers must beat the majority class even on this tiny run
    two = majority[majority.task.isin(["cls2", "cls2_shared3"])]
    assert len(two) == 6 and two.passed.all(), two
    baseline = sanity[sanity.check.str.startswith("no-change baseline")]
    # every trajectory model (4 archs) on both evaluation sets, against one baseline
    assert len(baseline) == 2 * 4 and baseline.passed.all(), baseline
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
                        "config/real_shared.yaml", "tests/data/wang2021_real.yaml",
                        "--forceall", "--",
                        "results/wang2021/fits.json")
    assert res.returncode == 0, res.stderr[-3000:]
    # Wang's own product at the native rate, from the raw files (not the scaling study's
    # z-scored, smoothed, resampled processed files)
    assert "results/wang2021/data/real/Kato2015.nc" in res.stdout
    assert "results/wang2021/data/synthetic/Nichols2017.nc" in res.stdout
    assert "results/data/real/raw/Kato2015.nc" in res.stdout
    train_inputs = [block.split("\n")[1] for block in res.stdout.split("rule ")[1:]
                    if block.startswith("wang2021_train:")]
    assert train_inputs and all(
        line.split("input: ")[1] == "results/wang2021/data/real/Kato2015.nc, "
        "results/wang2021/data/synthetic/Nichols2017.nc" for line in train_inputs)


def test_paper_grid_plans(run):
    res = run_snakemake(run, "-n", "--quiet", "rules", "--configfile", "config/config.yaml",
                        "config/paper.yaml", "--", *TARGETS)
    assert res.returncode == 0, res.stderr[-3000:]
    counts = _job_counts(res.stdout)
    # 7 tasks: 4+4+3+3+3+3 classifier archs + 6 trajectory archs = 26; 31 combinations;
    # the paper config batches the 10 folds of each task x combination x arch in one job
    assert counts["wang2021_train"] == 26 * 31


def test_reproduce_grid_plans_the_claims_cells():
    """config/reproduce.yaml: one combination job per training-worm combination, in one rule
    per k, each declaring exactly the tasks run at its k (two states at every k, four
    states at k = 3, seven states at k = 1, trajectories at k = 1 and 4 with 2 folds)."""
    from conftest import REPO

    if not (REPO / "../shared/data/real/kato2015_wt_nostim").is_dir():
        pytest.skip("real Kato 2015 export not present")
    res = run_snakemake(REPO, "wang2021_all", "-n", "--configfile=config/reproduce.yaml",
                        "--forceall")
    assert res.returncode == 0, res.stderr[-3000:]
    counts = _job_counts(res.stdout)
    assert {r: n for r, n in counts.items() if r.startswith("wang2021_train")} == {
        "wang2021_train_k1": 5, "wang2021_train_k2": 10, "wang2021_train_k3": 10,
        "wang2021_train_k4": 5, "wang2021_train_k5": 1}
    blocks = {b.split(":")[0]: b for b in res.stdout.split("rule ")[1:]}
    k3 = blocks["wang2021_train_k3"]
    assert "cls4/k3/" in k3 and "cls2/k3/" in k3 and "cls7/" not in k3 and "traj/" not in k3
    k1 = blocks["wang2021_train_k1"]
    assert "cls7/k1/" in k1 and "traj/k1/" in k1 and "traj/k1/w1/fold2/" not in k1
