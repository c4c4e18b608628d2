"""The Ray Tune PBT backend: the same LFADS member training, search space, selection rule
and stopping rule as the Snakemake-native backend, run as one Tune experiment.

* One Tune trial per member; one ``tune.report`` per generation (a small Tune checkpoint
  that only says which generation the trial finished).
* :class:`TournamentScheduler` is built on Tune's public ``FIFOScheduler`` interface only
  (``on_trial_result`` / ``choose_trial_to_run``, no private Tune method): a member that
  finished generation g waits until every member did: in its slot when the rest are all
  running, else paused (``PAUSE``) to free the slot for them; the last one's result
  runs :func:`neurodyn.autolfads.pbt.select` and writes the plan of generation g+1
  (``plans/gen{g+1}.json``: each member's parent, the parent's checkpoint file and the HPs),
  then paused members are resumed (``choose_trial_to_run``) and each trial reads its plan
  and starts from its parent's checkpoint itself. Tune never copies model state; members
  exchange neurodyn checkpoint files (read with ``weights_only=True``) on the shared
  filesystem. Seeds are the Snakemake backend's, so both backends run the same population.
* :class:`GenerationStopper` (Tune's public ``Stopper``): a trial ends after the last
  generation; with ``pbt.stopping: improvement`` the whole experiment stops (``stop_all``)
  once a generation completes and the improvement-ratio rule fires.
* A killed job resumes: member fits are keyed under ``workdir`` (finished ones are reused,
  an interrupted one resumes from its ``last.ckpt``) and plans are deterministic, so a rerun
  passes through the finished generations without training and continues from the last.
* Local Ray by default (``num_cpus``, no dashboard), or an existing cluster (``address``; the
  storage folder must then be on a shared filesystem and neurodyn installed on the nodes).

Ray (``ray[tune]``, optional extra ``neurodyn[ray]``) is imported only here. Tune's own
checkpoint and result bookkeeping uses its internals on files it writes itself.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ray import tune
from ray.tune.experiment import Trial
from ray.tune.schedulers import FIFOScheduler, TrialScheduler

from neurodyn.autolfads.member import MEMBER_CKPT
from neurodyn.autolfads.pbt import best_score, initial_hps, select, stop_by_improvement
from neurodyn.autolfads.pipeline import pad_stopped
from neurodyn.autolfads.plan import Schedule, member_seed
from neurodyn.autolfads.space import SearchSpace
from neurodyn.io.atomic import write_json

SCORE = "score"
PLAN_WAIT_S = 24 * 3600.0  # a resumed trial waits at most this long for its plan


def member_ckpt_path(workdir: str | Path, record: Mapping[str, Any]) -> Path:
    """The checkpoint a member's generation hands on (its keyed fit folder)."""
    return (Path(workdir) / f"gen{int(record['generation'])}" / str(record["fit_id"])
            / str(record["fit_key"]) / MEMBER_CKPT)


