"""One batched ensemble of Wang 2021 fits: load the worms, build the model, train, evaluate
(the job around it, with the shared fit runner, is :mod:`neurodyn.wang2021.job`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from neurodyn.data.celegans.connectome import adjacency
from neurodyn.train.device import TrainSettings
from neurodyn.train.runtime import seed_all
from neurodyn.wang2021 import grid as G
from neurodyn.wang2021 import states as st
from neurodyn.wang2021.batched import init_members, set_norm
from neurodyn.wang2021.data import Worms, canonical_neurons, load_worms
from neurodyn.wang2021.harness import EnsembleModule, WormBatch, rollout, train_ensemble
from neurodyn.wang2021.metrics import classification_metrics, svm_fit_predict
from neurodyn.wang2021.models import Classifier, Dynamics

log = logging.getLogger("neurodyn")


def task_neurons(cfg: Mapping[str, Any], task: str) -> tuple[str, ...]:
    spec = cfg["tasks"][task]
    names = canonical_neurons(cfg["neuron_sets"][spec["neurons"]],
                              f"config wang2021.neuron_sets.{spec['neurons']}")
    drop = set(canonical_neurons(spec.get("drop", []), f"config wang2021.tasks.{task}.drop"))
    missing = drop - set(names)
    if missing:
        raise ValueError(f"wang2021.tasks.{task}.drop: {sorted(missing)} not in the neuron set")
    return tuple(n for n in names if n not in drop)


class Inputs:
    """The job's datasets, loaded once and restricted per task."""

    def __init__(self, kato_path: str, nichols_path: str, cfg: Mapping[str, Any]) -> None:
        from neurodyn.io.calcium import open_calcium

        self.kato_path, self.nichols_path, self.cfg = kato_path, nichols_path, cfg
        self.kato, self.nichols = open_calcium(kato_path), open_calcium(nichols_path)
        n = self.kato.sizes["worm"]
        if n < cfg["kato_worms"]:
            raise ValueError(f"{kato_path}: {n} worms, but wang2021.kato_worms is "
                             f"{cfg['kato_worms']}")
        self._cache: dict[tuple, Worms] = {}

    def worms(self, which: str, neurons: tuple[str, ...], n_states: int | None) -> Worms:
        key = (which, neurons, n_states)
        if key not in self._cache:
            if which == "kato":
                self._cache[key] = load_worms(self.kato, self.kato_path, neurons, n_states,
                                              self.cfg["kato_worms"])
            else:
                self._cache[key] = load_worms(self.nichols, self.nichols_path, neurons,
                                              n_states, self.cfg["nichols_worms"])
        return self._cache[key]


def _fold_masks(train: Worms, fits: Sequence[G.Fit], cfg: Mapping[str, Any],
                seed: int) -> list[np.ndarray]:
    """Per training worm, the fold of every timestep (the same for every task and arch of
    a combination)."""
    return G.fold_of_timesteps([int(n) for n in train.n_steps], cfg["window"],
                               cfg["n_folds"], G.stable_seed(seed, "folds", fits[0].k,
                                                             fits[0].combination))


def _roles(fits: Sequence[G.Fit], cfg: Mapping[str, Any], kind: str) -> list[dict]:
    return [G.split_roles(f.fold, cfg["n_folds"], kind) for f in fits]


def _connectome(neurons: Sequence[str]) -> Tensor:
    return torch.tensor(adjacency(neurons, kind="union", binary=True), dtype=torch.float32)


def build_model(arch: str, kind: str, members: int, n_nodes: int, n_classes: int,
                cfg: Mapping[str, Any], neurons: Sequence[str]) -> torch.nn.Module:
    """The task's model, with its BatchNorm per worm (``norm: worm``, also in evaluation)
    or running statistics in evaluation (``norm: running``)."""
    opts = cfg["classify"] if kind == "classify" else cfg["trajectory"]
    conn = _connectome(neurons) if arch == "gnn_connectome" else None
    model: torch.nn.Module
    if kind == "classify":
        model = Classifier(arch, members, n_nodes, 2, n_classes, opts["hidden"],
                           opts["edges"], opts["aggregation"], conn, opts["node_input"])
    else:
        model = Dynamics(arch, members, n_nodes, 2, opts["hidden"], opts["edges"],
                         opts["aggregation"], conn, opts["node_input"])
    set_norm(model, opts["norm"])
    return model


