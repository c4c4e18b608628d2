"""Train a :class:`~neurodyn.models.lfads_population.LFADSPopulation` as P lone LFADS fits.

Per member, exactly what a lone fit with the shared trainer does (the LFADS study's
``fit_lfads``: ``LFADSDataModule`` + ``SeedPerBatch`` + gradient clipping + AdamW + best
checkpoint): its own shuffle of the training trials (seeded from its seed and epoch), its own
random draws (a generator seeded like ``SeedPerBatch`` before every training batch and every
validation epoch, like ``sample_validation`` for the SV pass), gradient-norm clipping at
``GRAD_CLIP`` over its own gradients, AdamW with its own learning rate and L2-ramped weight
decay (:class:`MemberAdamW`), its own per-epoch metrics and smoothing, LR decay on plateau
(``lr_decay``/``lr_patience``/``lr_stop`` on ``lr_monitor``) and best epoch under its own
selection metric (``monitor``; the weights of that epoch are kept). Optional early stopping
(``patience`` epochs without a new best). Finished members are dropped from the batch;
:meth:`PopulationFit.replace` puts a new model into a member's slot (fresh optimizer state).
A member can also continue an earlier run (:meth:`PopulationFit.resume`: its epoch count,
history, smoothing and LR state, and the AdamW state of a lone fit's checkpoint), and with
``keep="last"`` a finished member keeps its last epoch's weights and optimizer state (what
PBT hands on) instead of its best epoch's.
Evaluation passes (SV, validation) run in member groups of at most ``EVAL_FLOATS`` data
elements (a member's draws do not depend on its group), which keeps large populations' memory
and allocation cost down.

    fit = PopulationFit(models, seeds, monitors, train, valid, batch_size=32)
    results = fit.fit(max_epochs=20)      # one MemberResult per model, in order
    results[0].model, results[0].best_epoch, results[0].model.history
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from neurodyn.models.lfads import GRAD_CLIP, LFADS, TUNABLE
from neurodyn.models.lfads_data import VALID_BATCH, EpochShuffle, TrialBatches, epoch_seed
from neurodyn.models.lfads_inference import SV_SEED
from neurodyn.models.lfads_layers import draw_noise, noise_plan, ramp
from neurodyn.models.lfads_metrics import EpochMetrics, close_epoch, lr_state
from neurodyn.models.lfads_population import NOISE_DEFAULT, LFADSPopulation, poisson_stirling

log = logging.getLogger("neurodyn")
TRAIN_KEYS = ("loss", "recon_heldin", "kl_ic", "kl_co", "l2")
EVAL_FLOATS = 1 << 22  # data elements per evaluation group (members x trials x bins x neurons)


class MemberAdamW:
    """AdamW (torch's update rule, betas (0.9, 0.999), eps 1e-8) on stacked parameters with
    a learning rate, a weight decay and a step count per member (leading axis)."""

    def __init__(self, params: Mapping[str, Tensor], members: int,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.betas, self.eps = betas, eps
        self.m = {k: torch.zeros_like(v) for k, v in params.items()}
        self.v = {k: torch.zeros_like(v) for k, v in params.items()}
        self.steps = torch.zeros(members, dtype=torch.float64)

    @torch.no_grad()
    def step(self, params: Mapping[str, Tensor], lr: Tensor, weight_decay: Tensor) -> None:
        b1, b2 = self.betas
        self.steps += 1
        step_size = (lr.double() / (1 - b1 ** self.steps)).to(lr.dtype)
        bc2_sqrt = torch.sqrt(1 - b2 ** self.steps).to(lr.dtype)
        for name, p in params.items():
            if p.grad is None:
                continue
            view = (-1,) + (1,) * (p.dim() - 1)
            g, m, v = p.grad, self.m[name], self.v[name]
            p.mul_((1 - lr * weight_decay).view(view))
            m.lerp_(g, 1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v.sqrt() / bc2_sqrt.view(view)).add_(self.eps)
            p.addcdiv_(m * step_size.view(view), denom, value=-1.0)

    def member(self, p: int) -> tuple[dict[str, Tensor], dict[str, Tensor], float]:
        """Member p's first and second moments (copies) and step count."""
        return ({k: v[p].clone() for k, v in self.m.items()},
                {k: v[p].clone() for k, v in self.v.items()}, float(self.steps[p]))

    @torch.no_grad()
    def load(self, p: int, m: Mapping[str, Tensor], v: Mapping[str, Tensor],
             step: float) -> None:
        """Set member p's moments (names missing from ``m``/``v`` start at zero) and step."""
        for state, values in ((self.m, m), (self.v, v)):
            for k, t in state.items():
                if k in values:
                    t[p].copy_(values[k])
                else:
                    t[p].zero_()
        self.steps[p] = float(step)

    def keep(self, index: Tensor) -> None:
        for state in (self.m, self.v):
            for k in state:
                state[k] = state[k][index].clone()
        self.steps = self.steps[index].clone()

    def reset(self, p: int) -> None:
        for state in (self.m, self.v):
            for v in state.values():
                v[p].zero_()
        self.steps[p] = 0


def adam_from_torch(state: Mapping[str, Any], names: Sequence[str]
                    ) -> tuple[dict[str, Tensor], dict[str, Tensor], float]:
    """A lone model's ``torch.optim.AdamW`` state dict (one parameter group, parameters in
    ``named_parameters`` order ``names``) as (first moments, second moments, step) by name."""
    per_param = state.get("state", {})
    m, v, step = {}, {}, 0.0
    for i, name in enumerate(names):
        entry = per_param.get(i)
        if entry:
            m[name], v[name] = entry["exp_avg"], entry["exp_avg_sq"]
            step = float(entry["step"])
    return m, v, step


def adam_to_torch(model: LFADS, m: Mapping[str, Tensor], v: Mapping[str, Tensor],
                  step: float, lr: float, weight_decay: float) -> dict[str, Any]:
    """The inverse of :func:`adam_from_torch`: the state dict of ``model``'s AdamW."""
    names = [n for n, _ in model.named_parameters()]
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=weight_decay)
    out = opt.state_dict()
    out["state"] = {i: {"step": torch.tensor(float(step)), "exp_avg": m[name],
                        "exp_avg_sq": v[name]} for i, name in enumerate(names)}
    return out


