"""Report captions of the scaling study say whether each result is synthetic or real.

Renders ``workflow/report/scaling_*.rst`` the way Snakemake does (Jinja2 with a ``snakemake``
object holding the job's wildcards and the config), for every cohort, without running the
workflow; the tiny end-to-end report is checked in ``test_workflow_run.py``.
"""

from __future__ import annotations

from types import SimpleNamespace

import jinja2
import pytest
import yaml

from conftest import REPO

REPORT = REPO / "workflow" / "report"
PER_COHORT = ("scaling_data.rst", "scaling_model.rst", "scaling_generation.rst")
TABLES = ("scaling_slopes.rst", "scaling_sanity.rst")


def _config(cohorts: list[str]) -> dict:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["scaling"]["cohorts"] = cohorts
    if "real" in cohorts:  # the real cohort needs real folders: the developers' overlay
        shared = yaml.safe_load((REPO / "config" / "real_shared.yaml").read_text())
        cfg["data"]["real"]["dirs"] = shared["data"]["real"]["dirs"]
    return cfg


def _render(name: str, cohorts: list[str], cohort: str | None = None) -> str:
    wildcards = SimpleNamespace(cohort=cohort) if cohort else SimpleNamespace()
    sm = SimpleNamespace(wildcards=wildcards, config=_config(cohorts))
    return jinja2.Template((REPORT / name).read_text()).render(snakemake=sm)


@pytest.mark.parametrize("name", PER_COHORT)
@pytest.mark.parametrize("cohort", ["synthetic", "sines", "randomwalk", "real"])
def test_figure_captions_label_the_data(name, cohort):
    text = _render(name, ["synthetic", "sines", "randomwalk", "real"], cohort)
    assert f"({cohort}; cf. Simeon et al. 2024" in text
    if cohort == "real":
        assert "**REAL** recordings" in text and "SYNTHETIC" not in text
        assert "Kato2015" in text  # the real datasets are named
    else:
        assert "**SYNTHETIC**" in text and "REAL" not in text
    assert "}}" not in text and "{%" not in text


def test_source_slopes_caption_labels_the_data():
    assert "**REAL** recordings" in _render("scaling_sources.rst", ["real"], "real")
    syn = _render("scaling_sources.rst", ["synthetic"], "synthetic")
    assert "**SYNTHETIC**" in syn and "REAL" not in syn


@pytest.mark.parametrize("name", TABLES)
def test_table_captions_label_each_source(name):
    synthetic_only = _render(name, ["synthetic", "sines", "randomwalk"])
    assert "**SYNTHETIC**" in synthetic_only and "REAL" not in synthetic_only
    with_real = _render(name, ["synthetic", "real"])
    assert "**SYNTHETIC**" in with_real and "**REAL** recordings" in with_real
    assert "``source = real``" in with_real
