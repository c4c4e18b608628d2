"""Simeon et al. 2024 model zoo: Table II counts, masked loss, causality, generation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurodyn.eval.losses import masked_mse
from neurodyn.scaling.generation import generate
from neurodyn.scaling.models import (
    ARCHITECTURES,
    MATCHED_HIDDEN,
    MATCHED_TARGET,
    N_NEURONS,
    Baseline,
    attention_heads,
    build_model,
    count_parameters,
    hidden_for_params,
    paper_param_count,
)

SEQUENCE_MODELS = ("ctrnn", "lstm", "transformer", "attention")
TRAINABLE = ("linear", "feedforward", *SEQUENCE_MODELS)

# Paper Table II (h = 300 and the ~580K matched sizes) and spec §9 (LSTM 232, FFNN 512).
TABLE_II = [
    ("feedforward", 300, 272_702), ("ctrnn", 300, 363_302), ("lstm", 300, 904_802),
    ("transformer", 300, 1_268_402), ("attention", 300, 543_602),
    ("feedforward", 516, 580_286), ("ctrnn", 408, 582_110), ("lstm", 234, 582_260),
    ("transformer", 196, 584_186), ("attention", 312, 580_310),
    ("lstm", 232, 573_574), ("feedforward", 512, 573_742),
    # Fixed-size models: linear forces h = 302 (2(302² + 302) + 604), baseline is one dummy.
    ("linear", 300, 183_616), ("baseline", 300, 1),
]


def _batch(b: int = 3, t: int = 16, seed: int = 0, frac: float = 0.4):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, t, N_NEURONS, generator=g)
    mask = torch.rand(b, N_NEURONS, generator=g) < frac
    mask[:, 0] = True  # at least one labeled neuron per sequence
    return x, mask


def _small(name: str, hidden: int = 10) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(name, hidden).train(False)


# ----------------------------------------------------------------------------- counts

@pytest.mark.parametrize(("name", "hidden", "expected"), TABLE_II)
def test_table_ii_parameter_counts(name, hidden, expected):
    assert count_parameters(build_model(name, hidden)) == expected
    assert paper_param_count(name, hidden) == expected


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
@pytest.mark.parametrize("hidden", [1, 7, 8, 33, 87])
def test_closed_form_equals_built_model(name, hidden):
    assert count_parameters(build_model(name, hidden)) == paper_param_count(name, hidden)


def test_convention_counts_unused_modules():
    """Unused LayerNorm (2h) and the transformer layer's duplicate are added to the raw total."""
    raw = {n: sum(p.numel() for p in build_model(n, 20).parameters()) for n in TRAINABLE}
    extra = {n: count_parameters(build_model(n, 20)) - raw[n] for n in TRAINABLE}
    h = 20
    assert extra == {"linear": 2 * 302, "feedforward": 2 * h, "ctrnn": 0, "lstm": 0,
                     "transformer": 2 * h + 6 * h * h + 10 * h, "attention": 2 * h}
    assert sum(p.numel() for p in Baseline().parameters()) == 0
    assert count_parameters(Baseline()) == 1


def test_hidden_for_params_gives_matched_sizes():
    got = {n: hidden_for_params(n, MATCHED_TARGET) for n in MATCHED_HIDDEN}
    assert got == MATCHED_HIDDEN == {"feedforward": 516, "ctrnn": 408, "lstm": 234,
                                     "transformer": 196, "attention": 312}
    assert hidden_for_params("lstm", 573_574) == 232
    assert hidden_for_params("FFNN", 573_742) == 512  # aliases are accepted
    assert hidden_for_params("ctrnn", MATCHED_TARGET, mode="closest") == 407  # 579,870
    assert hidden_for_params("transformer", 1) == 2
    with pytest.raises(ValueError):
        hidden_for_params("linear", 10_000)


def test_heads_and_even_rounding():
    assert [attention_heads(h) for h in (300, 196, 312, 7, 9, 14)] == [5, 4, 4, 1, 3, 2]
    for name in ("transformer", "attention"):
        model = build_model(name, 195)
        assert model.hidden == 196 and model.heads == 4
    assert build_model("linear", 50).hidden == N_NEURONS


# ----------------------------------------------------------------------------- loss

def test_masked_mse_matches_numpy_and_ignores_unlabeled():
    x, mask = _batch(seed=1)
    pred, target = torch.randn_like(x), torch.randn_like(x)
    m = mask.numpy()[:, None, :].repeat(x.shape[1], axis=1)
    expected = np.mean((pred.numpy() - target.numpy())[m] ** 2)
    loss = masked_mse(pred, target, mask)
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6)

    pred2, target2 = pred.clone(), target.clone()
    unl = ~mask.unsqueeze(1).expand_as(pred)
    pred2[unl] = torch.randn(int(unl.sum())) * 1e3
    target2[unl] = float("nan")
    target2[0, 0, ~mask[0]] = float("inf")
    assert masked_mse(pred2, target2, mask).item() == loss.item()
    assert masked_mse(pred, target, mask.float()).item() == loss.item()  # 0/1 masks work too

    p = pred2.clone().requires_grad_(True)
    masked_mse(p, target2, mask).backward()
    assert torch.isfinite(p.grad).all() and (p.grad[unl] == 0).all()


