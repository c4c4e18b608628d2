"""Planning-level checks: lint, dry runs for every config and the SLURM profile, bad config,
study switches. Every plan runs in a throw-away copy, so it does not depend on results/."""

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
    res = run_snakemake(repo, "-n", *extra)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "dry-run" in res.stdout + res.stderr
    assert "Nothing to be done" not in res.stdout + res.stderr


def test_paper_config_plans(repo):
    """The paper grids plan (their planning time: benchmarks/plan_time.py)."""
    res = run_snakemake(repo, "-n", "--quiet", "rules", "--configfile", "config/paper.yaml")
    assert res.returncode == 0, res.stderr[-3000:]
    assert _planned_rules(res.stdout) >= {f"{s}_train" for s in ("scaling", "lfads", "wang2021")}


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


def _gpu_by_rule(out: str) -> dict[str, set[str]]:
    """Rule name -> the values of its jobs' ``gpu`` resource in a dry run's job listing."""
    found: dict[str, set[str]] = {}
    rule = None
    for line in out.splitlines():
        text = line.strip()
        if text.startswith(("rule ", "localrule ", "checkpoint ", "localcheckpoint ")) and \
                text.endswith(":"):
            rule = text.split()[1].rstrip(":")
        elif text.startswith("resources:") and rule is not None:
            gpu = [p.split("=")[1] for p in text[len("resources:"):].split(", ")
                   if p.strip().startswith("gpu=")]
            found.setdefault(rule, set()).update(gpu or ["absent"])
    return found


TRAINING_RULES = {"scaling_train", "wang2021_train", "lfads_train", "lfads_linear_ae",
                  "autolfads_member", "autolfads_fixed", "zapbench_trace", "zapbench_unet"}


@pytest.mark.parametrize("device, gpus", [("cuda", "1"), ("cpu", "0")])
def test_training_rules_ask_for_a_gpu_when_the_device_is_cuda(repo, device, gpus):
    """One switch (train.device) decides every training rule's GPU resource, so that on a
    GPU box `--resources gpu=1` runs them one at a time on the GPU."""
    (repo / "device.yaml").write_text(f"train: {{device: {device}}}\n")
    res = run_snakemake(repo, "-n", "--forceall", "--configfile", "config/config.yaml",
                        "device.yaml", "--resources", "gpu=1")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    found = _gpu_by_rule(out)
    assert TRAINING_RULES <= set(found), sorted(found)
    assert {rule: found[rule] for rule in TRAINING_RULES} == {r: {gpus} for r in TRAINING_RULES}
    non_training = {r: v for r, v in found.items() if r not in TRAINING_RULES and "1" in v}
    assert not non_training, non_training


def test_one_download_rule_serves_calcium_and_nlb_files(repo):
    """C. elegans raw files and NLB NWB files are fetched by the same `download` rule."""
    (repo / "downloads.yaml").write_text(
        "data: {download: {enabled: true}}\nlfads: {nwb: {enabled: true, download: true}}\n")
    calcium = "resources/raw/Kato2015/traces_nc-mcm/known_neurons.npz"
    nlb = "resources/raw/nlb/sub-Jenkins_ses-small_desc-train_behavior+ecephys.nwb"
    res = run_snakemake(repo, "-n", "--quiet", "rules", "--configfile", "config/config.yaml",
                        "downloads.yaml", "--", calcium, nlb)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    rows = dict(line.split() for line in res.stdout.splitlines() if len(line.split()) == 2)
    assert rows.get("download") == "2", res.stdout
