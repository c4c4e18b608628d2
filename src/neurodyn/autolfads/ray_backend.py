"""The Ray Tune PBT backend: the same LFADS member training, search space and selection rule
as the Snakemake-native backend, driven by Ray Tune's ``PopulationBasedTraining`` scheduler.

* One Tune trial per member; one ``tune.report`` (with a checkpoint) per generation, so
  ``training_iteration`` counts generations; ``synch=True`` makes generations synchronous.
* :class:`TournamentPBT` keeps Tune's scheduler machinery (pausing, checkpoint hand-over,
  restarting a clone from the winner's checkpoint with a new config) and replaces Tune's
  quantile/perturbation rule by :func:`neurodyn.autolfads.pbt.select`: binary tournament, bounded
  multiplicative explore, burn-in, non-finite scores cloned. Its seeding is the Snakemake
  backend's, so both backends run the same population.
* Local Ray by default (``num_cpus``, no dashboard), or an existing cluster (``address``; the
  storage folder must then be on a shared filesystem and neurodyn installed on the nodes).

Ray (``ray[tune]``, optional extra ``neurodyn[ray]``) is imported only here. Tune's own
checkpoint and result bookkeeping uses its internals (incl. pickle) on files it writes itself;
model checkpoints are neurodyn's, read with ``weights_only=True``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ray import tune
from ray.tune.experiment import Trial
from ray.tune.schedulers import PopulationBasedTraining

from neurodyn.autolfads.member import MEMBER_CKPT
from neurodyn.autolfads.pbt import initial_hps, select
from neurodyn.autolfads.plan import Schedule, member_seed
from neurodyn.autolfads.space import SearchSpace
from neurodyn.io.atomic import write_json

SCORE = "score"


class TournamentPBT(PopulationBasedTraining):
    """Tune's synchronous PBT with the shared selection rule (see module docstring)."""

    def __init__(self, space: SearchSpace, burn_in_generations: int, seed: int) -> None:
        # burn_in_period 0: every generation is a sync point and select() itself skips the
        # tournament during burn-in (but still replaces failed members, as the Snakemake
        # backend does).
        super().__init__(time_attr="training_iteration", metric=SCORE, mode="min",
                         perturbation_interval=1, burn_in_period=0,
                         hyperparam_mutations={}, custom_explore_fn=lambda c: c,
                         quantile_fraction=0.5, resample_probability=0.0, synch=True,
                         log_config=False)
        self.space, self.burn_in_generations, self.seed = space, burn_in_generations, seed
        self._plan: dict[Trial, tuple[Trial, dict[str, float]]] = {}
        self.selections: list[dict[str, Any]] = []

    def _quantiles(self) -> tuple[list[Trial], list[Trial]]:
        trials = [t for t in self._trial_state if not t.is_finished()]
        trials.sort(key=lambda t: int(t.config["member"]))
        results = [self._trial_state[t].last_result or {} for t in trials]
        if len(trials) <= 1 or any("generation" not in r for r in results):
            return [], []
        generation = int(results[0]["generation"])
        scores = [float(r.get(SCORE, math.nan)) for r in results]
        hps = [{k: float(t.config[k]) for k in self.space.names} for t in trials]
        choices = select([s if math.isfinite(s) else math.nan for s in scores], hps,
                         self.space, generation, self.burn_in_generations, self.seed)
        self._plan = {trials[c.member]: (trials[c.parent], c.hps) for c in choices if c.cloned}
        self.selections.append({"generation": generation + 1,
                                "members": [c.to_json() for c in choices]})
        lower = list(self._plan)
        upper = sorted({p for p, _ in self._plan.values()}, key=trials.index)
        return lower, upper

    def _exploit(self, tune_controller: Any, trial: Trial, trial_to_clone: Trial) -> None:
        from ray.tune.schedulers.pbt import _FutureTrainingResult

        parent, _ = self._plan[trial]  # the tournament winner, not Tune's random pick
        state = self._trial_state[parent]
        if isinstance(state.last_checkpoint, _FutureTrainingResult):
            resolved = state.last_checkpoint.resolve()
            if resolved:
                state.last_result, state.last_checkpoint = resolved.metrics, resolved.checkpoint
        super()._exploit(tune_controller, trial, parent)

    def _get_new_config(self, trial: Trial, trial_to_clone: Trial) -> tuple[dict, dict]:
        _, hps = self._plan[trial]
        return {**trial_to_clone.config, **hps, "member": trial.config["member"]}, {}


