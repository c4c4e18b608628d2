"""AutoLFADS in the DAG: the paper config plans 20 members x at most 50 generations (the
improvement-ratio rule may end the population early) with GPUs on the member jobs under the
SLURM profile; the tiny config runs end to end (with the Ray Tune backend too when ray is
installed) and writes Table 2, the sanity checks, the findings table and the figures."""

import importlib.util
import json
import re

import pandas as pd
import pytest

from conftest import REPO
from workflow_helpers import clone_repo, run_snakemake

pytestmark = pytest.mark.workflow
TARGETS = ["results/autolfads/tables/table2.csv", "results/autolfads/tables/sanity.csv",
           "results/autolfads/figures/SyntheticReaching_snakemake_pbt.png",
           "results/autolfads/figures/SyntheticReaching_rates.png",
           "results/autolfads/findings.csv"]
HAS_RAY = importlib.util.find_spec("ray") is not None


def test_paper_config_plans_population_with_gpus():
    res = run_snakemake(REPO, "-n", "--workflow-profile", "profiles/slurm", "--configfile",
                        "config/config.yaml", "config/paper.yaml", "--verbose",
                        "--", "results/autolfads/tables/table2.csv")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    counts = dict(re.findall(r"^(autolfads_\w+)\s+(\d+)$", out, flags=re.M))
    # one job per member per generation, up to the improvement rule's maximum of 50
    assert counts["autolfads_member"] == str(20 * 50)
    assert counts["autolfads_select"] == str(50 - 1)
    member_jobs = [block for block in out.split("rule autolfads_member:")[1:]]
    assert member_jobs and all("gpu=1" in block.split("\n\n")[0] for block in member_jobs)


def test_tiny_run_writes_table_and_figures(tmp_path):
    repo = clone_repo(tmp_path / "repo")
    backends = '["snakemake", "ray"]' if HAS_RAY else '["snakemake"]'
    res = run_snakemake(repo, "--cores", "2", "--configfile", "config/config.yaml",
                        "tests/data/tiny.yaml", "--config",
                        f'autolfads={{"backends": {backends}}}', "--", *TARGETS, timeout=900)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    for target in TARGETS:
        assert (repo / target).stat().st_size > 0
    table = pd.read_csv(repo / TARGETS[0])
    assert set(table["source"]) == {"synthetic"}
    methods = set(table["method"])
    assert {"AutoLFADS", "LFADS (fixed HPs)", "Gaussian smoothing"} <= methods
    population = json.loads((repo / "results/autolfads/SyntheticReaching/snakemake/"
                             "population.json").read_text())
    assert [len(g) for g in population["generations"]] == [2, 2]
    sanity = pd.read_csv(repo / TARGETS[1])
    dropped = sanity[sanity["check"].str.startswith("member-generations")]
    assert len(dropped) and dropped["pass"].all()
    failed = sanity[sanity["check"].str.startswith("failed member-generations")]
    assert len(failed) and failed["pass"].all() and (failed["value"] == 0).all()
    findings = pd.read_csv(repo / "results/autolfads/findings.csv").set_index("claim")
    assert list(findings.index) == ["A1", "A2", "A3"]
    assert (findings["verdict"] == "inconclusive").all()  # one seed, no random-search arm
    assert "1 seed(s)" in findings.loc["A1", "reason"]
    assert ("identical by construction" if HAS_RAY else "not in this run") in (
        findings.loc["A2", "reason"])
    assert findings["data"].str.contains("synthetic").all()
    if HAS_RAY:
        assert {"snakemake", "ray", "ray-snakemake"} <= set(table["backend"])
        diff = table[table["backend"] == "ray-snakemake"].iloc[0]
        assert pd.notna(diff["co_bps"])
