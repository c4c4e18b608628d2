"""Planning-level checks: lint, dry runs for every config and the SLURM profile, bad config,
study switches. Every plan runs in a throw-away copy, so it does not depend on results/."""

import time
from pathlib import Path

import pytest

from workflow_helpers import clone_repo, run_snakemake

pytestmark = pytest.mark.workflow

STUDIES = ("scaling", "wang2021", "lfads", "autolfads", "zapbench")


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A fresh copy of the repository, without results/."""
    return clone_repo(tmp_path_factory.mktemp("plan"))


def _planned_rules(stdout: str) -> set[str]:
    """Rule names of a ``-n --quiet rules`` job-stats table."""
    rows = [line.split() for line in stdout.splitlines()]
    return {r[0] for r in rows if len(r) == 2 and r[1].isdigit() and r[0] != "total"}


def test_lint_is_clean(repo):
    res = run_snakemake(repo, "--lint")
    assert "Congratulations" in res.stdout + res.stderr, res.stdout + res.stderr


@pytest.mark.parametrize("extra", [
    [],
    ["--profile", "slurm"],
    ["--workflow-profile", "profiles/slurm"],
])
def test_dry_run(repo, extra):
    start = time.perf_counter()
    res = run_snakemake(repo, "-n", *extra)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "dry-run" in res.stdout + res.stderr
    assert "Nothing to be done" not in res.stdout + res.stderr
    assert time.perf_counter() - start < 60


def test_paper_config_plans_within_30_s(repo):
    start = time.perf_counter()
    res = run_snakemake(repo, "-n", "--quiet", "rules", "--configfile", "config/paper.yaml")
    elapsed = time.perf_counter() - start
    assert res.returncode == 0, res.stderr[-3000:]
    total = next(int(line.split()[1]) for line in res.stdout.splitlines()
                 if line.startswith("total"))
    print(f"snakemake -n --configfile config/paper.yaml: {total} jobs in {elapsed:.1f} s")
    assert _planned_rules(res.stdout) >= {f"{s}_train" for s in ("scaling", "lfads", "wang2021")}
    assert elapsed < 30


def test_slurm_profile_plans_with_slurm_executor(repo):
    res = run_snakemake(repo, "-n", "--profile", "slurm", "--verbose")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert "slurm_partition=cpu" in out


def test_study_switch_and_study_targets(repo):
    """`<study>.enabled: false` drops a study from `rule all`; `<study>_all` still builds it."""
    (repo / "off.yaml").write_text("".join(f"{s}: {{enabled: false}}\n" for s in STUDIES))
    res = run_snakemake(repo, "-n", "--quiet", "rules", "--configfile", "off.yaml")
    assert res.returncode == 0, res.stderr[-3000:]
    planned = _planned_rules(res.stdout)
    assert "combine" in planned  # the data study stays
    assert not {r for r in planned if r.startswith(STUDIES)}, planned
    for study in STUDIES:
        res = run_snakemake(repo, "-n", "--quiet", "rules", "--configfile", "off.yaml",
                            "--", f"{study}_all")
        assert res.returncode == 0, res.stderr[-3000:]
        assert any(r.startswith(study + "_") and r != f"{study}_all"
                   for r in _planned_rules(res.stdout)), (study, res.stdout[-2000:])


@pytest.mark.parametrize("override, field", [
    (["seed=-1"], "seed"),
    (["data={'synthetic': {'worms': {'Kato2015': 0}}}"], "Kato2015"),
    (["data={'preprocess': {'smooth_alpha': 2}}"], "smooth_alpha"),
])
def test_invalid_config_names_the_field(repo, override, field):
    res = run_snakemake(repo, "-n", "--config", *override)
    assert res.returncode != 0
    err = res.stdout + res.stderr
    assert "config" in err.lower() and field in err, err[-3000:]
