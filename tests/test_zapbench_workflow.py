"""The ZAPBench part of the workflow: tiny end-to-end run of its targets, paper-scale plan."""

import re
from collections import Counter

import pandas as pd
import pytest
from zapbench_helpers import zapbench_config

from neurodyn.zapbench.grid import trace_runs, unet_runs

from workflow_helpers import clone_repo, run_snakemake

pytestmark = pytest.mark.workflow

TABLES = ("per_step", "table1", "table2", "table3", "rf_sweep")
FIGURES = ("fig6", "fig5", "fig4", "fig8", "fig9", "fig10")
TARGETS = [f"results/zapbench/tables/{t}.csv" for t in TABLES] + [
    f"results/zapbench/figures/{f}.png" for f in FIGURES] + ["results/zapbench/findings.csv"]
TINY = ("--configfile", "config/config.yaml", "tests/data/tiny.yaml")


def test_tiny_run_writes_every_table_and_figure(tmp_path):
    repo = clone_repo(tmp_path / "repo")
    res = run_snakemake(repo, "--cores", "2", *TINY, "--", *TARGETS, timeout=900)
    assert res.returncode == 0, res.stderr[-4000:]
    for target in TARGETS:
        assert (repo / target).stat().st_size > 0, target
    steps = pd.read_csv(repo / "results/zapbench/tables/per_step.csv")
    assert set(steps["source"]) == {"synthetic"}
    assert {"test", "test_holdout"} <= set(steps["split"])
    assert steps["step"].max() == 8  # the tiny horizon
    table1 = pd.read_csv(repo / "results/zapbench/tables/table1.csv")
    assert {"base", "trainval", "pretrain1"} <= set(table1["variant"])
    table2 = pd.read_csv(repo / "results/zapbench/tables/table2.csv")
    assert set(table2["input_downsample"]) == {1, 2}
    assert "Miniature ZAPBench (synthetic" in (
        repo / "results/zapbench/tables/table3.md").read_text()
    findings = pd.read_csv(repo / "results/zapbench/findings.csv")
    assert list(findings["claim"]) == [f"Z{i}" for i in range(1, 14)]
    assert (findings["verdict"] == "inconclusive").all()  # one seed
    assert findings["data"].str.startswith("synthetic miniature").all()
    again = run_snakemake(repo, "--cores", "2", *TINY, "-n", "--", *TARGETS)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_paper_config_plans_three_seeds_per_arm(tmp_path):
    repo = clone_repo(tmp_path / "repo")
    res = run_snakemake(repo, "-n", "--configfile", "config/config.yaml", "config/paper.yaml",
                        "--", *TARGETS)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    jobs = {m.group(1): int(m.group(2))
            for m in re.finditer(r"^(zapbench_\w+)\s+(\d+)$", out, re.MULTILINE)}
    # 13 variants: 4 at C = 4/16/64, masked at 2 contexts, 7 at C = 4, long at C = 256
    # → 22 arms × 3 seeds
    assert jobs["zapbench_unet"] == 66
    assert jobs["zapbench_data"] == 9  # the benchmark specimen + 8 pre-training specimens
    z = zapbench_config(tiny=False, paper=True)
    arms = Counter((r["model"], r.get("variant"), r["context"])
                   for r in trace_runs(z) + unet_runs(z))
    assert min(arms.values()) >= 3 and len(arms) == 22 + 7 * 3  # 7 trace models × 3 C


def test_bad_zapbench_config_names_the_key(tmp_path):
    repo = clone_repo(tmp_path / "repo")
    res = run_snakemake(repo, "-n", *TINY, "--config",
                        "zapbench={'unet': {'run': ['base', 'nonexistent']}}", "--",
                        TARGETS[0])
    assert res.returncode != 0
    assert "zapbench.unet.run" in res.stdout + res.stderr
