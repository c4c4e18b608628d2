"""One figure style and one way to save figures (deterministic, labelled, with provenance)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from neurodyn.io.atomic import atomic_path  # noqa: E402

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "neurodyn",
    "image.cmap": "viridis",
}
plt.rcParams.update(STYLE)

SYNTHETIC_BANNER = "SYNTHETIC DATA (stand-in, not the published recordings)"
MIXED_BANNER = "MIXED DATA: synthetic and real"


def data_source(flags: list[str]) -> str:
    """'synthetic', 'real' or 'mixed' from datasets' ``synthetic`` attributes."""
    kinds = {"synthetic" if f == "true" else "mixed" if f == "mixed" else "real"
             for f in flags}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def save_figure(fig: Figure, path: str | Path, prov: Mapping[str, Any], source: str) -> None:
    """Stamp the data source and provenance on ``fig`` and save it atomically as PNG."""
    title = fig._suptitle.get_text() if fig._suptitle is not None else ""
    if source in ("synthetic", "mixed"):
        banner = SYNTHETIC_BANNER if source == "synthetic" else MIXED_BANNER
        fig.suptitle(banner + (f"\n{title}" if title else ""), color="firebrick",
                     fontsize=10, fontweight="bold")
    else:
        fig.suptitle((f"{title} " if title else "") + "(real data)", fontsize=10)
    footer = " · ".join(f"{k} {prov[k]}" for k in ("neurodyn_version", "config_sha256_16",
                                                   "seed") if k in prov)
    fig.text(0.995, -0.005, f"{source} data · {footer}", ha="right", va="top", fontsize=6,
             color="0.4")
    meta = {"Software": f"neurodyn {prov.get('neurodyn_version', '')}",
            "Comment": f"source={source}; " + "; ".join(f"{k}={v}" for k, v in prov.items()
                                                      if k != "config_json")}
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata=meta, bbox_inches="tight", pad_inches=0.08)
    plt.close(fig)
