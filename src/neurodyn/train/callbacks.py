"""Lightning callbacks shared by every trainer: a progress line per epoch, a metrics CSV."""

from __future__ import annotations

import csv
import io
import logging
import math
import time
from pathlib import Path
from typing import Any

from lightning.pytorch.callbacks import Callback, EarlyStopping

from neurodyn.io.atomic import write_text

log = logging.getLogger("neurodyn")


def _scalars(trainer: Any) -> dict[str, float]:
    out = {}
    for key, value in trainer.callback_metrics.items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def current_lr(trainer: Any) -> float:
    """Learning rate of the first parameter group (NaN when there is no optimizer)."""
    try:
        return float(trainer.optimizers[0].param_groups[0]["lr"])
    except (IndexError, KeyError, TypeError, AttributeError):
        return math.nan


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


def format_progress(label: str, epoch: int, max_epochs: int, metrics: dict[str, float],
                    lr: float, elapsed: float, epochs_this_run: int) -> str:
    """``<label> epoch 3/50 train_loss 0.1234 val_loss 0.2345 lr 1.0e-03 elapsed 12s eta 2m40s``.

    The ETA assumes the remaining epochs take as long as this run's epochs so far (early
    stopping can end the fit sooner)."""
    parts = [label, f"epoch {epoch}/{max_epochs}"] if label else [f"epoch {epoch}/{max_epochs}"]
    for key in ("train_loss", "val_loss"):
        if key in metrics:
            parts.append(f"{key} {metrics[key]:.4g}")
    parts.append(f"lr {lr:.2e}")
    per_epoch = elapsed / max(epochs_this_run, 1)
    parts += [f"elapsed {_duration(elapsed)}",
              f"eta {_duration(per_epoch * max(max_epochs - epoch, 0))}"]
    return " ".join(parts)


class ProgressLine(Callback):
    """Log one line per finished epoch: epoch/max, train and validation loss, learning rate,
    elapsed time and ETA. ``train_key``/``val_key`` name the logged metrics to show."""

    def __init__(self, label: str = "", train_key: str = "train_loss",
                 val_key: str = "val_loss") -> None:
        self.label, self.train_key, self.val_key = label, train_key, val_key
        self._start = time.monotonic()
        self._first_epoch = 0

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self._start = time.monotonic()
        self._first_epoch = trainer.current_epoch

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        metrics = _scalars(trainer)
        shown = {"train_loss": metrics.get(self.train_key, math.nan),
                 "val_loss": metrics.get(self.val_key, math.nan)}
        shown = {k: v for k, v in shown.items() if math.isfinite(v)}
        epoch = trainer.current_epoch + 1
        log.info(format_progress(self.label, epoch, trainer.max_epochs, shown,
                                 current_lr(trainer), time.monotonic() - self._start,
                                 epoch - self._first_epoch))


class MetricsCSV(Callback):
    """Write every epoch's logged scalars (plus epoch, lr, elapsed seconds) to ``path``.

    The rows live in the checkpoint (callback state), so a resumed fit continues the file
    instead of starting it over. The file is rewritten atomically after every epoch."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.rows: list[dict[str, float]] = []
        self._start = time.monotonic()
        self._offset = 0.0

    @property
    def state_key(self) -> str:
        return f"MetricsCSV[{self.path.name}]"

    def state_dict(self) -> dict[str, Any]:
        return {"rows": self.rows}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.rows = [dict(r) for r in state_dict.get("rows", [])]

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self._start = time.monotonic()
        self._offset = self.rows[-1].get("elapsed_s", 0.0) if self.rows else 0.0

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        row = {"epoch": float(trainer.current_epoch + 1), "lr": current_lr(trainer),
               "elapsed_s": round(self._offset + time.monotonic() - self._start, 3),
               **_scalars(trainer)}
        self.rows.append(row)
        self.write()

    def write(self) -> None:
        keys = ["epoch", "lr", "elapsed_s"]
        for row in self.rows:
            keys += [k for k in row if k not in keys]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        write_text(self.path, buf.getvalue())


class RelativeEarlyStopping(EarlyStopping):
    """Early stopping on a loss (mode ``min``) where an epoch counts as an improvement only
    when it lowers the best value by more than the fraction ``min_rel_delta`` of it.

    With ``min_rel_delta = 0`` it is Lightning's ``EarlyStopping(min_delta=0)``. A relative
    threshold keeps a fit whose learning rate has decayed from creeping down by 0.01 % per
    epoch until the epoch cap (losses differ by orders of magnitude between cohorts, so an
    absolute ``min_delta`` would be wrong for some of them)."""

    def __init__(self, monitor: str, patience: int, min_rel_delta: float = 0.0) -> None:
        super().__init__(monitor=monitor, patience=patience, mode="min", min_delta=0.0)
        if min_rel_delta < 0:
            raise ValueError(f"min_rel_delta must be >= 0, got {min_rel_delta}")
        self.min_rel_delta = float(min_rel_delta)

    def _evaluate_stopping_criteria(self, current: Any) -> tuple[bool, str | None]:
        best = float(self.best_score)
        # Lightning stores min_delta negated for mode "min": improvement = current < best - d
        self.min_delta = -self.min_rel_delta * abs(best) if math.isfinite(best) else 0.0
        return super()._evaluate_stopping_criteria(current)