class NoChange(torch.nn.Module):
    """The "no change" trajectory model: ΔX = 0 (X(t+1) = X(t))."""

    recurrent = False

    def forward(self, x: Tensor, m: Tensor, w: Tensor | None = None,
                state: Any = None) -> tuple[Tensor, Any]:
        return torch.zeros_like(x), None


def train_context(arch: str, opts: Mapping[str, Any]) -> int:
    """True input steps before the first predicted step of a training window: the burn-in
    for recurrent models (thesis: 4 + 8 predicted = 12 steps), one for Markovian models."""
    return int(opts["burn_in"]) if arch.startswith("lstm_") else 1


def _class_batches(train: Worms, folds: list[np.ndarray], roles: list[dict]) -> list[WormBatch]:
    out = []
    for w in range(len(train.worm_ids)):
        n = int(train.n_steps[w])
        lab = train.labels[w, :n]
        fo = folds[w][:n]
        ok = (lab >= 0) & (fo >= 0)
        tr = np.stack([ok & (fo != r["test"]) & (fo != r["val"]) for r in roles])
        va = np.stack([ok & (fo == r["val"]) for r in roles])
        out.append(WormBatch(torch.from_numpy(train.x[w, :n]),
                             torch.from_numpy(train.node_mask[w].astype(np.float32)),
                             torch.from_numpy(lab), torch.from_numpy(tr.astype(np.float32)),
                             torch.from_numpy(va.astype(np.float32))))
    return out


def windows(x: np.ndarray, n: int, length: int, stride: int) -> np.ndarray:
    """(B, length, N, F) windows of the first ``n`` samples starting every ``stride``."""
    starts = np.arange(0, n - length + 1, stride)
    return np.stack([x[s:s + length] for s in starts]) if starts.size else \
        np.zeros((0, length, *x.shape[1:]), np.float32)


