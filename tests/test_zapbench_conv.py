"""The UNet's 3³ convolution with its weight gradient taken as a convolution."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from neurodyn.zapbench.conv import SameConv3d
from neurodyn.zapbench.unet import UNetConfig, VideoUNet

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("shape", [(3, 5, 4, 7, 6), (2, 5, 2, 4, 4), (1, 5, 1, 1, 3)])
def test_gradients_equal_torch_conv3d(shape):
    """Input, weight and bias gradients equal nn.Conv3d's in float64 (odd and 1-voxel axes
    included, where the output-gradient kernel is smaller than the 3³ kernel)."""
    torch.manual_seed(0)
    ours = SameConv3d(5, 6).double()
    ref = torch.nn.Conv3d(5, 6, 3, padding=1).double()
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(shape, dtype=torch.float64)
    grad = torch.randn(shape[0], 6, *shape[2:], dtype=torch.float64)
    xs = [x.clone().requires_grad_(), x.clone().requires_grad_()]
    for conv, xi in zip((ours, ref), xs, strict=True):
        out = conv(xi)
        (out * grad).sum().backward()
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(xs[0].grad, xs[1].grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(ours.bias.grad, ref.bias.grad, rtol=1e-10, atol=1e-12)
    assert ours.weight.grad.abs().sum() > 0


def test_input_without_gradient_gets_none():
    conv = SameConv3d(2, 3).double()
    x = torch.randn(2, 2, 3, 4, 4, dtype=torch.float64)
    conv(x).sum().backward()
    assert conv.weight.grad is not None and conv.bias.grad is not None


def test_unet_gradients_equal_with_torch_backward(monkeypatch):
    """Every convolution of the UNet goes through SameConv3d, and the model's gradients are
    the same with torch's own backward (the switch off; float32: the lead-time embedding
    is float32)."""
    torch.manual_seed(1)
    model = VideoUNet(UNetConfig(context=3, features=8, groups=2), (2, 8, 6))
    assert not [m for m in model.modules()
                if isinstance(m, torch.nn.Conv3d) and not isinstance(m, SameConv3d)]
    x = torch.randn(2, 3, 2, 8, 6)
    lead = torch.tensor([1.0, 5.0])
    grads = []
    for as_conv in (True, False):
        monkeypatch.setattr(SameConv3d, "weight_grad_as_conv", as_conv)
        model.zero_grad()
        model(x, lead).square().mean().backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()
                      if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and "stem.weight" in grads[0]
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], rtol=1e-4, atol=1e-6)


def _digested(rules: str, name: str) -> set[str]:
    """The package paths of a ``code_version(...)`` list in the ZAPBench rule helpers."""
    body = re.search(rf"{name} = code_version\((.*?)\)", rules, re.S).group(1)
    core = re.search(r"_ZB_CORE = \((.*?)\)", rules, re.S).group(1)
    return set(re.findall(r'"([^"]+\.py)"', body + core))


def test_fit_keys_digest_every_study_module_the_training_imports():
    """A changed module that a fit runs must change the fit keys (no stale fits)."""
    code = ("import sys, neurodyn.zapbench.jobs, neurodyn.zapbench.runs; print(' '.join("
            "m.split('.')[-1] for m in sys.modules if m.startswith('neurodyn.zapbench.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    digested = _digested((ROOT / "rules/zapbench_helpers.smk").read_text(),
                         "ZAPBENCH_FIT_CODE")
    assert "conv" in out
    assert {f"zapbench/{m}.py" for m in out} <= digested
