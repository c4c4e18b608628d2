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


def _pins(requirements) -> dict[str, str]:
    """``{normalised name: version}`` of ``name==version`` lines (extras dropped)."""
    pins = {}
    for req in requirements:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;#]+)\s*", req)
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(3)
    return pins


def test_conda_envs_pin_the_versions_of_pyproject():
    """envs/*.yaml install exactly the versions pyproject.toml pins, and nothing it lacks."""
    import tomllib

    import yaml

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = _pins(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared.update(_pins(extra))
    problems = []
    for env in sorted((REPO / "envs").glob("*.yaml")):
        deps = yaml.safe_load(env.read_text())["dependencies"]
        pip = next((d["pip"] for d in deps if isinstance(d, dict) and "pip" in d), [])
        for name, version in _pins(pip).items():
            if declared.get(name) != version:
                problems.append(f"{env.name}: {name}=={version}, pyproject: {declared.get(name)}")
    assert problems == [], problems


def test_user_docs_cite_no_spec_sections_or_issue_numbers_and_links_resolve():
    docs = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    assert len(docs) >= 7, "README.md and one document per study plus docs/data.md"
    problems = []
    for doc in docs:
        text = doc.read_text()
        for pattern in (r"§", r"(?i)\bissues?[ -]#?\d", r"(?<![\w/])#\d+\b"):
            problems += [f"{doc.name}: {m.group(0)!r}" for m in re.finditer(pattern, text)]
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" not in target and not (doc.parent / target).exists():
                problems.append(f"{doc.name}: broken link {target}")
    assert problems == [], problems


def test_optional_extras_are_imported_lazily():
    """tensorstore, ml-dtypes, ray and cect (extras) are imported only inside functions, so
    the core install imports every module; ``ray_backend`` is the Ray extra's own module."""
    import ast

    extras, own = {"tensorstore", "ml_dtypes", "ray", "cect"}, {"ray_backend.py"}
    hits = []
    for path in sorted((REPO / "src").rglob("*.py")):
        if path.name in own:
            continue
        for node in ast.parse(path.read_text()).body:  # module level only
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            hits += [f"{path.relative_to(REPO)}:{node.lineno} {n}" for n in names
                     if n.split(".")[0] in extras]
    assert hits == [], hits
