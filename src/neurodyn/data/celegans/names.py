"""The 302 canonical C. elegans neuron names and raw-ID canonicalisation.

Slot order is Python ``sorted()`` of the names (AS1, AS10, AS11, AS2, ...), as in the
scaling paper. The list ships in ``neurons_302.txt`` (derived from ``cect``; see its header).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from neurodyn.errors import InputError

_ZERO_PADDED = re.compile(r"^([A-Z]+)0+(\d+)$")


@cache
def neurons_302() -> tuple[str, ...]:
    """The 302 canonical names in slot order."""
    text = resources.files(__package__).joinpath("neurons_302.txt").read_text()
    names = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if len(names) != 302 or names != sorted(names):
        raise RuntimeError("neurons_302.txt must hold 302 sorted names")
    return tuple(names)


@cache
def _name_set() -> frozenset[str]:
    return frozenset(neurons_302())


def strip_zero_padding(name: str) -> str:
    """VB01 -> VB1, DA09 -> DA9; DD10 and names without padding are unchanged."""
    return _ZERO_PADDED.sub(r"\1\2", name)


def is_unlabeled_id(raw: object) -> bool:
    """True for IDs that name no neuron: missing, empty, numeric ROI numbers, 'merge', symbols."""
    if raw is None:
        return True
    text = str(raw).strip().replace("?", "")
    return text == "" or text.isdigit() or text.lower() == "merge" or not text.isalnum()


@dataclass(frozen=True)
class NameMapping:
    """Result of canonicalising one recording's column IDs."""

    columns: tuple[int, ...]  # raw column index of each labeled neuron
    names: tuple[str, ...]  # its canonical name
    n_recorded: int  # all columns, labeled or not
    unknown: tuple[str, ...]  # alphabetic IDs that matched no canonical name


def canonicalize(raw_ids: Sequence[object], *, complete_lr: bool = False) -> NameMapping:
    """Map raw column IDs to canonical names.

    Rules, in order: numeric/empty/'merge' IDs are unlabeled; zero padding is stripped;
    a trailing '?' (uncertain ID) is dropped; a name that is not canonical is completed with
    L, then R, when ``complete_lr`` (the first free one is taken); the first column of a
    duplicated name is kept and later ones are unlabeled. Alphabetic IDs that still match no
    canonical name are returned in ``unknown``.
    """
    canonical = _name_set()
    used: dict[str, int] = {}
    unknown: list[str] = []
    for col, raw in enumerate(raw_ids):
        if is_unlabeled_id(raw):
            continue
        base = strip_zero_padding(str(raw).strip().replace("?", "").upper())
        candidates = [base] + ([base + "L", base + "R"] if complete_lr else [])
        choice = next((c for c in candidates if c in canonical and c not in used), None)
        if choice is None:
            if not any(c in canonical for c in candidates):
                unknown.append(str(raw))
            continue  # duplicate (first occurrence wins) or unknown
        used[choice] = col
    return NameMapping(
        columns=tuple(used.values()),
        names=tuple(used.keys()),
        n_recorded=len(raw_ids),
        unknown=tuple(unknown),
    )


def check_known(mapping: NameMapping, path: str | Path, field: str, policy: str) -> None:
    """Raise :class:`InputError` for unknown names unless ``policy == 'unlabel'``."""
    if mapping.unknown and policy == "error":
        shown = ", ".join(sorted(set(mapping.unknown))[:10])
        raise InputError(path, field, f"unknown neuron names: {shown} (not among the 302 "
                         "canonical names; set unknown_neuron_names: unlabel to keep them "
                         "as unlabeled)")
