"""The Wang 2021 experiment grid, computed from config alone (``snakemake -n`` plans it).

A fit is (task, k, combination, fold, arch). For k training worms every combination of k of
the Kato worms is used (``max_combinations`` keeps an evenly spaced subset); each
combination's 8-step windows are shuffled into ``n_folds`` folds, of which ``folds`` are run.
How many fits one job trains is ``job``: ``fit`` (one), ``folds`` (all folds of one task ×
combination × arch, trained as one batched ensemble) or ``combination`` (every task and arch
of a combination, each arch's folds batched). A task may run its own ``k`` and ``folds``
lists (the reproduce tier runs the claims' cells of the costly tasks; an empty ``k`` skips
the task).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations as _combinations
from typing import Any

import numpy as np

JOB_MODES = ("fit", "folds", "combination")
# Package sources a fit's result depends on (relative to ``neurodyn``): their digest is part
# of every fit's key, so editing them retrains; tables and figures are not in it.
TRAIN_CODE = (
    "errors.py", "io", "train", "data/celegans/connectome.py",
    "data/celegans/connectome_white1986.nc", "data/celegans/dataset_facts.py",
    "data/celegans/names.py", "data/celegans/neurons_302.txt", *(f"wang2021/{m}.py" for m in (
        "__init__", "batched", "data", "grid", "harness", "job", "metrics", "models", "run",
        "states", "static_embedding")),
)


@dataclass(frozen=True)
class Fit:
    """One model fit."""

    task: str
    k: int
    combination: str
    fold: int
    arch: str

    @property
    def path(self) -> str:
        """Folder of the fit's outputs below ``results/wang2021``."""
        return f"{self.task}/k{self.k}/{self.combination}/fold{self.fold}/{self.arch}"


def combination_name(worms: tuple[int, ...]) -> str:
    """'w1-3-5' for the (0-based) worm indices (0, 2, 4)."""
    return "w" + "-".join(str(w + 1) for w in worms)


def combination_worms(name: str) -> tuple[int, ...]:
    """Inverse of :func:`combination_name`."""
    return tuple(int(w) - 1 for w in name[1:].split("-"))


def all_combinations(n_worms: int, k: int) -> list[str]:
    """Every choice of ``k`` of ``n_worms`` worms, in lexicographic order."""
    return [combination_name(c) for c in _combinations(range(n_worms), k)]


def combinations(cfg: Mapping[str, Any], k: int) -> list[str]:
    """The combinations run for ``k`` training worms (an evenly spaced subset if capped)."""
    combos = all_combinations(cfg["kato_worms"], k)
    cap = cfg.get("max_combinations")
    if cap is None or cap >= len(combos):
        return combos
    idx = np.unique(np.linspace(0, len(combos) - 1, cap).round().astype(int))
    return [combos[i] for i in idx]


def task_k(cfg: Mapping[str, Any], task: str) -> list[int]:
    """Training-worm counts run for ``task``: its own ``k`` list if it has one (empty: the
    task is not run), else ``wang2021.k``."""
    spec = cfg["tasks"][task]
    where = f"wang2021.tasks.{task}.k" if "k" in spec else "wang2021.k"
    ks = [int(k) for k in (spec["k"] if "k" in spec else cfg["k"])]
    bad = [k for k in ks if k > cfg["kato_worms"]]
    if bad:
        raise ValueError(f"{where} has {bad} > wang2021.kato_worms={cfg['kato_worms']}")
    return ks


def task_folds(cfg: Mapping[str, Any], task: str) -> list[int]:
    """Folds run for ``task``: its own ``folds`` list if it has one, else ``wang2021.folds``."""
    spec = cfg["tasks"][task]
    where = f"wang2021.tasks.{task}.folds" if "folds" in spec else "wang2021.folds"
    folds = [int(f) for f in (spec["folds"] if "folds" in spec else cfg["folds"])]
    bad = [f for f in folds if f >= cfg["n_folds"]]
    if bad:
        raise ValueError(f"{where} has {bad} >= wang2021.n_folds={cfg['n_folds']}")
    return folds


