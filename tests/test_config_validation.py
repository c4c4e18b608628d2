"""Strict configuration: typos in keys, unknown datasets and missing real folders are errors
that name the key; the shipped config files validate."""

import copy

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import update_config, validate

from conftest import REAL, REPO
from workflow_helpers import run_snakemake

SCHEMA = str(REPO / "config/config.schema.yaml")
STUDIES = ("scaling", "wang2021", "lfads", "autolfads", "zapbench")


def _load(*files: str) -> dict:
    """Config files merged as ``--configfile a b ...`` merges them."""
    config: dict = {}
    for name in files:
        update_config(config, yaml.safe_load((REPO / name).read_text()))
    return config


@pytest.fixture(scope="module")
def default() -> dict:
    return _load("config/config.yaml")


def _error(config: dict) -> str:
    with pytest.raises(WorkflowError) as err:
        validate(config, SCHEMA)
    return str(err.value).splitlines()[1]  # "ValidationError: ..." (the schema dump follows)


@pytest.mark.parametrize("files", [
    ["config/config.yaml"],
    ["config/config.yaml", "config/paper.yaml"],
    ["config/config.yaml", "tests/data/tiny.yaml"],
    ["config/config.yaml", "config/real_shared.yaml"],
])
def test_shipped_configs_validate(files):
    validate(_load(*files), SCHEMA)


def test_default_names_no_real_folder(default):
    """A fresh clone has no ../shared/data/real: the default must not point there."""
    assert default["data"]["real"]["dirs"] == {}


def test_unknown_top_level_key_is_named(default):
    config = copy.deepcopy(default)
    config["sede"] = 1
    assert "'sede' was unexpected" in _error(config)


@pytest.mark.parametrize("study", STUDIES)
def test_unknown_study_key_is_named(default, study):
    config = copy.deepcopy(default)
    config[study]["max_epoch"] = 3
    assert "'max_epoch' was unexpected" in _error(config)


@pytest.mark.parametrize("study", STUDIES)
def test_enabled_switch_is_a_boolean(default, study):
    config = copy.deepcopy(default)
    config[study]["enabled"] = False
    validate(config, SCHEMA)
    config[study]["enabled"] = "no"
    assert "'no' is not of type 'boolean'" in _error(config)


@pytest.mark.parametrize("section", [
    ("synthetic", "worms"), ("real", "dirs"), ("real", "unknown_neuron_names"),
    ("download", "sets"),
])
def test_unknown_dataset_name_is_named(default, section):
    config = copy.deepcopy(default)
    value = {"worms": 2, "dirs": "x", "unknown_neuron_names": "error", "sets": []}[section[1]]
    config["data"][section[0]][section[1]]["Kato2051"] = value
    assert "'Kato2051' is not one of" in _error(config)


@pytest.mark.parametrize("section, key", [
    ("data", "data.real.dirs.Dag2023"),
    ("autolfads", "autolfads.real.dirs.MC_Maze"),
])
def test_missing_real_folder_names_key_and_path(tmp_path, section, key):
    missing = tmp_path / "no_such_folder"
    name = key.rsplit(".", 1)[1]
    res = run_snakemake(REPO, "-n", "--config",
                        f"{section}={{'real': {{'dirs': {{'{name}': '{missing}'}}}}}}")
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert key in out and str(missing) in out, out[-3000:]


def test_unknown_top_level_key_stops_the_workflow():
    res = run_snakemake(REPO, "-n", "--config", "sede=1")
    assert res.returncode != 0
    assert "'sede' was unexpected" in res.stdout + res.stderr


def test_real_shared_overlay_adds_the_real_datasets():
    if not REAL.is_dir():
        pytest.skip("../shared/data/real is absent")
    res = run_snakemake(REPO, "-n", "--forceall", "--configfile", "config/config.yaml",
                        "config/real_shared.yaml", "--", "data_all")
    assert res.returncode == 0, res.stderr[-3000:]
    for name in ("Kato2015", "Dag2023"):
        assert f"results/data/real/raw/{name}.nc" in res.stdout
