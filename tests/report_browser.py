"""Open a Snakemake report in headless Chromium and check what it renders."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=15000", "--dump-dom"]
_URI = re.compile(r'"data_uri": "(data:image/png;charset=utf8;filename=([^;"]+);base64,[^"]+)"')


def dump_dom(chromium: str, page: Path, profile: Path) -> str:
    """The DOM of ``page`` after its scripts ran."""
    res = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    return res.stdout


def visible_text(dom: str) -> str:
    body = re.sub(r"<(script|style).*?</\1>", " ", dom, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def rendered_figures(chromium: str, report: Path, workdir: Path) -> set[str]:
    """Names of the report's PNG figures that Chromium decodes to a non-empty image.

    The report app must start (its menu and description appear), then every figure embedded
    in it is loaded into an ``<img>`` of a harness page; a figure counts when the browser
    decoded it (naturalWidth > 0).
    """
    text = visible_text(dump_dom(chromium, report, workdir / "profile-report"))
    if "Results" not in text or "neurodyn regenerates" not in text:
        raise AssertionError(f"the report app did not render: {text[:300]}")
    figures = {name: uri for uri, name in _URI.findall(report.read_text())}
    imgs = "\n".join(f'<img data-name="{name}" src="{uri}">' for name, uri in figures.items())
    harness = workdir / "harness.html"
    harness.write_text(
        f"<html><body>{imgs}<script>window.addEventListener('load', () => {{"
        "const r = {}; for (const i of document.images) r[i.dataset.name] = i.naturalWidth;"
        "const p = document.createElement('pre'); p.id = 'result';"
        "p.textContent = JSON.stringify(r); document.body.appendChild(p); });"
        "</script></body></html>")
    dom = dump_dom(chromium, harness, workdir / "profile-harness")
    match = re.search(r'<pre id="result">(.*?)</pre>', dom, flags=re.S)
    if match is None:
        raise AssertionError("the harness page did not report image sizes")
    widths = json.loads(match.group(1).replace("&quot;", '"'))
    return {name for name, width in widths.items() if width > 0}