def task_epochs(cfg: Mapping[str, Any], task: str) -> int:
    """Training epochs of ``task``'s networks: its own ``epochs`` if set, else its kind's."""
    spec = cfg["tasks"][task]
    kind = "classify" if spec["kind"] == "classify" else "trajectory"
    return int(spec.get("epochs", cfg[kind]["epochs"]))


def k_values(cfg: Mapping[str, Any]) -> list[int]:
    """Every training-worm count some task runs, ascending."""
    return sorted({k for task in cfg["tasks"] for k in task_k(cfg, task)})


def has_task_grids(cfg: Mapping[str, Any]) -> bool:
    """Whether some task runs its own ``k`` or ``folds`` list."""
    return any("k" in spec or "folds" in spec for spec in cfg["tasks"].values())


def fits(cfg: Mapping[str, Any]) -> list[Fit]:
    """Every fit of the grid in a fixed order."""
    out = []
    for k in k_values(cfg):
        for combo in combinations(cfg, k):
            for task, spec in cfg["tasks"].items():
                if k not in task_k(cfg, task):
                    continue
                for arch in spec["archs"]:
                    out += [Fit(task, k, combo, f, arch) for f in task_folds(cfg, task)]
    return out


def combination_job_outputs(cfg: Mapping[str, Any], k: int | None = None) -> list[str]:
    """Fit paths of a ``combination`` job below ``results/wang2021`` with ``{k}`` and
    ``{combination}`` left as wildcards: every task run at ``k`` (every task if None),
    its archs and folds."""
    return [f"{task}/k{{k}}/{{combination}}/fold{fold}/{arch}"
            for task, spec in cfg["tasks"].items() if k is None or k in task_k(cfg, task)
            for arch in spec["archs"] for fold in task_folds(cfg, task)]


def stable_seed(*parts: object) -> int:
    """A 31-bit seed from any parts (stable across processes and platforms)."""
    blob = "/".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:4], "little") & 0x7FFFFFFF


def fold_of_timesteps(n_steps: list[int], window: int, n_folds: int,
                      seed: int) -> list[np.ndarray]:
    """Per worm, the fold (0..n_folds-1) of every timestep: each worm's valid samples are
    cut into non-overlapping windows of ``window`` steps, all windows of the combination are
    shuffled together and dealt into folds; a tail shorter than a window gets -1."""
    ids = [(w, i) for w, n in enumerate(n_steps) for i in range(n // window)]
    order = np.random.default_rng(seed).permutation(len(ids))
    out = [np.full(n, -1, np.int64) for n in n_steps]
    for rank, j in enumerate(order):
        w, i = ids[j]
        out[w][i * window:(i + 1) * window] = rank % n_folds
    return out


def split_roles(fold: int, n_folds: int, kind: str) -> dict[str, int | None]:
    """Fold roles: classification tests on ``fold`` and validates on the next fold;
    trajectory prediction validates on ``fold`` (its test data are unseen worms)."""
    if kind == "classify":
        return {"test": fold, "val": (fold + 1) % n_folds}
    return {"test": None, "val": fold}


def job_groups(cfg: Mapping[str, Any]) -> list[list[Fit]]:
    """Fits grouped into jobs per ``cfg['job']`` (order of :func:`fits`)."""
    mode = cfg["job"]
    keyf = {"fit": lambda f: f, "folds": lambda f: (f.task, f.k, f.combination, f.arch),
            "combination": lambda f: (f.k, f.combination)}[mode]
    groups: dict[Any, list[Fit]] = {}
    for fit in fits(cfg):
        groups.setdefault(keyf(fit), []).append(fit)
    return list(groups.values())


def ensembles(group: list[Fit]) -> list[list[Fit]]:
    """Split a job's fits into batched ensembles: the folds of one task × k × combination
    × arch train together."""
    out: dict[tuple, list[Fit]] = {}
    for fit in group:
        out.setdefault((fit.task, fit.k, fit.combination, fit.arch), []).append(fit)
    return list(out.values())