class GenerationStopper(tune.Stopper):
    """Ends a trial after the last generation; with the improvement-ratio rule, ends the
    experiment (``stop_all``) after the generation where it fires (``stopped_after``).
    Calling it twice with the same result changes nothing."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self.scores: dict[int, dict[str, float]] = {}
        self.best: list[float] = []
        self.stopped_after: int | None = None

    def __call__(self, trial_id: str, result: dict) -> bool:
        if "generation" not in result:
            return False
        g = int(result["generation"])
        if self.stopped_after is None:
            self.scores.setdefault(g, {})[trial_id] = float(result.get(SCORE, math.nan))
            while (self.stopped_after is None and len(self.scores.get(len(self.best), {}))
                   >= self.schedule.population):
                self.best.append(best_score(list(self.scores[len(self.best)].values())))
                if self.schedule.stopping == "improvement" and stop_by_improvement(
                        self.best, self.schedule.patience, self.schedule.min_improvement):
                    self.stopped_after = len(self.best) - 1
        return g >= self.schedule.generations - 1

    def stop_all(self) -> bool:
        return self.stopped_after is not None


class TournamentScheduler(FIFOScheduler):
    """Synchronous generations with the shared selection rule, on Tune's public scheduler
    interface (see module docstring). ``plan_dir`` must be readable by every trial."""

    def __init__(self, space: SearchSpace, schedule: Schedule, seed: int, plan_dir: str | Path,
                 workdir: str | Path, stopper: GenerationStopper) -> None:
        super().__init__()
        self.space, self.schedule, self.seed = space, schedule, seed
        self.plan_dir, self.workdir, self.stopper = Path(plan_dir), Path(workdir), stopper
        self.results: dict[int, dict[int, dict[str, Any]]] = {}
        self.finished: dict[str, int] = {}  # trial id -> last generation it reported
        self.selections: list[dict[str, Any]] = []

    def plan_path(self, generation: int) -> Path:
        return self.plan_dir / f"gen{generation}.json"

    def on_trial_result(self, tune_controller: Any, trial: Trial, result: dict) -> str:
        if "generation" not in result:
            return TrialScheduler.CONTINUE
        g, member = int(result["generation"]), int(trial.config["member"])
        self.stopper(trial.trial_id, result)  # idempotent: the controller calls it too
        self.finished[trial.trial_id] = g
        self.results.setdefault(g, {})[member] = json.loads(result["record"])
        if len(self.results[g]) < self.schedule.population:
            # wait for the rest of the generation: in its slot (the trial waits for its plan)
            # when the rest are all running, else give the slot to one of them
            return (TrialScheduler.CONTINUE if self.rest_running(tune_controller, g)
                    else TrialScheduler.PAUSE)
        if self.stopper.stopped_after is not None or g + 1 >= self.schedule.generations:
            return TrialScheduler.PAUSE  # the stopper ends the experiment
        self.write_plan(g)
        return TrialScheduler.CONTINUE

    def rest_running(self, tune_controller: Any, g: int) -> bool:
        """Whether every member that has not reported generation ``g`` is running. Then a
        member that has can keep its slot and wait for its plan: pausing it would stop its
        actor and start another for its next generation (about 3 s on a busy CPU, as long
        as a reproduce-tier member-generation); when the population fits the slots, no
        trial is ever paused."""
        reported = self.results.get(g, {})
        return all(t.status == Trial.RUNNING for t in tune_controller.get_trials()
                   if int(t.config["member"]) not in reported)

    def write_plan(self, g: int) -> dict[str, Any]:
        """Select after generation ``g`` and write the plan of generation g+1."""
        records = [self.results[g][m] for m in range(self.schedule.population)]
        scores = [math.nan if r["score"] is None else float(r["score"]) for r in records]
        choices = select(scores, [r["hps"] for r in records], self.space, g,
                         self.schedule.burn_in_generations, self.seed)
        members = [{**c.to_json(), "parent_ckpt": str(member_ckpt_path(self.workdir,
                                                                        records[c.parent]))}
                   for c in choices]
        plan = {"generation": g + 1, "members": members}
        self.selections.append({"generation": g + 1, "members": [c.to_json() for c in choices]})
        write_json(self.plan_path(g + 1), plan)
        return plan

    def choose_trial_to_run(self, tune_controller: Any) -> Trial | None:
        """New trials first; a paused trial once the plan of its next generation exists."""
        trials = tune_controller.get_trials()
        for trial in trials:
            if trial.status == Trial.PENDING:
                return trial
        for trial in trials:
            if trial.status == Trial.PAUSED and self.plan_path(
                    self.finished.get(trial.trial_id, -1) + 1).exists():
                return trial
        return None

    def debug_string(self) -> str:
        done = max(self.results, default=-1)
        return f"AutoLFADS PBT: generation {done + 1}/{self.schedule.generations}"


def wait_for_plan(path: Path, timeout_s: float = PLAN_WAIT_S) -> dict[str, Any]:
    """The plan file of the trial's next generation (written by the scheduler)."""
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no PBT plan {path} after {timeout_s:g} s")
        time.sleep(0.5)
    return json.loads(path.read_text())


