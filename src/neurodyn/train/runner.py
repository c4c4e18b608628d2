"""The one job runner of every study: run a chunk of fits in one process, reuse finished fits
whose key is unchanged, resume killed ones, write results atomically.

A fit's key digests everything its result depends on: its spec, the config values it reads,
the package code it runs and the content of its input files. Each fit lives in
``<workdir>/<fit_id>/<key>/``: ``result.json`` when finished, ``last.ckpt`` and
``metrics.csv`` while training. A different key is a different folder, so a changed config,
code or input never reuses a stale result (older keys' folders are removed when the fit
retrains).

    runner = FitRunner(workdir, config=cfg["train"], code=code_digest("scaling", "train"),
                       inputs=[data_path])
    records = runner.run([(fit_id, spec), ...], train_one)        # one fit at a time
    records = runner.run_batched([(fit_id, spec), ...], train_all)  # a batched population
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurodyn.digest import inputs_digest, json_digest
from neurodyn.io.atomic import write_json

log = logging.getLogger("neurodyn")
RESULT = "result.json"
KEY_FIELD = "fit_key"


@dataclass(frozen=True)
class PlannedFit:
    """One fit of a chunk: its id, spec, key and folder; ``record`` when already finished."""

    fit_id: str
    spec: Mapping[str, Any]
    key: str
    dir: Path
    record: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.record is not None


def fit_key(spec: Mapping[str, Any], config: Any, code: str, inputs: str) -> str:
    """Digest of a fit's spec, the config values it depends on, code and input digests."""
    return json_digest({"spec": spec, "config": config, "code": code, "inputs": inputs})[:16]


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    return value


class FitRunner:
    """Run fits keyed by spec + config + code + inputs under ``workdir``.

    ``config`` is the config values every fit depends on, or a function of a fit's spec
    returning that fit's values (when fits of one chunk depend on different keys)."""

    def __init__(self, workdir: str | Path, *, config: Any, code: str,
                 inputs: Iterable[str | Path] | Mapping[str, str | Path] = (),
                 label: str = "") -> None:
        self.workdir = Path(workdir)
        self.config, self.code, self.label = config, code, label
        self.inputs = inputs_digest(inputs if isinstance(inputs, Mapping) else list(inputs))

    def key(self, spec: Mapping[str, Any]) -> str:
        config = self.config(spec) if callable(self.config) else self.config
        return fit_key(spec, config, self.code, self.inputs)

    def plan(self, fits: Iterable[tuple[str, Mapping[str, Any]]]) -> list[PlannedFit]:
        """Key every fit; load the result of those finished under the same key."""
        planned = []
        for fit_id, spec in fits:
            if "/" in fit_id or fit_id in ("", ".", ".."):
                raise ValueError(f"fit id {fit_id!r} must be a plain folder name")
            key = self.key(spec)
            fdir = self.workdir / fit_id / key
            record = None
            done = fdir / RESULT
            if done.exists():
                loaded = json.loads(done.read_text())
                if loaded.get(KEY_FIELD) == key:
                    record = loaded
            planned.append(PlannedFit(fit_id, spec, key, fdir, record))
        return planned

    def _start(self, fit: PlannedFit) -> None:
        """Create the fit's folder; drop folders of the same fit under other keys."""
        parent = fit.dir.parent
        if parent.is_dir():
            for other in parent.iterdir():
                if other.is_dir() and other.name != fit.key:
                    log.info("%s: removing stale fit folder %s (key changed)", fit.fit_id,
                             other.name)
                    shutil.rmtree(other, ignore_errors=True)
        fit.dir.mkdir(parents=True, exist_ok=True)

    def _finish(self, fit: PlannedFit, record: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: _plain(v) for k, v in record.items()}
        out.update({"fit_id": fit.fit_id, KEY_FIELD: fit.key})
        write_json(fit.dir / RESULT, out)
        return json.loads((fit.dir / RESULT).read_text())

    def _announce(self, planned: Sequence[PlannedFit]) -> list[PlannedFit]:
        todo = [f for f in planned if not f.done]
        log.info("%s%d fits: %d reused (same key), %d to train", f"{self.label}: "
                 if self.label else "", len(planned), len(planned) - len(todo), len(todo))
        return todo

    def run(self, fits: Iterable[tuple[str, Mapping[str, Any]]],
            train: Callable[[PlannedFit], Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Train each unfinished fit with ``train(fit)`` (which works in ``fit.dir``, resuming
        from its ``last.ckpt``); return every fit's record, in order."""
        planned = self.plan(fits)
        todo = self._announce(planned)
        records: dict[str, dict[str, Any]] = {f.fit_id: f.record for f in planned if f.done}
        for i, fit in enumerate(todo, 1):
            self._start(fit)
            t0 = time.monotonic()
            log.info("fit %d/%d %s: training (key %s)", i, len(todo), fit.fit_id, fit.key)
            records[fit.fit_id] = self._finish(fit, train(fit))
            log.info("fit %d/%d %s: done in %.1f s", i, len(todo), fit.fit_id,
                     time.monotonic() - t0)
        return [records[f.fit_id] for f in planned]

    def run_batched(self, fits: Iterable[tuple[str, Mapping[str, Any]]],
                    train: Callable[[list[PlannedFit]], Sequence[Mapping[str, Any]]]
                    ) -> list[dict[str, Any]]:
        """Train all unfinished fits together with ``train(fits)`` (a batched population; it
        returns one record per fit, in order); return every fit's record, in order."""
        planned = self.plan(fits)
        todo = self._announce(planned)
        records: dict[str, dict[str, Any]] = {f.fit_id: f.record for f in planned if f.done}
        if todo:
            for fit in todo:
                self._start(fit)
            t0 = time.monotonic()
            results = list(train(todo))
            if len(results) != len(todo):
                raise RuntimeError(f"batched training returned {len(results)} records for "
                                   f"{len(todo)} fits")
            for fit, record in zip(todo, results, strict=True):
                records[fit.fit_id] = self._finish(fit, record)
            log.info("%d fits trained together in %.1f s", len(todo), time.monotonic() - t0)
        return [records[f.fit_id] for f in planned]