def test_baseline_loss_is_naive_loss():
    g = np.random.default_rng(3)
    data = g.normal(size=(4, 31, N_NEURONS)).astype(np.float32)
    labeled = g.random((4, N_NEURONS)) < 0.3
    x, y = data[:, :-1], data[:, 1:]
    naive = np.concatenate([((y[b] - x[b])[:, labeled[b]] ** 2).ravel() for b in range(4)]).mean()
    mask = torch.from_numpy(labeled)
    pred = Baseline()(torch.from_numpy(x), mask)
    np.testing.assert_allclose(masked_mse(pred, torch.from_numpy(y), mask).item(), naive,
                               rtol=1e-6)


# ----------------------------------------------------------------------------- forward

@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_output_shape_and_unlabeled_inputs_are_ignored(name):
    model = _small(name)
    x, mask = _batch()
    out = model(x, mask)
    assert out.shape == x.shape and out.dtype == torch.float32
    x2 = x.clone()
    x2[~mask.unsqueeze(1).expand_as(x)] = 123.0
    torch.testing.assert_close(model(x2, mask), out, rtol=0, atol=0)


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("name", TRAINABLE)
def test_causality(name, grad):
    """Perturbing inputs at t >= k leaves outputs at t < k unchanged (eval mode)."""
    model = _small(name)
    x, mask = _batch(t=20)
    k = 9
    x2 = x.clone()
    x2[:, k:] += torch.randn_like(x2[:, k:]) * 3
    with torch.set_grad_enabled(grad):
        out, out2 = model(x, mask), model(x2, mask)
    torch.testing.assert_close(out2[:, :k], out[:, :k], rtol=0, atol=1e-5)
    assert not torch.allclose(out2[:, k:], out[:, k:])


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
def test_sequence_models_use_the_past(name):
    model = _small(name)
    x, mask = _batch(t=12)
    x2 = x.clone()
    x2[:, 0, mask[0]] += 5.0
    assert not torch.allclose(model(x2, mask)[:, -1], model(x, mask)[:, -1])


def test_memoryless_models_act_per_time_step():
    x, mask = _batch(t=12)
    for name in ("linear", "feedforward"):
        model = _small(name)
        torch.testing.assert_close(model(x, mask)[:, 5:6], model(x[:, 5:6], mask))


def test_initialisation_details():
    lstm = build_model("lstm", 12)
    w_hh = lstm.lstm.weight_hh_l0.detach()
    torch.testing.assert_close(w_hh.T @ w_hh, torch.eye(12), atol=1e-5, rtol=0)
    assert (lstm.lstm.bias_ih_l0 == 0).all() and (lstm.lstm.bias_hh_l0 == 0).all()
    ctrnn = build_model("ctrnn", 12)
    assert ctrnn.alpha.shape == (1, 12) and (ctrnn.alpha == 1).all()
    tr = build_model("transformer", 8).train(False)
    z = torch.ones(1, 5, 8)
    torch.testing.assert_close(tr.pos(z) - tr.pos(torch.zeros_like(z)),
                               torch.full_like(z, 8 ** 0.5))
    assert tr.layer.norm_first and tr.layer.linear1.out_features == 8


# ----------------------------------------------------------------------------- generation

@pytest.mark.parametrize("name", ["baseline", "feedforward", *SEQUENCE_MODELS])
def test_generate_shape_and_determinism(name):
    model = _small(name).train(True)
    context, mask = _batch(b=2, t=15)
    a = generate(model, context, mask, n_new=6, context_window=8)
    b = generate(model, context, mask, n_new=6, context_window=8)
    assert a.shape == (2, 6, N_NEURONS)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert model.training  # previous mode restored
    assert a.min() >= context.min() - 1e-6 and a.max() <= context.max() + 1e-6  # batch clamp


def test_generate_baseline_repeats_last_step_and_uses_window():
    context, _ = _batch(b=2, t=10)
    mask = torch.ones(2, N_NEURONS, dtype=torch.bool)
    out = generate(Baseline(), context, mask, n_new=4, context_window=180, clamp="none")
    torch.testing.assert_close(out, context[:, -1:].expand(2, 4, N_NEURONS))

    class LastMean(torch.nn.Module):  # prediction = mean of the visible window
        def forward(self, x, mask):
            return x.mean(dim=1, keepdim=True).expand_as(x)

    out = generate(LastMean(), context, mask, n_new=1, context_window=3, clamp="none")
    torch.testing.assert_close(out[:, 0], context[:, -3:].mean(dim=1))
