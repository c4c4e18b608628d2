"""Findings tables: one row per claim of a paper, decided by a rule fixed in code.

Every study ends in ``results/<study>/findings.{csv,md}`` with the columns of
:data:`COLUMNS` (spec ``findings.md``). A study builds :class:`Finding` rows from its own
measurements and decision rules; this module holds what the studies share: the columns,
the verdict words, a mean with a t-interval over seeds, and the writer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from neurodyn.tables import write_table

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)
COLUMNS = ("claim", "statement", "paper", "measured", "rule", "verdict", "reason", "data", "n")


@dataclass(frozen=True)
class Finding:
    """One claim: the paper's statement and number, ours, the rule and its verdict."""

    claim: str
    statement: str
    paper: str
    measured: str
    rule: str
    verdict: str
    reason: str
    data: str
    n: int

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"{self.claim}: verdict {self.verdict!r} not in {VERDICTS}")
        if self.verdict == INCONCLUSIVE and not self.reason:
            raise ValueError(f"{self.claim}: an inconclusive verdict needs a reason")


@dataclass(frozen=True)
class Interval:
    """Mean of ``n`` values with a two-sided t-interval (NaN bounds for n < 2)."""

    mean: float
    low: float
    high: float
    n: int

    def text(self, fmt: str = ".3g") -> str:
        if self.n < 2:
            return f"{self.mean:{fmt}} (n = {self.n}, no interval)"
        return f"{self.mean:{fmt}} [{self.low:{fmt}}, {self.high:{fmt}}]"

    @property
    def below(self) -> bool:
        """Whether the whole interval lies below 0."""
        return bool(self.n >= 2 and self.high < 0)

    @property
    def above(self) -> bool:
        """Whether the whole interval lies above 0."""
        return bool(self.n >= 2 and self.low > 0)


def t_half_width(sd: float, n: int | np.ndarray, level: float = 0.95) -> float | np.ndarray:
    """Half-width of the two-sided ``level`` t-interval of a mean of ``n`` values whose sample
    standard deviation is ``sd`` (``n`` may be an array of counts)."""
    return stats.t.ppf(0.5 + level / 2, np.asarray(n) - 1) * sd / np.sqrt(n)


def mean_interval(values: Iterable[float], level: float = 0.95) -> Interval:
    """Mean and ``level`` t-interval of the finite ``values`` (e.g. one value per seed)."""
    x = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if x.size == 0:
        return Interval(np.nan, np.nan, np.nan, 0)
    mean = float(x.mean())
    if x.size < 2:
        return Interval(mean, np.nan, np.nan, int(x.size))
    half = float(t_half_width(float(x.std(ddof=1)), x.size, level))
    return Interval(mean, mean - half, mean + half, int(x.size))


def verdict(reasons: Sequence[str], passed: bool | None) -> tuple[str, str]:
    """(verdict, reason) of a claim: ``inconclusive`` with the ``reasons`` the evidence is too
    thin (or when ``passed`` is None: the numbers decide neither way), else ``reproduced`` or
    ``not reproduced`` by ``passed``."""
    if reasons or passed is None:
        return INCONCLUSIVE, "; ".join(reasons) or "the intervals decide neither way"
    return (REPRODUCED, "") if passed else (NOT_REPRODUCED, "")


def findings_frame(rows: Sequence[Finding]) -> pd.DataFrame:
    """The findings table (columns :data:`COLUMNS`, one row per claim, in order)."""
    return pd.DataFrame([asdict(r) for r in rows], columns=list(COLUMNS))


def write_findings(rows: Sequence[Finding], csv_path: str | Path, md_path: str | Path,
                   prov: Mapping[str, Any], title: str, note: str = "") -> pd.DataFrame:
    """Write the findings table as CSV and Markdown with its provenance sidecar."""
    table = findings_frame(rows)
    write_table(table, csv_path, md_path, prov, title, note)
    return table
