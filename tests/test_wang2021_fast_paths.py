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


@pytest.mark.parametrize("training", [True, False])
def test_static_mean_embedding_equals_the_plain_node_embedding(training):
    """The static GNN's fused mean embedding (used when x needs no gradient) gives the plain
    path's messages, adjacency, parameter gradients and running statistics, over several
    timestep chunks with a missing and a part-time neuron and per-member sample weights
    (float64: equal up to summation order)."""
    import copy

    from neurodyn.wang2021.static_embedding import CHUNK_TIMESTEPS

    torch.manual_seed(3)
    members, steps = 3, 2 * CHUNK_TIMESTEPS + 37
    layer = GraphLayer(members, 2, 8, "static")
    init_members(layer, [7, 8, 9])
    layer.train(training).double()
    twin = copy.deepcopy(layer)
    m = torch.ones(steps, 5, dtype=torch.float64)
    m[:, 1] = 0.0
    m[:50, 3] = 0.0
    x = (torch.randn(steps, 5, 2).double() * 2.0 * m[..., None]).expand(members, -1, -1, -1)
    w = (torch.rand(members, steps) > 0.3).double() if training else None
    probe = torch.randn(members, steps, 5, 2).double()
    plain_msg, plain_a = layer(x.clone().requires_grad_(True), m, w)  # materialises H
    fused_msg, fused_a = twin(x, m, w)
    torch.testing.assert_close(fused_a, plain_a, atol=1e-12, rtol=1e-10)
    torch.testing.assert_close(fused_msg, plain_msg, atol=1e-12, rtol=1e-10)
    (plain_msg * probe).sum().backward()
    (fused_msg * probe).sum().backward()
    grads = {k: p.grad for k, p in twin.named_parameters()}
    for name, p in layer.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
        assert (grads[name] - p.grad).abs().max() <= 1e-10 * p.grad.abs().max(), name
    for name, buf in layer.named_buffers():
        torch.testing.assert_close(dict(twin.named_buffers())[name], buf, msg=name,
                                   atol=1e-12, rtol=1e-10)


def test_fused_elu_matches_torch_elu_including_far_below_exp_underflow():
    import torch.nn.functional as F

    from neurodyn.wang2021.static_embedding import _elu, _elu_slope

    a = torch.cat([torch.linspace(-200.0, 5.0, 4001), torch.tensor([0.0, -0.0, -87.5])])
    out = _elu(a.clone())
    torch.testing.assert_close(out, F.elu(a), atol=1e-7, rtol=2e-6)  # exp(a) - 1 vs expm1
    assert torch.all(out[a < -20] == -1.0)
    slope = torch.where(a > 0, torch.ones_like(a), torch.exp(a))
    torch.testing.assert_close(_elu_slope(out), slope, atol=1e-7, rtol=1e-6)
