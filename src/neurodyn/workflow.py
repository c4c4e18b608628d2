"""Glue for ``workflow/scripts``: logging to the rule's log file, and provenance."""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from neurodyn.provenance import provenance


@contextlib.contextmanager
def logged(snakemake: Any) -> Iterator[logging.Logger]:
    """Send prints, warnings and errors of a script to its rule's log; re-raise errors."""
    log_path = Path(snakemake.log[0]) if snakemake.log else None
    if log_path is None:
        yield logging.getLogger("neurodyn")
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as fh, contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger = logging.getLogger("neurodyn")
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logging.captureWarnings(True)
        logger.info("rule %s, wildcards %s", snakemake.rule, dict(snakemake.wildcards))
        try:
            yield logger
        except Exception as exc:
            traceback.print_exc(file=fh)
            print(f"neurodyn: {exc}", file=sys.__stderr__)
            raise


def run_provenance(snakemake: Any, **extra: Any) -> dict[str, Any]:
    """Provenance of one job: config digest and JSON, seed, package version, rule."""
    return provenance(dict(snakemake.config), seed=snakemake.config.get("seed"),
                      rule=snakemake.rule, **extra)


def use_job_threads(snakemake: Any) -> None:
    """Torch computes on the rule's ``threads`` (not on its own count of the machine's
    cores, which oversubscribes a job that Snakemake gave fewer)."""
    import torch

    torch.set_num_threads(int(snakemake.threads))


def train_settings(snakemake: Any) -> Any:
    """The job's :class:`~neurodyn.train.device.TrainSettings`: config ``train`` and the
    rule's ``gpu`` resource (a job given a GPU that torch cannot see fails here). Every
    training job asks for them first, so this is also where its process starts reusing
    freed CPU memory (:func:`~neurodyn.train.runtime.keep_freed_memory`) and takes the
    rule's threads (:func:`use_job_threads`)."""
    from neurodyn.train.device import TrainSettings
    from neurodyn.train.runtime import keep_freed_memory

    keep_freed_memory()
    use_job_threads(snakemake)

    gpus = int(getattr(snakemake.resources, "gpu", 0) or 0)
    return TrainSettings.from_config(snakemake.config.get("train", {}), gpus)
