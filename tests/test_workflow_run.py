"""A tiny end-to-end run in a fresh copy: outputs, idempotence, kill -9 + resume, report."""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from workflow_helpers import clone_repo, run_snakemake, snakemake_cmd

pytestmark = pytest.mark.workflow

TINY = ["--configfile", "config/config.yaml", "tests/data/tiny.yaml"]
EXPECTED = [f"results/data/synthetic/{p}" for p in (
    "processed/combined.nc", "tables/table1.csv", "tables/table1.md",
    "tables/table1.provenance.json", "figures/overview.png", "figures/coverage.png",
    "figures/preprocessing.png")]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    repo = clone_repo(tmp_path_factory.mktemp("run"))
    res = run_snakemake(repo, "--cores", "2", *TINY)
    assert res.returncode == 0, res.stderr[-4000:]
    return repo


def test_outputs_exist_and_are_labelled(finished_run):
    for rel in EXPECTED:
        assert (finished_run / rel).stat().st_size > 0, rel
    md = (finished_run / "results/data/synthetic/tables/table1.md").read_text()
    assert "synthetic" in md and "Provenance: neurodyn_version=" in md


def test_rerun_does_nothing(finished_run):
    res = run_snakemake(finished_run, "--cores", "2", *TINY)
    assert res.returncode == 0
    assert "Nothing to be done" in res.stdout + res.stderr


def _result_bytes(repo: Path) -> dict[str, bytes]:
    """Every result file, except training jobs' resume state (``work/`` folders, which
    record how a fit got there, e.g. after a resume) and torch checkpoints (``torch.save``
    writes a random serialization id; the metrics computed from them are compared), nor the
    rules' benchmark timings, nor the run lock (it holds the PID of the last run)."""
    root = repo / "results"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not {"work", "benchmarks"} & set(p.relative_to(root).parts)
            and p.suffix not in (".ckpt", ".pt") and p.name != ".neurodyn.lock"}


def test_second_run_stops_and_kill_9_resumes_identically(finished_run, tmp_path):
    """While a run holds results/, a second run stops at once naming the lock and its PID;
    after kill -9 of the first run, the plain command resumes (no --unlock) and gives the
    same files as an uninterrupted run."""
    repo = clone_repo(tmp_path / "killed")
    proc = subprocess.Popen(snakemake_cmd("--cores", "2", *TINY), cwd=repo,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        lock = repo / "results/.neurodyn.lock"
        deadline = time.time() + 120
        while time.time() < deadline and not (lock.exists() and lock.read_text().strip()):
            time.sleep(0.2)
        assert lock.read_text().strip() == str(proc.pid), "the first run took no lock"
        second = run_snakemake(repo, "--cores", "2", *TINY)
        out = second.stdout + second.stderr
        assert second.returncode != 0
        assert "results/.neurodyn.lock" in out and f"PID {proc.pid}" in out, out[-3000:]

        raw = repo / "results/data/synthetic/raw"
        while time.time() < deadline and not (raw.is_dir() and any(raw.glob("*.nc"))):
            time.sleep(0.2)
        assert proc.poll() is None, "the run finished before it was killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # kill -9 snakemake and its running jobs
        proc.wait()
    res = run_snakemake(repo, "--cores", "2", *TINY)  # the README command, nothing more
    assert res.returncode == 0, res.stderr[-4000:]
    assert _result_bytes(repo) == _result_bytes(finished_run)


@pytest.fixture(scope="module")
def report(finished_run) -> Path:
    res = run_snakemake(finished_run, *TINY, "--report", "results/report.html")
    assert res.returncode == 0, res.stderr[-4000:]
    return finished_run / "results/report.html"


def test_report_is_self_contained_and_captioned(report):
    html = report.read_text()
    for caption in ("Table I (synthetic data)", "Dataset overview", "Neuron coverage",
                    "Preprocessing"):
        assert caption in html, caption
    assert "SYNTHETIC" in html


def test_report_renders_every_figure_in_chromium(report, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("chromium is not installed")
    from report_browser import rendered_figures

    figures = rendered_figures(chromium, report, tmp_path)
    assert {"overview.png", "coverage.png", "preprocessing.png"} <= figures


def _report_var(html: str, name: str) -> dict:
    """A JSON object the report embeds as ``var <name> = {...};`` (one line)."""
    prefix = f"    var {name} = "
    line = next(ln for ln in html.splitlines() if ln.startswith(prefix))
    return json.loads(line[len(prefix):].rstrip().rstrip(";"))


def test_report_scaling_captions_say_synthetic(report):
    html = report.read_text()
    results, categories = _report_var(html, "results"), _report_var(html, "categories")
    scaling = categories["Simeon 2024 scaling"]
    assert set(scaling) == {"findings", "synthetic", "sines", "randomwalk", "tables"}  # no real
    # the findings table opens the section (the report sorts subcategories by name)
    assert sorted(scaling, key=str.casefold)[0] == "findings"
    headlines = {"data_scaling.png": "Data scaling (", "model_scaling.png": "Model scaling (",
                 "generation.png": "Autoregressive generation (",
                 "source_slopes.png": "Data-scaling slopes per source dataset (",
                 "table2.csv": "Table II (Simeon et al. 2024)",
                 "slopes.csv": "Scaling summary.", "sanity.csv": "Scientific sanity checks",
                 "findings.csv": "Findings: the claims of Simeon et al. 2024"}
    shown = [p for files in scaling.values() for p in files]
    assert len(shown) == 3 * 3 + 1 + 3 + 1
    for path in shown:
        caption = results[path]["caption"]
        assert headlines[Path(path).name] in caption, path
        if "table2" not in path:  # Table II involves no data
            assert "SYNTHETIC" in caption and "REAL" not in caption, path