def member_trainable(config: Mapping[str, Any], data_path: str, cfg: Mapping[str, Any],
                     seed: int, storage: str, workdir: str, train_cfg: Mapping[str, Any],
                     code: str) -> None:
    """One Tune trial = one PBT member; one report per generation. Each generation trains
    through :func:`neurodyn.autolfads.member.train_members` as a keyed fit under
    ``workdir/gen{g}`` (reused by a rerun with the same key, resumed after a kill)."""
    import torch

    from neurodyn.autolfads.member import MemberTask, member_runner, train_members
    from neurodyn.autolfads.pipeline import load_split
    from neurodyn.train.device import TrainSettings
    from neurodyn.train.runtime import quiet_lightning

    quiet_lightning()
    torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS", "1"))))
    # a trial given a GPU that torch cannot see fails (NoGPUError), never trains on CPU
    settings = TrainSettings.from_config(train_cfg, gpus=int(cfg["ray"]["gpus_per_trial"] > 0))
    schedule = Schedule.from_config(cfg)
    member = int(config["member"])
    hps = {k: float(config[k]) for k in cfg["search_space"]}
    split = load_split(data_path, cfg)
    generation, parent, parent_ckpt = 0, None, None
    start = tune.get_checkpoint()
    if start is not None:
        with start.as_directory() as d:
            meta = json.loads((Path(d) / "meta.json").read_text())
            local = Path(storage) / "handover" / f"member{member}" / \
                f"from_gen{meta['generation']}.ckpt"
            local.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(d) / "member.ckpt", local)
        generation, parent, parent_ckpt = meta["generation"] + 1, meta["member"], str(local)
    while generation < schedule.generations:
        task = MemberTask(member=member, generation=generation, hps=hps,
                          seed=member_seed(seed, member, generation),
                          target_epochs=schedule.target_epochs(generation), parent=parent,
                          parent_ckpt=parent_ckpt)
        runner = member_runner(Path(workdir) / f"gen{generation}", cfg, settings, code,
                               data_path, label=f"ray member {member} gen {generation}")
        [(record, ckpt)] = train_members(runner, [task], split.train, split.valid, cfg,
                                         settings)
        record = {**record, "reason": "ray"}
        write_json(Path(storage) / "records" / f"gen{generation}_member{member}.json", record)
        with tempfile.TemporaryDirectory() as d:
            shutil.copyfile(ckpt, Path(d) / "member.ckpt")
            (Path(d) / "meta.json").write_text(json.dumps({"generation": generation,
                                                           "member": member}))
            score = record["score"] if record["score"] is not None else math.inf
            tune.report({SCORE: score, "generation": generation,
                         "record": json.dumps(record)},
                        checkpoint=tune.Checkpoint.from_directory(d))
        parent, parent_ckpt = member, str(ckpt)
        generation += 1


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
    """Run the population under Tune; return every (generation × member) record, the path of
    the best final member's checkpoint and Tune's selections. ``storage`` (Tune's own files)
    starts over every run; member fits live under ``workdir`` (keyed, reused when unchanged).
    """
    import ray

    check_gpus(cfg, train_cfg)
    schedule = Schedule.from_config(cfg)
    rcfg = cfg["ray"]
    storage_path = Path(storage).resolve()
    if storage_path.exists():  # a previous (or killed) run: start the population over
        shutil.rmtree(storage_path)
    src = str(Path(__file__).resolve().parents[2])
    env = {"env_vars": {"PYTHONPATH": os.pathsep.join(
        p for p in (src, os.environ.get("PYTHONPATH", "")) if p)}}
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
        scheduler = TournamentPBT(space, schedule.burn_in_generations, seed)
        trainable = tune.with_resources(
            tune.with_parameters(member_trainable, data_path=str(Path(data_path).resolve()),
                                 cfg=dict(cfg), seed=seed, storage=str(storage_path),
                                 workdir=str(Path(workdir).resolve()),
                                 train_cfg=dict(train_cfg), code=code),
            {"cpu": rcfg["cpus_per_trial"], "gpu": rcfg["gpus_per_trial"]})
        tuner = tune.Tuner(
            trainable, param_space=param_space,
            tune_config=tune.TuneConfig(scheduler=scheduler, num_samples=1, reuse_actors=True),
            run_config=tune.RunConfig(name="pbt", storage_path=str(storage_path), verbose=0,
                                      stop={"training_iteration": schedule.generations},
                                      failure_config=tune.FailureConfig(max_failures=2)))
        grid = tuner.fit()
        errors = [str(r.error) for r in grid if r.error is not None]
        if errors:
            raise RuntimeError("Ray Tune trials failed: " + "; ".join(errors))
        records = storage_path / "records"
        population: list[list[dict[str, Any]]] = []
        for g in range(schedule.generations):
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
        best_ckpt = Path(workdir) / f"gen{schedule.generations - 1}" / final[best]["fit_id"] / \
            final[best]["fit_key"] / MEMBER_CKPT
        return population, best_ckpt, scheduler.selections
    finally:
        ray.shutdown()
