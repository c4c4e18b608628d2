"""Per-epoch metric bookkeeping of an LFADS model (lone or population member).

Batch metrics are summed weighted by batch size per split; at the end of an epoch they become
``<split>/<name>`` means plus ``*_smth`` versions of the reconstruction costs (exponential
smoothing, ``coef`` on the current epoch, :func:`neurodyn.models.lfads_layers.smooth_costs`).

Logged per epoch (Lightning ``callback_metrics`` and ``model.history``):
``{train,valid}/loss``, ``{train,valid}/recon_heldin`` (SV-weighted held-in cost = the plain
recon cost when SV is off), ``valid/recon_sv`` (held-out-sample cost; NaN when SV is off),
``*_smth`` versions (exponential smoothing, 0.7 on the current epoch),
``{train,valid}/kl_ic``, ``kl_co``, ``l2``; ``valid/recon_heldin_smth`` is the standard
validation metric. The SV metric ``train/recon_sv`` (+ ``_smth``; only when SV is on) is the
cost on the SV-held-out samples of the training trials from a separate evaluation pass (no
dropout, no CD, no gradients) at the end of each training epoch, not from the training steps
(:func:`neurodyn.models.lfads_inference.sample_validation`); each record also has the epoch's
``lr`` and ``hp/<name>`` of every tunable HP.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from torch import Tensor

from neurodyn.models.lfads_layers import plateau_step, smooth_costs

EPOCH_METRICS = ("loss", "recon_heldin", "recon_sv", "kl_ic", "kl_co", "l2")


class EpochMetrics:
    """Batch-size-weighted sums per split and the smoothing state across epochs."""

    def __init__(self, coef: float) -> None:
        self.coef = float(coef)
        self.sums: dict[str, dict[str, float]] = {}
        self.smth: dict[str, float] = {}

    def add(self, split: str, metrics: Mapping[str, Tensor | float], n: int) -> None:
        """Add one batch's metrics (``n`` trials)."""
        sums = self.sums.setdefault(split, {"n": 0.0})
        sums["n"] += n
        for key, value in metrics.items():
            sums[key] = sums.get(key, 0.0) + float(value) * n

    def pending(self, split: str) -> bool:
        return split in self.sums

    def discard(self, split: str) -> None:
        self.sums.pop(split, None)

    def finish(self, split: str) -> dict[str, float]:
        """The split's epoch means (unsmoothed; see :meth:`smoothed`); resets its sums."""
        sums = self.sums.pop(split, None)
        if not sums or not sums["n"]:
            return {}
        return {f"{split}/{k}": sums[k] / sums["n"] for k in EPOCH_METRICS if k in sums}

    def smoothed(self, out: dict[str, float]) -> dict[str, float]:
        """``out`` plus the ``*_smth`` costs (updates the smoothing state)."""
        return smooth_costs(out, self.smth, self.coef)

    def state(self) -> dict[str, Any]:
        return dict(self.smth)

    def load(self, smth: Mapping[str, float]) -> None:
        self.smth = dict(smth)


def lr_state(lr: float) -> dict[str, float]:
    """A fresh LR-on-plateau state (:func:`neurodyn.models.lfads_layers.plateau_step`)."""
    return {"lr": float(lr), "best": math.inf, "bad_epochs": 0}


def close_epoch(history: list[dict[str, float]], lr: dict[str, float], epoch: int,
                metrics: Mapping[str, float], hparams: Mapping[str, Any],
                tunable: tuple[str, ...]) -> dict[str, float]:
    """Append an epoch's record (metrics, ``hp/<tunable>``, the epoch's LR) to ``history``
    and take one plateau step of ``lr`` on ``hparams["lr_monitor"]``; return the record."""
    record = {"epoch": int(epoch), **metrics}
    record.update({f"hp/{k}": float(hparams[k]) for k in tunable})
    record["lr"] = float(lr["lr"])
    history.append(record)
    plateau_step(lr, float(record.get(hparams["lr_monitor"], math.nan)),
                 float(hparams["lr_decay"]), int(hparams["lr_patience"]),
                 float(hparams["lr_stop"]))
    return record