@torch.no_grad()
def clip_member_grads(params: Sequence[Tensor], max_norm: float) -> Tensor:
    """``clip_grad_norm_`` per member (leading axis); returns the members' norms."""
    grads = [p.grad for p in params if p.grad is not None]
    norms = torch.sqrt(sum((g.reshape(g.shape[0], -1) ** 2).sum(1) for g in grads))
    coef = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.view((-1,) + (1,) * (g.dim() - 1)))
    return norms


@dataclass
class MemberResult:
    """A finished member: a lone model with its best epoch's weights (``keep="last"``: its
    last epoch's, and ``adam``) (``history`` covers every epoch), that epoch, and the
    member's final HPs/LR state."""

    model: LFADS
    best_epoch: int
    epochs_run: int
    adam: dict[str, Any] | None = None  # ``keep="last"``: the AdamW state (torch format)


@dataclass
class _Member:
    slot_id: int
    seed: int
    monitor: str
    metrics: EpochMetrics
    lr: dict[str, float]
    history: list[dict[str, float]] = field(default_factory=list)
    epoch: int = 0
    best: float | None = None
    best_epoch: int = -1
    best_state: dict[str, Tensor] | None = None


def stack_noise(pop: LFADSPopulation, batch: int, gens: Sequence[torch.Generator],
                ref: Tensor, **plan_kw: Any) -> dict[str, Tensor]:
    """Every member's draws of one step (from its generator, in its lone model's order),
    stacked (P, ...); members without a draw (e.g. dropout 0) get the neutral value."""
    plans = [noise_plan(pop.member_hparams(p), batch, **plan_kw) for p in range(pop.size)]
    spec = {name: (shape, kind) for plan in plans for name, shape, kind, _ in plan}
    out: dict[str, Tensor] = {}
    for name, (shape, kind) in spec.items():
        dtype = torch.bool if kind in ("keep", "pass") else ref.dtype
        if any(name not in {n for n, *_ in plan} for plan in plans):
            out[name] = torch.full((pop.size, *shape), NOISE_DEFAULT[kind], dtype=dtype,
                                   device=ref.device)
        else:
            out[name] = torch.empty((pop.size, *shape), dtype=dtype, device=ref.device)
    for p, (plan, gen) in enumerate(zip(plans, gens, strict=True)):
        for name, value in draw_noise(plan, ref.device, ref.dtype, gen).items():
            out[name][p] = value
    return out