def train_windows(x: np.ndarray, fold: np.ndarray, n: int, window: int, context: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Trajectory training windows of one worm: one per CV block of ``window`` steps (its
    ``window`` targets), preceded by ``context`` true input steps (1 for Markovian models,
    the burn-in for recurrent ones): (B, context + window, N, F) and each block's fold.
    Blocks without ``context`` earlier samples or outside the folds (-1) are skipped."""
    starts = np.arange(0, n - window + 1, window)
    starts = starts[starts >= context]
    starts = starts[fold[starts] >= 0]
    if not starts.size:
        return np.zeros((0, context + window, *x.shape[1:]), np.float32), np.zeros(0, int)
    return np.stack([x[s - context:s + window] for s in starts]), fold[starts]


def _traj_batches(train: Worms, folds: list[np.ndarray], roles: list[dict],
                  window: int, context: int) -> list[WormBatch]:
    out = []
    for w in range(len(train.worm_ids)):
        n = int(train.n_steps[w])
        win, fo = train_windows(train.x[w], folds[w], n, window, context)
        tr = np.stack([(fo >= 0) & (fo != r["val"]) for r in roles])
        va = np.stack([fo == r["val"] for r in roles])
        out.append(WormBatch(torch.from_numpy(win),
                             torch.from_numpy(train.node_mask[w].astype(np.float32)), None,
                             torch.from_numpy(tr.astype(np.float32)),
                             torch.from_numpy(va.astype(np.float32))))
    return out


def _classify_predict(model: torch.nn.Module, worms: Worms, members: int
                      ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per worm: predicted class (E, T) over valid samples, and the static adjacency."""
    model.eval()
    preds, adj = [], []
    with torch.no_grad():
        for w in range(len(worms.worm_ids)):
            n = int(worms.n_steps[w])
            x = torch.from_numpy(worms.x[w, :n])
            m = torch.from_numpy(worms.node_mask[w].astype(np.float32)).expand(n, -1)
            logits = model(x.unsqueeze(0).expand(members, *x.shape), m)
            preds.append(logits.argmax(-1).numpy())
            a = getattr(model, "last_adjacency", None)
            adj.append(None if a is None else a.mean(1).numpy())
    return preds, adj


def trajectory_mse(model: torch.nn.Module | None, worms: Worms, members: int,
                   burn_in: int, horizon: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """MSE per prediction step (E, horizon) over all windows of ``worms`` (labeled nodes,
    both features), and the "no change" baseline (horizon,). Inputs are true for the first
    ``burn_in`` steps; step 1 is the first prediction after the last true input."""
    length = burn_in + horizon
    se = np.zeros((members, horizon))
    base = np.zeros(horizon)
    count = 0.0
    with torch.no_grad():
        for w in range(len(worms.worm_ids)):
            win = torch.from_numpy(windows(worms.x[w], int(worms.n_steps[w]), length, stride))
            if win.shape[0] == 0:
                continue
            m = torch.from_numpy(worms.node_mask[w].astype(np.float32))
            target = win[:, burn_in:]
            mm = m[None, None, :, None]
            last = win[:, burn_in - 1:burn_in]
            base += (((last - target) ** 2) * mm).sum((0, 2, 3)).numpy()
            if model is not None:
                model.eval()
                teacher = torch.zeros(win.shape[0], length - 1, dtype=torch.bool)
                teacher[:, :burn_in] = True
                pred = rollout(model, win, m, None, members, teacher, burn_in, length - 1)
                pred = pred[:, :, burn_in - 1:]
                se += (((pred - target.unsqueeze(0)) ** 2) * mm).sum((1, 3, 4)).numpy()
            count += float(win.shape[0] * m.sum() * win.shape[-1])
    if count == 0:
        return np.full((members, horizon), np.nan), np.full(horizon, np.nan)
    return se / count, base / count


def _populations(inputs: Inputs, fits: Sequence[G.Fit], cfg: Mapping[str, Any]) -> tuple:
    """Task settings and worm populations of an ensemble: (task spec, kind, states, neurons,
    all Kato worms, training worms, unseen Kato worms, Nichols worms or None)."""
    spec = cfg["tasks"][fits[0].task]
    kind = spec["kind"]
    n_states = spec.get("states") if kind == "classify" else None
    neurons = task_neurons(cfg, fits[0].task)
    kato = inputs.worms("kato", neurons, n_states)
    train_idx = G.combination_worms(fits[0].combination)
    unseen_idx = [w for w in range(len(kato.worm_ids)) if w not in train_idx]
    nichols = (inputs.worms("nichols", neurons, n_states if n_states in (2, 4) else None)
               if spec.get("evaluate_nichols", False) else None)
    return (spec, kind, n_states, neurons, kato, kato.subset(train_idx),
            kato.subset(unseen_idx), nichols)


def run_ensemble(inputs: Inputs, fits: Sequence[G.Fit], cfg: Mapping[str, Any], seed: int,
                 settings: TrainSettings, workdir: Path | None = None
                 ) -> tuple[list[dict], list[dict[str, Tensor]]]:
    """Train (or evaluate) one batched ensemble; return per-fit records and weights.
    Neural models checkpoint into ``workdir`` every epoch (resumed from there)."""
    task, arch = fits[0].task, fits[0].arch
    spec, kind, n_states, neurons, kato, train, unseen, nichols = _populations(inputs, fits,
                                                                               cfg)
    E = len(fits)
    folds = _fold_masks(train, fits, cfg, seed)
    roles = _roles(fits, cfg, kind)
    group_seed = G.stable_seed(seed, task, fits[0].k, fits[0].combination, arch)
    member_seeds = [G.stable_seed(seed, f.path) for f in fits]
    seed_all(group_seed)
    common = {"neurons": list(neurons), "train_worms": list(train.worm_ids),
              "unseen_kato_worms": list(unseen.worm_ids),
              "masked_nodes": {**train.masked_nodes(), **unseen.masked_nodes()},
              "kato_source": "synthetic" if kato.synthetic else "real"}
    if nichols is not None:
        common.update(nichols_worms=len(nichols.worm_ids),
                      nichols_source="synthetic" if nichols.synthetic else "real")
    records = [{**vars(f), **common, "kind": kind, "member_seed": s}
               for f, s in zip(fits, member_seeds, strict=True)]

    if kind == "classify" and arch == "svm":
        weights = svm_fit_predict(train, unseen, nichols, folds, roles, n_states,
                                  cfg["classify"], records, member_seeds)
        return records, weights

    if kind == "trajectory" and arch == "nochange":
        # its MSE goes through the models' rollout path (a model predicting ΔX = 0); its
        # baseline is the direct last-input error: the sanity table compares the two
        opts = cfg["trajectory"]
        for rec in records:
            rec.update(epochs_run=0, best_epoch=0, n_params=0)
        for name, ws in (("nichols", nichols), ("unseen_kato", unseen)):
            if ws is None:
                continue
            mse, base = trajectory_mse(NoChange(), ws, E, opts["burn_in"], opts["horizon"],
                                       opts["eval_stride"])
            for e, rec in enumerate(records):
                rec[f"mse_{name}"] = mse[e].tolist()
                rec[f"nochange_{name}"] = base.tolist()
        return records, [{} for _ in fits]

    n_classes = len(st.task_classes(n_states)) if kind == "classify" else 0
    model = build_model(arch, kind, E, len(neurons), n_classes, cfg, neurons)
    init_members(model, member_seeds)
    opts = cfg[kind]
    if kind == "classify":
        batches = _class_batches(train, folds, roles)
        module = EnsembleModule(model, batches, kind, opts["lr"], opts["lr_factor"],
                                opts["lr_patience"], seed=group_seed,
                                batch_size=opts["batch_size"])
    else:
        context = train_context(arch, opts)
        batches = _traj_batches(train, folds, roles, cfg["window"], context)
        module = EnsembleModule(model, batches, kind, opts["lr"], opts["lr_factor"],
                                opts["lr_patience"], ss_epochs=opts["ss_epochs"],
                                burn_in=context, seed=group_seed,
                                batch_size=opts["batch_size"])
    label = f"{task} k{fits[0].k} {fits[0].combination} {arch} ({E} folds)"
    epochs = G.task_epochs(cfg, task)
    states = train_ensemble(module, epochs, settings, workdir, label)
    n_params = sum(p[0].numel() for p in model.parameters())
    for e, rec in enumerate(records):
        rec.update(epochs_run=epochs, best_epoch=int(module.best_epoch[e]),
                   best_val_loss=float(module.best_loss[e]), n_params=int(n_params),
                   val_loss_history=[h[e] for h in module.val_history])
    return records, states


def evaluate_ensemble(inputs: Inputs, fits: Sequence[G.Fit], cfg: Mapping[str, Any],
                      seed: int, records: list[dict], batched_state: dict[str, Tensor]
                      ) -> None:
    """Fill ``records`` with the metrics of the restored best weights."""
    arch = fits[0].arch
    spec, kind, n_states, neurons, kato, train, unseen, nichols = _populations(inputs, fits,
                                                                               cfg)
    E = len(fits)
    n_classes = len(st.task_classes(n_states)) if kind == "classify" else 0
    model = build_model(arch, kind, E, len(neurons), n_classes, cfg, neurons)
    model.load_state_dict(batched_state)
    model.eval()
    if kind == "classify":
        folds = _fold_masks(train, fits, cfg, seed)
        roles = _roles(fits, cfg, kind)
        seen_pred, seen_adj = _classify_predict(model, train, E)
        unseen_pred, _ = _classify_predict(model, unseen, E)
        nich_pred = _classify_predict(model, nichols, E)[0] if nichols is not None else None
        for e, rec in enumerate(records):
            rec.update(classification_metrics(
                train, unseen, nichols, folds, roles[e], n_states,
                [p[e] for p in seen_pred], [p[e] for p in unseen_pred],
                None if nich_pred is None else [p[e] for p in nich_pred]))
            adj = [a[e] for a in seen_adj if a is not None]
            if adj and arch == "gnn":
                rec["mean_adjacency"] = mean_adjacency(adj, train.node_mask).tolist()
    else:
        opts = cfg["trajectory"]
        for name, ws in (("nichols", nichols), ("unseen_kato", unseen)):
            if ws is None:
                continue
            mse, base = trajectory_mse(model, ws, E, opts["burn_in"], opts["horizon"],
                                       opts["eval_stride"])
            for e, rec in enumerate(records):
                rec[f"mse_{name}"] = mse[e].tolist()
                rec[f"nochange_{name}"] = base.tolist()


def mean_adjacency(adjs: Sequence[np.ndarray], node_mask: np.ndarray) -> np.ndarray:
    """Mean inferred A over worms (entries of missing nodes excluded; NaN if never seen)."""
    stack = np.stack(adjs)  # (W, N, N)
    pair = (node_mask[:, :, None] & node_mask[:, None, :]).astype(float)
    with np.errstate(invalid="ignore"):
        return (stack * pair).sum(0) / pair.sum(0)
