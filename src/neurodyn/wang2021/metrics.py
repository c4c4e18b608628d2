"""Accuracy, majority-class rate and confusion matrices; the linear SVM baseline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from neurodyn.wang2021 import states as st
from neurodyn.wang2021.data import Worms


def confusion(true: np.ndarray, pred: np.ndarray, n_true: int, n_pred: int) -> np.ndarray:
    """Counts [true class, predicted class]."""
    out = np.zeros((n_true, n_pred), np.int64)
    np.add.at(out, (true, pred), 1)
    return out


def _pool(worms: Worms, preds: Sequence[np.ndarray], select: Sequence[np.ndarray] | None
          ) -> tuple[np.ndarray, np.ndarray]:
    trues, ps = [], []
    for w, pred in enumerate(preds):
        n = int(worms.n_steps[w])
        lab = worms.labels[w, :n]
        ok = lab >= 0
        if select is not None:
            ok &= select[w][:n]
        trues.append(lab[ok])
        ps.append(pred[:n][ok])
    if not trues:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(trues), np.concatenate(ps)


def _acc(true: np.ndarray, pred: np.ndarray) -> float:
    return float((true == pred).mean()) if true.size else float("nan")


def classification_metrics(train: Worms, unseen: Worms, nichols: Worms | None,
                           folds: Sequence[np.ndarray], role: Mapping[str, Any],
                           n_states: int, seen_pred: Sequence[np.ndarray],
                           unseen_pred: Sequence[np.ndarray],
                           nichols_pred: Sequence[np.ndarray] | None) -> dict[str, Any]:
    """Seen (test fold of the training worms), unseen Kato and Nichols metrics of one fit."""
    c = len(st.task_classes(n_states))
    test = [f == role["test"] for f in folds]
    fit_sel = [(f >= 0) & (f != role["test"]) & (f != role["val"]) for f in folds]
    true, pred = _pool(train, seen_pred, test)
    fit_true, _ = _pool(train, seen_pred, fit_sel)
    majority = int(np.bincount(fit_true, minlength=c).argmax()) if fit_true.size else 0
    out: dict[str, Any] = {
        "n_test_seen": int(true.size), "acc_seen": _acc(true, pred),
        "majority_class": st.task_classes(n_states)[majority],
        "majority_seen": _acc(true, np.full_like(true, majority)),
        "confusion_seen": confusion(true, pred, c, c).tolist()}
    ut, up = _pool(unseen, unseen_pred, None)
    out.update(n_unseen_kato=int(ut.size), acc_unseen_kato=_acc(ut, up),
               majority_unseen_kato=_acc(ut, np.full_like(ut, majority)),
               confusion_unseen_kato=confusion(ut, up, c, c).tolist())
    if nichols is not None and nichols_pred is not None:
        nt, npred = _pool(nichols, nichols_pred, None)
        collapsed = st.collapse_map(n_states)[npred] if npred.size else npred
        ce = len(st.nichols_classes(n_states))
        out.update(n_nichols=int(nt.size), acc_nichols=_acc(nt, collapsed),
                   majority_nichols=_acc(nt, np.full_like(
                       nt, st.collapse_map(n_states)[majority])),
                   confusion_nichols=confusion(nt, npred, ce, c).tolist())
    return out


def _flat(worms: Worms, w: int) -> np.ndarray:
    n = int(worms.n_steps[w])
    return worms.x[w, :n].reshape(n, -1)


def svm_fit_predict(train: Worms, unseen: Worms, nichols: Worms | None,
                    folds: Sequence[np.ndarray], roles: Sequence[Mapping[str, Any]],
                    n_states: int, opts: Mapping[str, Any], records: list[dict],
                    seeds: Sequence[int]) -> list[dict[str, torch.Tensor]]:
    """Fit a LinearSVC per fold on the concatenated node features; fill ``records``."""
    from sklearn.svm import LinearSVC

    weights = []
    for rec, role, seed in zip(records, roles, seeds, strict=True):
        xs, ys = [], []
        for w in range(len(train.worm_ids)):
            n = int(train.n_steps[w])
            sel = (folds[w][:n] >= 0) & (folds[w][:n] != role["test"]) & \
                (folds[w][:n] != role["val"]) & (train.labels[w, :n] >= 0)
            xs.append(_flat(train, w)[sel])
            ys.append(train.labels[w, :n][sel])
        clf = LinearSVC(tol=opts["svm_tol"], max_iter=opts["svm_max_iter"],
                        random_state=int(seed))
        clf.fit(np.concatenate(xs), np.concatenate(ys))

        def predict(ws: Worms, clf=clf) -> list[np.ndarray]:
            return [clf.predict(_flat(ws, w)) if ws.n_steps[w] else np.zeros(0, np.int64)
                    for w in range(len(ws.worm_ids))]

        rec.update(classification_metrics(
            train, unseen, nichols, folds, role, n_states, predict(train), predict(unseen),
            predict(nichols) if nichols is not None else None))
        rec.update(epochs_run=0, best_epoch=0, n_params=int(clf.coef_.size + clf.intercept_.size),
                   svm_iterations=int(clf.n_iter_))
        weights.append({"coef": torch.tensor(clf.coef_), "intercept":
                        torch.tensor(clf.intercept_), "classes": torch.tensor(clf.classes_)})
    return weights
