"""Config overlays merge as Snakemake merges --configfile files."""

from neurodyn.configs import load_config, merge_config


def test_overlays_update_mappings_and_replace_everything_else():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 2}
    out = merge_config(base, {"a": {"y": [3], "z": 4}, "b": {"c": 5}})
    assert out == {"a": {"x": 1, "y": [3], "z": 4}, "b": {"c": 5}}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 2}  # the base is not modified


def test_reproduce_tier_overlays_the_default_config():
    from conftest import REPO

    cfg = load_config(REPO, "config/reproduce.yaml")
    assert cfg["wang2021"]["source"] == "real"
    assert "kato_worms" in cfg["wang2021"]  # kept from config.yaml