def member_trainable(config: Mapping[str, Any], data_path: str, cfg: Mapping[str, Any],
                     seed: int, plan_dir: str, records_dir: str, workdir: str,
                     train_cfg: Mapping[str, Any], code: str) -> None:
    """One Tune trial = one PBT member; one report per generation. Generation 0 starts from
    the trial's config; every later one from its plan (parent checkpoint and HPs). Each
    generation trains through :func:`neurodyn.autolfads.member.train_members` as a keyed
    fit under ``workdir/gen{g}`` (reused by a rerun with the same key, resumed after a
    kill)."""
    import torch

    from neurodyn.autolfads.member import MemberTask, member_runner, train_members
    from neurodyn.autolfads.pipeline import load_split
    from neurodyn.train.device import TrainSettings
    from neurodyn.train.runtime import keep_freed_memory, quiet_lightning

    quiet_lightning()
    keep_freed_memory()  # as every Snakemake training job does (workflow.train_settings)
    torch.set_num_threads(trial_threads(cfg))
    # a trial given a GPU that torch cannot see fails (NoGPUError), never trains on CPU
    settings = TrainSettings.from_config(train_cfg, gpus=int(cfg["ray"]["gpus_per_trial"] > 0))
    schedule = Schedule.from_config(cfg)
    member = int(config["member"])
    split = load_split(data_path, cfg)
    generation = 0
    start = tune.get_checkpoint()
    if start is not None:  # resumed after a pause: continue after the reported generation
        with start.as_directory() as d:
            generation = int(json.loads((Path(d) / "meta.json").read_text())["generation"]) + 1
    while generation < schedule.generations:
        if generation == 0:
            hps = {k: float(config[k]) for k in cfg["search_space"]}
            parent, parent_ckpt, reason = None, None, "init"
        else:
            plan = wait_for_plan(Path(plan_dir) / f"gen{generation}.json")
            entry = next(e for e in plan["members"] if int(e["member"]) == member)
            hps = {k: float(v) for k, v in entry["hps"].items()}
            parent, parent_ckpt = int(entry["parent"]), str(entry["parent_ckpt"])
            reason = str(entry["reason"])
        task = MemberTask(member=member, generation=generation, hps=hps,
                          seed=member_seed(seed, member, generation),
                          target_epochs=schedule.target_epochs(generation), parent=parent,
                          parent_ckpt=parent_ckpt)
        runner = member_runner(Path(workdir) / f"gen{generation}", cfg, settings, code,
                               data_path, label=f"ray member {member} gen {generation}")
        [(record, _)] = train_members(runner, [task], split.train, split.valid, cfg, settings)
        record = {**record, "reason": reason, "threads": torch.get_num_threads()}
        write_json(Path(records_dir) / f"gen{generation}_member{member}.json", record)
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "meta.json").write_text(json.dumps({"generation": generation,
                                                           "member": member}))
            score = record["score"] if record["score"] is not None else math.inf
            tune.report({SCORE: score, "generation": generation,
                         "record": json.dumps(record)},
                        checkpoint=tune.Checkpoint.from_directory(d))
        generation += 1


def trial_threads(cfg: Mapping[str, Any]) -> int:
    """CPU threads of one trial: its ``cpus_per_trial`` (at least 1). Never the driver's
    ``OMP_NUM_THREADS``: Ray workers inherit it (Snakemake sets it to the job's threads), and
    two trials of 2 threads each on 2 cores trained about 7x slower than 1 thread each."""
    return max(1, int(cfg["ray"]["cpus_per_trial"]))


