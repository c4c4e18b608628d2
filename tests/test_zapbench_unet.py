"""The video UNet: causal in time, lead-time conditioning, segment averaging, variants."""

from pathlib import Path

import numpy as np
import pytest
import torch
from zapbench_helpers import tiny_recording, zapbench_config

from neurodyn.zapbench.fit import FitConfig, fit
from neurodyn.zapbench.grid import unet_settings
from neurodyn.zapbench.runs import VideoSource, run_unet, unet_forecast
from neurodyn.zapbench.synthetic import segment_means
from neurodyn.zapbench.unet import (
    SegmentAverager,
    UNetConfig,
    VideoUNet,
    lead_time_embedding,
)


def _randomise_film(model: torch.nn.Module) -> None:
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "film" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))


def test_segment_average_equals_per_label_mean():
    rng = np.random.default_rng(0)
    seg = rng.integers(0, 6, size=(2, 5, 4)).astype(np.int32)
    seg[0, 0, 0] = 7  # label 6 has no voxel
    frames = rng.normal(size=(3, 1, 2, 5, 4)).astype(np.float32)
    got = SegmentAverager(torch.from_numpy(seg), 7)(torch.from_numpy(frames)).numpy()[:, 0]
    for label in range(1, 8):
        voxels = seg == label
        expected = frames[:, 0][:, voxels].mean(axis=1) if voxels.any() else np.zeros(3)
        np.testing.assert_allclose(got[:, label - 1], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(segment_means(frames[:, 0], seg, 7)[:, :5], got[:, :5],
                               rtol=1e-5, atol=1e-6)


def test_lead_time_embedding_layout():
    e = lead_time_embedding(torch.tensor([0.0, 3.0]))
    assert e.shape == (2, 32)
    np.testing.assert_allclose(e[0, :16].numpy(), 1.0)  # cosines first
    np.testing.assert_allclose(e[0, 16:].numpy(), 0.0)
    assert float(e[1, 0]) == pytest.approx(np.cos(3.0))


def test_lead_time_conditioning_changes_output():
    model = VideoUNet(UNetConfig(context=3, features=8, groups=2, levels=1), (2, 8, 8)).eval()
    x = torch.randn(2, 3, 2, 8, 8)
    with torch.no_grad():
        same = model(x, torch.tensor([1.0, 1.0])), model(x, torch.tensor([9.0, 9.0]))
        np.testing.assert_allclose(*[t.numpy() for t in same], atol=1e-6)  # FiLM starts at 0
        _randomise_film(model)
        a, b = model(x, torch.tensor([1.0, 1.0])), model(x, torch.tensor([9.0, 9.0]))
    assert float((a - b).abs().max()) > 1e-3


@pytest.mark.parametrize("direct", [False, True])
def test_forecast_is_causal_in_time(tmp_path, direct):
    data = tiny_recording(tmp_path)
    settings = unet_settings({"features": 8, "groups": 2, "levels": 1, "blocks": 1}, {
        "direct": direct})
    model = VideoUNet(UNetConfig(context=4, features=8, groups=2, levels=1, direct=direct,
                                 horizon=8), data.video.shape[1:]).eval()
    _randomise_film(model)
    starts = torch.tensor([20, 30])
    with torch.no_grad():
        base = unet_forecast(model, VideoSource(data, settings), starts, 4, 8)
        future = data.video.copy()
        future[24:] += 5.0  # every frame from the first target of window 20 on
        from dataclasses import replace
        after = unet_forecast(model, VideoSource(replace(data, video=future), settings),
                              starts[:1], 4, 8)
        first = unet_forecast(model, VideoSource(data, settings), starts[:1], 4, 8)
        np.testing.assert_allclose(after.numpy(), first.numpy(), rtol=1e-5, atol=1e-6)
        past = data.video.copy()
        past[23] += 5.0  # the last context frame of window 20 does enter
        changed = unet_forecast(model, VideoSource(replace(data, video=past), settings),
                                starts[:1], 4, 8)
    assert float((changed - first).abs().max()) > 1e-3
    assert base.shape == (2, 8, data.n_neurons)


def test_coarse_input_gives_full_resolution_output():
    model = VideoUNet(UNetConfig(context=2, features=8, groups=2, levels=2,
                                 input_downsample=4), (2, 8, 8))
    assert model(torch.randn(1, 2, 2, 2, 2), torch.tensor([1.0])).shape == (1, 1, 2, 8, 8)


def test_unet_variants_run_and_mask_input(tmp_path):
    data = tiny_recording(tmp_path)
    extra = tiny_recording(tmp_path, seed=1)
    z = zapbench_config()
    u = z["unet"]
    masked = VideoSource(data, unet_settings(u["model"], {"input_mask": "segments"}))
    assert float(masked.inp[:, data.segmentation == 0].abs().max()) == 0.0
    for variant, spec in {"pretrain1": {"pretrain_specimens": 1, "loss": "trace"},
                          "base": {"holdout": True}}.items():
        rec = run_unet(data, [extra], variant, unet_settings(u["model"], spec), 4, 0, u,
                       tmp_path / variant)
        assert set(rec["metrics"]) == ({"test", "test_holdout"} if variant == "base"
                                       else {"test"})
        curve = rec["metrics"]["test"]["condition 0"]["mae"]
        assert len(curve) == 8 and np.isfinite(curve).all()
    assert "pretrain" in rec["fit"] or variant == "base"


def test_fit_resumes_from_checkpoint(tmp_path: Path):
    def make():
        torch.manual_seed(0)
        return torch.nn.Linear(3, 1)

    x = torch.randn(64, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])

    def train_loss(m, gen):
        idx = torch.randint(64, (8,), generator=gen)
        return (m(x[idx]) - y[idx]).abs().mean()

    def val_loss(m):
        return float((m(x) - y).abs().mean())

    cfg = FitConfig(max_steps=40, val_every=10, patience=100, lr=0.05)
    full = make()
    fit(full, train_loss, val_loss, cfg, seed=1)
    part = make()
    ckpt = tmp_path / "fit.pt"
    fit(part, train_loss, val_loss, FitConfig(max_steps=20, val_every=10, patience=100,
                                              lr=0.05), seed=1, checkpoint=ckpt)
    resumed = make()
    res = fit(resumed, train_loss, val_loss, cfg, seed=1, checkpoint=ckpt)
    assert res.steps == 40
    for a, b in zip(full.parameters(), resumed.parameters(), strict=True):
        torch.testing.assert_close(a, b)
