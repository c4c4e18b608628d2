"""Planning-level checks: lint, dry runs for every config and the SLURM profile, bad config."""

import time

import pytest

from conftest import REPO
from workflow_helpers import run_snakemake

pytestmark = pytest.mark.workflow


def test_lint_is_clean():
    res = run_snakemake(REPO, "--lint")
    assert "Congratulations" in res.stdout + res.stderr, res.stdout + res.stderr


@pytest.mark.parametrize("extra", [
    [],
    ["--configfile", "config/config.yaml", "config/paper.yaml"],
    ["--profile", "slurm"],
    ["--workflow-profile", "profiles/slurm"],
])
def test_dry_run(extra):
    start = time.perf_counter()
    res = run_snakemake(REPO, "-n", *extra)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "dry-run" in res.stdout + res.stderr
    assert time.perf_counter() - start < 60


def test_slurm_profile_plans_with_slurm_executor():
    res = run_snakemake(REPO, "-n", "--profile", "slurm", "--verbose")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert "slurm_partition=cpu" in out


@pytest.mark.parametrize("override, field", [
    (["seed=-1"], "seed"),
    (["data={'synthetic': {'worms': {'Kato2015': 0}}}"], "Kato2015"),
    (["data={'preprocess': {'smooth_alpha': 2}}"], "smooth_alpha"),
])
def test_invalid_config_names_the_field(override, field):
    res = run_snakemake(REPO, "-n", "--config", *override)
    assert res.returncode != 0
    err = res.stdout + res.stderr
    assert "config" in err.lower() and field in err, err[-3000:]