def trial_env(cfg: Mapping[str, Any], src: str) -> dict[str, dict[str, str]]:
    """Ray ``runtime_env`` of the trials: this package's source on ``PYTHONPATH`` and the
    BLAS/OpenMP pools sized to :func:`trial_threads` (set before torch loads in a worker)."""
    threads = str(trial_threads(cfg))
    return {"env_vars": {
        "PYTHONPATH": os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p),
        "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}}


def check_gpus(cfg: Mapping[str, Any], train_cfg: Mapping[str, Any]) -> None:
    """A local Ray run whose trials ask for GPUs fails here when torch sees none (on a cluster
    the trials check on their own node)."""
    from neurodyn.train.device import resolve_device

    rcfg = cfg["ray"]
    if rcfg["gpus_per_trial"] > 0 and not rcfg["address"]:
        resolve_device(str(train_cfg.get("device", "auto")), gpus=1)


def run_ray_pbt(data_path: str, cfg: Mapping[str, Any], space: SearchSpace, seed: int,
                storage: str, workdir: str, train_cfg: Mapping[str, Any], code: str
                ) -> tuple[list[list[dict[str, Any]]], Path, list[dict[str, Any]]]:
    """Run the population under Tune; return every (generation × member) record (no-op
    copies after an early stop), the path of the best final member's checkpoint and the
    selections. ``storage`` (Tune's files, plans, records) starts over every run; member fits
    live under ``workdir`` (keyed: reused when unchanged, resumed when interrupted)."""
    import ray

    check_gpus(cfg, train_cfg)
    schedule = Schedule.from_config(cfg)
    rcfg = cfg["ray"]
    storage_path = Path(storage).resolve()
    if storage_path.exists():  # a previous (or killed) run: start the population over
        shutil.rmtree(storage_path)
    env = trial_env(cfg, str(Path(__file__).resolve().parents[2]))
    if rcfg["address"]:
        ray.init(address=rcfg["address"], runtime_env=env, log_to_driver=False)
    else:
        ray.init(num_cpus=int(rcfg["num_cpus"]), num_gpus=None, include_dashboard=False,
                 runtime_env=env, log_to_driver=False, configure_logging=False,
                 object_store_memory=256 * 1024**2)  # members exchange files, not objects
    try:
        init = initial_hps(space, schedule.population, seed)
        param_space = {"member": tune.grid_search(list(range(schedule.population)))}
        for name in space.names:
            param_space[name] = tune.sample_from(
                lambda config, n=name: init[int(config["member"])][n])
        work = Path(workdir).resolve()
        plans, records = storage_path / "plans", storage_path / "records"
        stopper = GenerationStopper(schedule)
        scheduler = TournamentScheduler(space, schedule, seed, plans, work, stopper)
        trainable = tune.with_resources(
            tune.with_parameters(member_trainable, data_path=str(Path(data_path).resolve()),
                                 cfg=dict(cfg), seed=seed, plan_dir=str(plans),
                                 records_dir=str(records), workdir=str(work),
                                 train_cfg=dict(train_cfg), code=code),
            {"cpu": rcfg["cpus_per_trial"], "gpu": rcfg["gpus_per_trial"]})
        tuner = tune.Tuner(
            trainable, param_space=param_space,
            tune_config=tune.TuneConfig(scheduler=scheduler, num_samples=1, reuse_actors=True),
            run_config=tune.RunConfig(name="pbt", storage_path=str(storage_path), verbose=0,
                                      stop=stopper,
                                      failure_config=tune.FailureConfig(max_failures=2)))
        grid = tuner.fit()
        errors = [str(r.error) for r in grid if r.error is not None]
        if errors:
            raise RuntimeError("Ray Tune trials failed: " + "; ".join(errors))
        population: list[list[dict[str, Any]]] = []
        trained = (schedule.generations if stopper.stopped_after is None
                   else stopper.stopped_after + 1)
        for g in range(trained):
            gen = []
            for m in range(schedule.population):
                path = records / f"gen{g}_member{m}.json"
                if not path.exists():
                    raise RuntimeError(f"Ray Tune left no record of member {m} in "
                                       f"generation {g} ({path})")
                gen.append(json.loads(path.read_text()))
            population.append(gen)
        final = population[-1]
        best = min(range(len(final)), key=lambda m: final[m]["score"]
                   if final[m]["score"] is not None else math.inf)
        best_ckpt = member_ckpt_path(work, final[best])
        return (pad_stopped(population, schedule.generations), best_ckpt,
                scheduler.selections[:trained - 1])
    finally:
        ray.shutdown()
