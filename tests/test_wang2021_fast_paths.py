"""The Wang 2021 fast paths compute the same functions as their plain definitions, and the
per-task grid lists plan exactly the fits they name."""

from __future__ import annotations

import pytest
import torch

from neurodyn.train.device import TrainSettings
from neurodyn.wang2021 import grid as G
from neurodyn.wang2021.batched import BBatchNorm, BLinear, init_members
from neurodyn.wang2021.job import fit_config
from neurodyn.wang2021.models import GraphLayer


def test_pair_layer_equals_the_layer_on_concatenated_pairs():
    torch.manual_seed(0)
    layer = BLinear(3, 8, 5)
    init_members(layer, [1, 2, 3])
    h = torch.randn(3, 4, 6, 4)  # (E, B, N, D): pairs of D = 4 -> 8 inputs
    E, B, N, D = h.shape
    hi = h[:, :, :, None, :].expand(E, B, N, N, D)
    hj = h[:, :, None, :, :].expand(E, B, N, N, D)
    torch.testing.assert_close(layer.pairs(h), layer(torch.cat([hi, hj], -1)))


def _plain_batch_norm(bn: BBatchNorm, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted batch statistics written out directly, (E, B, C) input and (E, B) weights."""
    n = w.sum(1, keepdim=True)[..., None]
    mean = (w[..., None] * x).sum(1, keepdim=True) / n
    var = (w[..., None] * (x - mean) ** 2).sum(1, keepdim=True) / n
    return (x - mean) / torch.sqrt(var + bn.eps) * bn.weight[:, None] + bn.bias[:, None]


def test_batch_norm_statistics_follow_the_sample_weights():
    torch.manual_seed(1)
    bn = BBatchNorm(2, 3)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 2.0)
        bn.bias.uniform_(-1.0, 1.0)
    x = torch.randn(2, 50, 3) * 3 + 1
    w = (torch.rand(2, 50) > 0.4).float()
    torch.testing.assert_close(bn(x, w), _plain_batch_norm(bn, x, w), atol=1e-5, rtol=1e-5)
    # weighted statistics differ from the unweighted ones (the weights are used)
    assert not torch.allclose(bn(x, w), bn(x, None), atol=1e-3)


@pytest.mark.parametrize("edges", ["static", "connectome"])
def test_one_graph_per_worm_messages_equal_the_dense_product(edges):
    torch.manual_seed(2)
    conn = (torch.rand(5, 5) > 0.5).float()
    layer = GraphLayer(2, 2, 8, edges, conn if edges == "connectome" else None)
    init_members(layer, [4, 5])
    x = torch.rand(2, 30, 5, 2)
    m = torch.ones(30, 5)
    m[:, 3] = 0.0  # a neuron missing in this worm
    x = x * m[None, :, :, None]
    msg, a = layer(x, m, None)
    assert a.shape == (2, 30, 5, 5)
    torch.testing.assert_close(msg, a @ x)
    assert torch.all(a[:, :, 3, :] == 0) and torch.all(a[:, :, :, 3] == 0)


def _cfg(**tasks):
    return {"kato_worms": 5, "n_folds": 10, "k": [1, 2, 3], "max_combinations": None,
            "folds": [0, 1, 2, 3], "window": 8, "job": "combination",
            "neuron_sets": {"s": ["AVAL"]}, "classify": {"svm_tol": 1e-5, "svm_max_iter": 5},
            "tasks": tasks}


def test_task_grid_lists_plan_exactly_their_fits():
    cfg = _cfg(a={"kind": "classify", "neurons": "s", "archs": ["svm"]},
               b={"kind": "classify", "neurons": "s", "archs": ["svm"], "k": [3],
                  "folds": [0, 5]},
               c={"kind": "classify", "neurons": "s", "archs": ["svm"], "k": []})
    fits = G.fits(cfg)
    assert {f.task for f in fits} == {"a", "b"}
    assert {(f.k, f.fold) for f in fits if f.task == "b"} == {(3, 0), (3, 5)}
    assert {f.k for f in fits if f.task == "a"} == {1, 2, 3}
    assert len(fits) == 4 * (5 + 10 + 10) + 2 * 10
    assert G.has_task_grids(cfg) and G.k_values(cfg) == [1, 2, 3]
    # a combination job at k = 1 declares task a only; at k = 3 both, with b's own folds
    assert all(p.startswith("a/") for p in G.combination_job_outputs(cfg, 1))
    assert "b/k{k}/{combination}/fold5/svm" in G.combination_job_outputs(cfg, 3)
    assert len(G.combination_job_outputs(cfg, 3)) == 4 + 2


def test_task_grid_lists_are_checked_against_the_worms_and_folds():
    spec = {"kind": "classify", "neurons": "s", "archs": ["svm"]}
    with pytest.raises(ValueError, match=r"tasks\.a\.k has \[6\]"):
        G.fits(_cfg(a={**spec, "k": [6]}))
    with pytest.raises(ValueError, match=r"tasks\.a\.folds has \[10\]"):
        G.fits(_cfg(a={**spec, "folds": [10]}))


def test_a_tasks_grid_lists_are_not_part_of_its_fit_key():
    spec = {"kind": "classify", "states": 2, "neurons": "s", "archs": ["svm"]}
    settings = TrainSettings()
    plain = fit_config(_cfg(a=spec), "a", "svm", 0, settings)
    listed = fit_config(_cfg(a={**spec, "k": [1], "folds": [0]}), "a", "svm", 0, settings)
    assert plain == listed
    assert fit_config(_cfg(a={**spec, "states": 4}), "a", "svm", 0, settings) != plain
