"""Static checks that keep the code base consistent."""

import re
import subprocess
import sys

import pytest

from conftest import REPO


def test_ruff_clean():
    pytest.importorskip("ruff", reason="ruff is not installed (pip install -e '.[dev]')")
    res = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:]


def test_lightning_is_imported_only_as_lightning():
    """`lightning` and `pytorch_lightning` objects do not mix: use `lightning` only."""
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "src").rglob("*.py")
                 if "pytorch_lightning" in p.read_text()]
    assert offenders == []


def test_no_unsafe_deserialisation():
    """No pickle or eval of anything a user or a download supplies."""
    patterns = (r"import pickle", r"pickle\.load", r"allow_pickle=True", r"(?<![.\w])eval\(",
                r"(?<![.\w])exec\(", r"weights_only=False")
    hits = [f"{p.relative_to(REPO)}: {pat}" for p in (REPO / "src").rglob("*.py")
            for pat in patterns if re.search(pat, p.read_text())]
    assert hits == [], hits


def test_package_imports_without_torch_for_data_layer():
    code = ("import sys, neurodyn.data.celegans.preprocess, neurodyn.io.calcium; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