class PopulationFit:
    """Train LFADS models as one population (see the module docstring)."""

    def __init__(self, models: Sequence[LFADS], seeds: Sequence[int], monitors: Sequence[str],
                 train: Mapping[str, np.ndarray], valid: Mapping[str, np.ndarray],
                 batch_size: int, patience: int | None = None,
                 labels: Sequence[str] | None = None,
                 progress_keys: tuple[str, str] | None = None, keep: str = "best") -> None:
        """``labels`` + ``progress_keys`` (train, valid metric): log the shared trainer's
        progress line (:func:`neurodyn.train.callbacks.format_progress`) per member-epoch.
        ``keep``: the weights a finished member keeps, ``"best"`` (epoch) or ``"last"``."""
        if keep not in ("best", "last"):
            raise ValueError(f"keep must be 'best' or 'last', not {keep!r}")
        self.keep_weights = keep
        self.pop = LFADSPopulation(models)
        self.members = [self._member(i, m, s, mon) for i, (m, s, mon) in
                        enumerate(zip(models, seeds, monitors, strict=True))]
        self.opt = MemberAdamW(dict(self.pop.named_parameters()), len(models))
        # lone parameter name -> stacked parameter name (the optimizer's keys)
        self._stacked = dict(zip(self.pop.names, (k for k, _ in self.pop.named_parameters()),
                                 strict=True))
        self.train_data = TrialBatches(train).tensors
        self.valid_data = TrialBatches(valid).tensors
        for data in (self.train_data, self.valid_data):
            data["stirling"] = poisson_stirling(data["recon_data"])
        self.n_train = int(self.train_data["encod_data"].shape[0])
        self.batch_size, self.patience = int(batch_size), patience
        self.valid_batch = max(self.batch_size, VALID_BATCH)
        self.results: dict[int, MemberResult] = {}
        self._next_id = len(models)
        self.labels = {i: label for i, label in enumerate(labels or [])}
        self.progress_keys = progress_keys
        self._max_epochs, self._start = 0, time.monotonic()

    @staticmethod
    def _member(slot_id: int, model: LFADS, seed: int, monitor: str) -> _Member:
        h = model.hparams
        return _Member(slot_id, int(seed), monitor, EpochMetrics(float(h.smoothing_coef)),
                       lr_state(h.lr_init))

    # ------------------------------------------------------------------ membership
    def replace(self, p: int, model: LFADS, seed: int, monitor: str) -> int:
        """Put ``model`` (a fresh fit) into slot p; returns its id (results key)."""
        self.pop.load_member(p, model)
        self.opt.reset(p)
        self.members[p] = self._member(self._next_id, model, seed, monitor)
        self._next_id += 1
        return self.members[p].slot_id

    def resume(self, p: int, model: LFADS, adam: Mapping[str, Any] | None = None) -> None:
        """Member p (holding ``model``'s weights) continues ``model``'s run: its history,
        epoch count, smoothing and LR state (as restored by ``LFADS.on_load_checkpoint``) and
        ``adam``, the state dict of its lone fit's AdamW (None: fresh moments)."""
        mem = self.members[p]
        mem.history = [dict(r) for r in model.history]
        mem.epoch = int(mem.history[-1]["epoch"]) + 1 if mem.history else 0
        mem.lr = dict(model._lr)
        mem.metrics.load(model._metrics.state())
        if adam is not None:
            m, v, step = adam_from_torch(adam, self.pop.names)
            self.opt.load(p, {self._stacked[n]: t for n, t in m.items()},
                          {self._stacked[n]: t for n, t in v.items()}, step)

    def drop(self, slots: Sequence[int]) -> None:
        """Finish the members in ``slots`` (their results are kept) and remove them."""
        for p in slots:
            mem = self.members[p]
            last = self.keep_weights == "last"
            model = self.pop.member_model(p, None if last else mem.best_state)
            model.history = [dict(r) for r in mem.history]
            model._lr = dict(mem.lr)
            model._metrics.load(mem.metrics.state())
            adam = None
            if last:
                h = self.pop.hps[p]
                decay = float(h["weight_decay"]) * ramp(mem.epoch - 1, h["l2_start_epoch"],
                                                        h["l2_increase_epoch"])
                m, v, step = self.opt.member(p)
                adam = adam_to_torch(model, {n: m[k] for n, k in self._stacked.items()},
                                     {n: v[k] for n, k in self._stacked.items()}, step,
                                     lr=mem.lr["lr"], weight_decay=decay)
            self.results[mem.slot_id] = MemberResult(model, mem.best_epoch, mem.epoch, adam)
        keep = [p for p in range(self.pop.size) if p not in set(slots)]
        index = torch.as_tensor(keep, dtype=torch.long)
        self.pop.keep_members(keep)
        self.opt.keep(index)
        self.members = [self.members[p] for p in keep]

    # -------------------------------------------------------------------- one epoch
    def _gens(self, *step: int, base: int | None = None) -> list[torch.Generator]:
        out = []
        for mem in self.members:
            seed = (base + mem.epoch) if base is not None else epoch_seed(mem.seed, mem.epoch,
                                                                           *step)
            out.append(torch.Generator().manual_seed(int(seed)))
        return out

    def _batch(self, data: Mapping[str, Tensor], index: Tensor) -> dict[str, Tensor]:
        return {k: v[index] for k, v in data.items()}

    def train_epoch(self) -> None:
        """One epoch of every member: training steps, SV pass, validation, bookkeeping."""
        pop, members = self.pop, self.members
        ref = pop.w("fac_weight")
        orders = []
        for mem in members:
            sampler = EpochShuffle(self.n_train, self.batch_size, mem.seed)
            sampler.set_epoch(mem.epoch)
            orders.append(list(sampler))
        lr = torch.tensor([m.lr["lr"] for m in members], dtype=ref.dtype)
        decay = torch.tensor([float(h["weight_decay"]) * ramp(m.epoch, h["l2_start_epoch"],
                                                              h["l2_increase_epoch"])
                              for m, h in zip(members, pop.hps, strict=True)], dtype=ref.dtype)
        params = dict(pop.named_parameters())
        epochs = [m.epoch for m in members]
        pop.train()
        for b in range(len(orders[0])):
            index = torch.as_tensor([o[b] for o in orders], dtype=torch.long)
            batch = self._batch(self.train_data, index)
            noise = stack_noise(pop, index.shape[1], self._gens(b), ref, training=True,
                                sample=bool(pop.shared["variational"]), cd=True, kl=True)
            loss, metrics = pop.shared_step(batch, "train", noise, epochs)
            for p in params.values():
                p.grad = None
            loss.backward()
            clip_member_grads(list(params.values()), GRAD_CLIP)
            self.opt.step(params, lr, decay)
            self._add("train", metrics, index.shape[1], TRAIN_KEYS)
        pop.eval()
        with torch.no_grad():
            epoch_out = [m.metrics.smoothed(m.metrics.finish("train")) for m in members]
            sv_on = [float(h["sv_rate"]) > 0 for h in pop.hps]
            if any(sv_on):
                sv = self._eval_pass(self.train_data, "sv", self._gens(base=SV_SEED))
                for p, mem in enumerate(members):
                    if sv_on[p]:
                        epoch_out[p].update(mem.metrics.smoothed(
                            {"train/recon_sv": sv[p]["recon_sv"]}))
            valid = self._eval_pass(self.valid_data, "valid", self._gens(1 << 30))
            for p, mem in enumerate(members):
                mem.metrics.sums["valid"] = valid[p]
                epoch_out[p].update(mem.metrics.smoothed(mem.metrics.finish("valid")))
        pop.train()
        self._close(epoch_out)

    def _add(self, split: str, metrics: Mapping[str, Tensor], n: int,
             keys: Sequence[str]) -> None:
        values = {k: metrics[k].tolist() for k in keys}
        for p, mem in enumerate(self.members):
            mem.metrics.add(split, {k: values[k][p] for k in keys}, n)

    def _eval_pass(self, data: Mapping[str, Tensor], split: str,
                   gens: list[torch.Generator]) -> list[dict[str, float]]:
        """Batch-size-weighted sums of the metrics of an evaluation pass over ``data`` in
        order (the same trials for every member), per member."""
        pop, ref = self.pop, self.pop.w("fac_weight")
        n = int(data["encod_data"].shape[0])
        size = self.valid_batch if split == "valid" else VALID_BATCH
        sums = [{"n": 0.0} for _ in range(pop.size)]
        epochs = [m.epoch for m in self.members]
        per_trial = int(np.prod(data["recon_data"].shape[1:]))
        for start in range(0, n, size):
            rows = torch.arange(start, min(start + size, n))
            # members in groups whose (group, batch, time, neuron) tensors stay small
            group = max(1, EVAL_FLOATS // (rows.numel() * per_trial))
            for g0 in range(0, pop.size, group):
                g1 = min(pop.size, g0 + group)
                view = pop.members_view(g0, g1)
                batch = {k: v[rows].unsqueeze(0).expand(g1 - g0, *v[rows].shape)
                         for k, v in data.items()}
                noise = stack_noise(view, rows.numel(), gens[g0:g1], ref, training=False,
                                    sample=bool(pop.shared["variational"]), cd=False, kl=True)
                _, metrics = view.shared_step(batch, split, noise, epochs[g0:g1])
                values = {k: v.tolist() for k, v in metrics.items()}
                for i, p in enumerate(range(g0, g1)):
                    sums[p]["n"] += rows.numel()
                    for k, v in values.items():
                        sums[p][k] = sums[p].get(k, 0.0) + v[i] * rows.numel()
        if split == "valid":
            return sums
        return [{"recon_sv": s["recon_sv"] / s["n"] if s["n"] else math.nan} for s in sums]

    def _close(self, epoch_out: list[dict[str, float]]) -> None:
        done = []
        for p, (mem, out) in enumerate(zip(self.members, epoch_out, strict=True)):
            record = close_epoch(mem.history, mem.lr, mem.epoch, out, self.pop.hps[p],
                                 TUNABLE)
            value = float(record.get(mem.monitor, math.nan))
            better = mem.best is None or (math.isfinite(value) and (
                not math.isfinite(mem.best) or value < mem.best))
            if better:
                mem.best, mem.best_epoch = value, mem.epoch
                if self.keep_weights == "best":  # "last" never reads it
                    mem.best_state = self.pop.member_state(p)
            mem.epoch += 1
            self._progress(mem, record)
            if self.patience is not None and mem.epoch - 1 - mem.best_epoch >= self.patience:
                done.append(p)
        if done:
            self.drop(done)

    def _progress(self, mem: _Member, record: Mapping[str, float]) -> None:
        if self.progress_keys is None or mem.slot_id not in self.labels:
            return
        from neurodyn.train.callbacks import format_progress

        shown = {name: float(record.get(key, math.nan)) for name, key in
                 zip(("train_loss", "val_loss"), self.progress_keys, strict=True)}
        log.info(format_progress(self.labels[mem.slot_id], mem.epoch, self._max_epochs,
                                 {k: v for k, v in shown.items() if math.isfinite(v)},
                                 float(record["lr"]), time.monotonic() - self._start,
                                 mem.epoch))

    def set_hparams(self, p: int, **changes: Any) -> None:
        """Change member p's tunable HPs between epochs (a changed ``lr_init`` becomes its
        current LR, as :meth:`LFADS.set_hparams`)."""
        bad = sorted(set(changes) - set(TUNABLE))
        if bad:
            raise ValueError(f"not tunable between epochs: {bad}")
        hp = self.pop.hps[p]
        if "lr_init" in changes and float(changes["lr_init"]) != float(hp["lr_init"]):
            self.members[p].lr.update(lr=float(changes["lr_init"]), bad_epochs=0)
        hp.update(changes)

    def fit(self, max_epochs: int) -> list[MemberResult]:
        """Train until every member has run ``max_epochs`` (or stopped early); the results
        of every member ever trained, by id (the initial models first, in order)."""
        self._max_epochs, self._start = int(max_epochs), time.monotonic()
        while self.members:
            self.train_epoch()
            finished = [p for p, m in enumerate(self.members) if m.epoch >= max_epochs]
            if finished:
                self.drop(finished)
        return [self.results[i] for i in sorted(self.results)]
