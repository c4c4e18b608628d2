"""The 2-, 4- and 7-state tasks, derived from the state vocabularies of the data layer.

Kato 2015 labels (``KATO_STATES``) are grouped into task classes; Nichols 2017 labels
(``NICHOLS_STATES``) into evaluation classes. Kato's unknown state (``nostate``) and states a
task excludes map to -1 (ignored in loss and accuracy).

- 7 states: Kato's states minus the unknown ones.
- 2 states: forward = fwd + slow, reverse = rev1 + rev2 + revsus; turns excluded.
- 4 states: forward, reverse, dorsal turn, ventral turn. Nichols has one ``turn`` state, so on
  Nichols worms a predicted dorsal or ventral turn counts as ``turn``; Nichols ``quiescence``
  has no Kato counterpart and is excluded (rare before lethargus).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurodyn.data.celegans.dataset_facts import KATO_STATES, NICHOLS_STATES, UNKNOWN_STATES

N_STATES = (2, 4, 7)

_FWD, _REV = ("fwd", "slow"), ("rev1", "rev2", "revsus")
KATO_GROUPS: dict[int, dict[str, tuple[str, ...]]] = {
    2: {"forward": _FWD, "reverse": _REV},
    4: {"forward": _FWD, "reverse": _REV, "dorsal turn": ("dt",), "ventral turn": ("vt",)},
    7: {s: (s,) for s in KATO_STATES if s not in UNKNOWN_STATES["kato8"]},
}
_NFWD, _NREV, _NTURN = "forward", "reversal", "turn"
NICHOLS_GROUPS: dict[int, dict[str, tuple[str, ...]]] = {
    2: {"forward": (_NFWD,), "reverse": (_NREV,)},
    4: {"forward": (_NFWD,), "reverse": (_NREV,), "turn": (_NTURN,)},
}
# Task class -> Nichols evaluation class.
COLLAPSE: dict[int, dict[str, str]] = {
    2: {"forward": "forward", "reverse": "reverse"},
    4: {"forward": "forward", "reverse": "reverse", "dorsal turn": "turn",
        "ventral turn": "turn"},
}
for _groups, _vocab in ((KATO_GROUPS, KATO_STATES), (NICHOLS_GROUPS, NICHOLS_STATES)):
    for _g in _groups.values():  # every name used above is a state of the vocabulary
        assert set().union(*_g.values()) <= set(_vocab), _g


def task_classes(n_states: int) -> tuple[str, ...]:
    """Class names of the ``n_states`` task (the model's output order)."""
    return tuple(KATO_GROUPS[n_states])


def nichols_classes(n_states: int) -> tuple[str, ...]:
    """Evaluation classes on Nichols worms (``()`` when the task has none, e.g. 7 states)."""
    return tuple(NICHOLS_GROUPS.get(n_states, {}))


def vocabulary_kind(states: Sequence[str]) -> str:
    """'kato' or 'nichols' from a dataset's ``state`` coordinate."""
    states = tuple(str(s) for s in states)
    if states == KATO_STATES:
        return "kato"
    if states == NICHOLS_STATES:
        return "nichols"
    raise ValueError(f"unknown state vocabulary {states}; expected {KATO_STATES} (Kato) "
                     f"or {NICHOLS_STATES} (Nichols)")


def code_map(states: Sequence[str], n_states: int) -> np.ndarray:
    """Lookup table: a dataset's behaviour code -> task class (Kato) or evaluation class
    (Nichols), -1 = ignored. Index -1 (no label) maps to -1 as well (last entry)."""
    kind = vocabulary_kind(states)
    groups = KATO_GROUPS[n_states] if kind == "kato" else NICHOLS_GROUPS.get(n_states)
    if groups is None:
        raise ValueError(f"the {n_states}-state task has no mapping for Nichols labels")
    out = np.full(len(states) + 1, -1, np.int64)
    for cls, (_, members) in enumerate(groups.items()):
        for name in members:
            out[list(states).index(name)] = cls
    return out


def collapse_map(n_states: int) -> np.ndarray:
    """Predicted task class -> Nichols evaluation class index."""
    evals = nichols_classes(n_states)
    return np.array([evals.index(COLLAPSE[n_states][c]) for c in task_classes(n_states)])
