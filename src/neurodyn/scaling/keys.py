"""What a scaling fit depends on (torch-free, shared by the rules and the training job).

A fit's result depends on its spec (:class:`~neurodyn.scaling.grid.Fit`), the cohort file, the
training code (:data:`TRAIN_CODE`) and the config values :func:`fit_config` returns. The grid
keys (``archs``, ``seeds``, ``data_scaling``, ``model_scaling``), ``cohorts``,
``fits_per_job`` and ``controls`` (which reach a fit only through the cohort file) are not
among them, so adding a cohort, a seed or a grid level, or regrouping fits into jobs, retrains
no existing fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neurodyn.scaling.grid import FIXED_SIZE_ARCHS, Fit, generates

#: Package sources (relative to ``neurodyn``) a training job runs: the fit key's code digest.
TRAIN_CODE = (
    "__init__.py", "errors.py", "digest.py", "io/__init__.py", "io/atomic.py", "io/netcdf.py",
    "io/calcium.py", "data/celegans/names.py", "eval/losses.py", "train/__init__.py",
    "train/callbacks.py", "train/device.py", "train/runner.py", "train/runtime.py",
    "train/trainer.py", "scaling/__init__.py", "scaling/grid.py", "scaling/keys.py",
    "scaling/windows.py", "scaling/models.py", "scaling/generation.py",
    "scaling/next_step.py", "scaling/run.py",
)
#: Config keys of ``scaling`` a training job reads (the rule passes only these).
TRAIN_KEYS = ("seq_len", "train_windows", "val_windows", "train_first", "matched_params",
              "train", "generation")
#: Architectures without trainable parameters: evaluated, never trained.
UNTRAINED_ARCHS = ("Baseline",)


def fit_settings(scaling: Mapping[str, Any]) -> dict[str, Any]:
    """The part of config ``scaling`` that training jobs read (with its defaults)."""
    missing = [k for k in TRAIN_KEYS if k not in scaling and k != "train_first"]
    if missing:
        raise KeyError(f"config scaling is missing {', '.join(missing)}")
    out = {k: scaling[k] for k in TRAIN_KEYS if k in scaling}
    out.setdefault("train_first", True)
    return out


def fit_config(settings: Mapping[str, Any], fit: Fit, precision: str = "32-true"
               ) -> dict[str, Any]:
    """Exactly the config values the result of ``fit`` depends on (part of its key).

    ``settings`` is :func:`fit_settings`; ``precision`` the effective training precision.
    Windows and split always matter; the matched size only for data-scaling fits of sized
    architectures; the optimisation settings only for trained architectures; the generation
    settings only for fits that generate."""
    cfg: dict[str, Any] = {k: settings[k] for k in ("seq_len", "train_windows", "val_windows")}
    cfg["train_first"] = bool(settings.get("train_first", True))
    if fit.experiment == "data_scaling" and fit.arch not in FIXED_SIZE_ARCHS:
        cfg["matched_params"] = settings["matched_params"]
    if fit.arch not in UNTRAINED_ARCHS:
        cfg["train"] = dict(settings["train"])
        cfg["precision"] = precision
    if generates(fit):
        cfg["generation"] = dict(settings["generation"])
    return cfg
