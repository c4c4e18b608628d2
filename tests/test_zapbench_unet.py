"""The video UNet: causal in time, lead-time conditioning, segment averaging, variants."""

from pathlib import Path

import numpy as np
import pytest
import torch
from zapbench_helpers import tiny_recording, zapbench_config

from neurodyn.train.device import TrainSettings
from neurodyn.zapbench.compute import receptive_field_xy, unet_cost
from neurodyn.zapbench.fit import FitConfig, StepFit, fit
from neurodyn.zapbench.grid import finetune_lrs, unet_settings
from neurodyn.zapbench.runs import VideoSource, run_unet, unet_forecast
from neurodyn.zapbench.synthetic import segment_means
from neurodyn.zapbench.unet import (
    SegmentAverager,
    UNetConfig,
    VideoUNet,
    lead_time_embedding,
    pool_xy,
    upsample_xy,
)

CPU = TrainSettings(device="cpu")


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
        base = unet_forecast(model, VideoSource(data, settings, "cpu"), starts, 4, 8)
        future = data.video.copy()
        future[24:] += 5.0  # every frame from the first target of window 20 on
        from dataclasses import replace
        after = unet_forecast(model, VideoSource(replace(data, video=future), settings, "cpu"),
                              starts[:1], 4, 8)
        first = unet_forecast(model, VideoSource(data, settings, "cpu"), starts[:1], 4, 8)
        np.testing.assert_allclose(after.numpy(), first.numpy(), rtol=1e-5, atol=1e-6)
        past = data.video.copy()
        past[23] += 5.0  # the last context frame of window 20 does enter
        changed = unet_forecast(model, VideoSource(replace(data, video=past), settings, "cpu"),
                                starts[:1], 4, 8)
    assert float((changed - first).abs().max()) > 1e-3
    assert base.shape == (2, 8, data.n_neurons)


@pytest.mark.parametrize("xy", [(8, 8), (5, 7), (1, 6), (3, 1)])
def test_pooling_and_upsampling_equal_torch_ops(xy):
    """The reshape-based pooling/upsampling (deterministic gradients on CUDA) compute what
    avg_pool3d(ceil_mode) and nearest interpolation compute, values and gradients."""
    import torch.nn.functional as F

    x, y = xy
    h = torch.randn(2, 3, 2, x, y, requires_grad=True)
    kernel = (1, min(2, x), min(2, y))
    ours, ref = pool_xy(h), F.avg_pool3d(h, kernel, ceil_mode=True)
    torch.testing.assert_close(ours, ref)
    g = torch.randn_like(ref)
    grads = [torch.autograd.grad(out, h, g)[0] for out in (ours, ref)]
    torch.testing.assert_close(*grads)
    small = torch.randn(*ref.shape, requires_grad=True)
    for size in ((2, x, y), (2, 4 * ref.shape[3], 2 * ref.shape[4])):
        ours = upsample_xy(small, size)
        ref_up = F.interpolate(small, size=size, mode="nearest")
        torch.testing.assert_close(ours, ref_up)
        g = torch.randn_like(ref_up)
        torch.testing.assert_close(torch.autograd.grad(ours, small, g)[0],
                                   torch.autograd.grad(ref_up, small, g)[0])
    with pytest.raises(ValueError, match="whole factors"):
        upsample_xy(torch.zeros(1, 1, 1, 4, 4), (1, 21, 8))  # not voxel i // 6


def test_z_pooling_and_upsampling_equal_torch_ops():
    """From the second pooling on z is halved too (odd z: the last slice alone)."""
    import torch.nn.functional as F

    h = torch.randn(2, 3, 3, 5, 4, requires_grad=True)
    ours, ref = pool_xy(h, 2), F.avg_pool3d(h, (2, 2, 2), ceil_mode=True)
    torch.testing.assert_close(ours, ref)
    g = torch.randn_like(ref)
    torch.testing.assert_close(torch.autograd.grad(ours, h, g)[0],
                               torch.autograd.grad(ref, h, g)[0])
    torch.testing.assert_close(upsample_xy(ref, (3, 5, 4)),
                               F.interpolate(ref, size=(3, 5, 4), mode="nearest"))


def test_coarse_input_gives_full_resolution_output():
    model = VideoUNet(UNetConfig(context=2, features=8, groups=2, levels=2,
                                 input_downsample=4), (2, 8, 8))
    assert model(torch.randn(1, 2, 2, 2, 2), torch.tensor([1.0])).shape == (1, 1, 2, 8, 8)


def test_unet_variants_run_and_mask_input(tmp_path):
    data = tiny_recording(tmp_path)
    extra = tiny_recording(tmp_path, seed=1)
    z = zapbench_config()
    u = z["unet"]
    masked = VideoSource(data, unet_settings(u["model"], {"input_mask": "segments"}), "cpu")
    assert float(masked.inp[:, data.segmentation == 0].abs().max()) == 0.0
    for variant, spec in {"pretrain1": {"pretrain_specimens": 1, "loss": "trace"},
                          "base": {"holdout": True}}.items():
        rec = run_unet(data, [extra], variant, unet_settings(u["model"], spec), 4, 0, u,
                       train=CPU, workdir=tmp_path / variant)
        assert set(rec["metrics"]) == ({"test", "test_holdout"} if variant == "base"
                                       else {"test"})
        curve = rec["metrics"]["test"]["condition 0"]["mae"]
        assert len(curve) == 8 and np.isfinite(curve).all()
        assert ("pretrain" in rec["fit"]) == (variant != "base")
        assert (tmp_path / variant / "pretrain" / "last.ckpt").is_file() == (variant != "base")
        lrs = finetune_lrs(u)
        stages = ([f"finetune_lr{lr:g}" for lr in lrs] if variant != "base" and len(lrs) > 1
                  else ["train"])
        assert all((tmp_path / variant / st / "metrics.csv").is_file() for st in stages)
        settings = unet_settings(u["model"], spec)  # the record carries the cost tables' data
        assert rec["macs"] == unet_cost(settings, 4, 8, data.video.shape[1:])["macs"]
        assert rec["rf_xy"] == receptive_field_xy(settings)


def _test_mae(rec: dict) -> float:
    return float(np.mean([c["mae"] for c in rec["metrics"]["test"].values()]))


def test_unet_learns_and_pretraining_moves_its_starting_point(tmp_path):
    """Training lowers the validation and the test MAE well below the untrained network's;
    pre-training alone (no fine-tuning step) changes the forecasts, by learning on the extra
    specimen (its validation loss falls)."""
    data = tiny_recording(tmp_path)
    extra = tiny_recording(tmp_path, seed=1)
    u = zapbench_config()["unet"]
    base = unet_settings(u["model"], {})
    idle = {**u, "train": {**u["train"], "max_steps": 0}}
    untrained = run_unet(data, [], "base", base, 4, 0, idle, train=CPU)
    long = {**u, "train": {**u["train"], "max_steps": 80, "val_every": 20, "patience": 100,
                           "lr": 3e-3}}
    trained = run_unet(data, [], "base", base, 4, 0, long, train=CPU)
    assert trained["fit"]["best_val"] < 0.8 * trained["fit"]["initial_val"]
    assert _test_mae(trained) < 0.8 * _test_mae(untrained)
    pre = run_unet(data, [extra], "pretrain1", unet_settings(u["model"], {
        "pretrain_specimens": 1}), 4, 0, {**idle, "pretrain_steps": 40}, train=CPU)
    assert pre["fit"]["pretrain"]["best_val"] < 0.8 * untrained["fit"]["initial_val"]
    assert _test_mae(pre) < _test_mae(untrained)


def test_pretraining_uses_the_voxel_loss_and_fine_tuning_picks_its_lr_on_validation(
        tmp_path, monkeypatch):
    """Pre-training on the extra specimen optimises the voxel loss, fine-tuning the trace
    loss; each fine-tuning rate starts from the pre-trained weights and the kept one has the
    lowest validation loss of those tried (a rate too small to move is never kept)."""
    from neurodyn.zapbench import runs

    data = tiny_recording(tmp_path)
    extra = tiny_recording(tmp_path, seed=1)
    u = zapbench_config()["unet"]
    kinds: list[str] = []
    real_init, real_loss = runs.VideoSource.__init__, runs.VideoSource.loss

    def tag(self, d, settings, device):
        real_init(self, d, settings, device)
        self.on_extra = d is extra

    def spy(self, pred, frames, traces, kind):
        kinds.append((self.on_extra, kind))
        return real_loss(self, pred, frames, traces, kind)

    monkeypatch.setattr(runs.VideoSource, "__init__", tag)
    monkeypatch.setattr(runs.VideoSource, "loss", spy)
    ucfg = {**u, "pretrain_steps": 6, "finetune_lrs": [1e-12, 3e-3],
            "train": {**u["train"], "max_steps": 30, "val_every": 10, "patience": 100,
                      "lr": 1e-3}}
    rec = run_unet(data, [extra], "pretrain1", unet_settings(u["model"], {
        "pretrain_specimens": 1}), 4, 0, ucfg, train=CPU)
    assert {k for on_extra, k in kinds if on_extra} == {"voxel"}
    assert {k for on_extra, k in kinds if not on_extra} == {"trace"}
    tried = rec["fit"]["finetune"]["tried"]
    assert [t["lr"] for t in tried] == [1e-12, 3e-3]
    assert rec["fit"]["finetune"]["lr"] == 3e-3
    assert rec["fit"]["best_val"] == min(t["best_val"] for t in tried)
    assert tried[1]["best_val"] < tried[0]["best_val"]


def _toy_problem():
    x = torch.randn(64, 3, generator=torch.Generator().manual_seed(5))
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    calls = {"n": 0, "kill_after": None}

    def train_loss(m, gen):
        calls["n"] += 1
        if calls["kill_after"] is not None and calls["n"] > calls["kill_after"]:
            raise RuntimeError("job killed")
        idx = torch.randint(64, (8,), generator=gen)
        return (m(x[idx]) - y[idx]).abs().mean()

    def val_loss(m):
        with torch.no_grad():
            return float((m(x) - y).abs().mean())

    return train_loss, val_loss, calls


def _linear():
    torch.manual_seed(0)
    return torch.nn.Linear(3, 1)


def test_fit_learns_and_keeps_the_best_weights():
    train_loss, val_loss, _ = _toy_problem()
    model = _linear()
    res = fit(model, train_loss, val_loss, FitConfig(max_steps=60, val_every=10, patience=100,
                                                     lr=0.05), seed=1, settings=CPU)
    assert [s for s, _ in res.history] == [0, 10, 20, 30, 40, 50, 60]
    assert res.best_val < 0.5 * res.initial_val  # the loss fell
    assert res.best_val == min(v for _, v in res.history)
    assert val_loss(model) == pytest.approx(res.best_val)  # best weights restored


def test_fit_stops_early_and_keeps_initial_weights_when_nothing_helps():
    train_loss, val_loss, _ = _toy_problem()
    model = _linear()
    before = [p.detach().clone() for p in model.parameters()]
    res = fit(model, train_loss, lambda m: 1.0, FitConfig(max_steps=100, val_every=10,
                                                         patience=3, lr=0.05),
              seed=1, settings=CPU)
    assert res.stopped_early and res.steps == 30 and res.best_step == 0
    for a, b in zip(before, model.parameters(), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("ema_decay", [0.0, 0.9])
def test_fit_resumes_a_killed_job_exactly(tmp_path: Path, ema_decay: float):
    cfg = FitConfig(max_steps=45, val_every=10, patience=100, lr=0.05, schedule="cosine",
                    ema_decay=ema_decay)
    train_loss, val_loss, calls = _toy_problem()
    full = _linear()
    res_full = fit(full, train_loss, val_loss, cfg, seed=1, settings=CPU,
                   workdir=tmp_path / "full")
    calls.update(n=0, kill_after=25)  # dies in round 3, after two checkpoints
    with pytest.raises(RuntimeError, match="job killed"):
        fit(_linear(), train_loss, val_loss, cfg, seed=1, settings=CPU,
            workdir=tmp_path / "part")
    assert (tmp_path / "part" / "last.ckpt").is_file()
    calls.update(kill_after=None)
    resumed = _linear()
    res = fit(resumed, train_loss, val_loss, cfg, seed=1, settings=CPU,
              workdir=tmp_path / "part")
    assert res.steps == 45 and res.history == res_full.history
    for a, b in zip(full.parameters(), resumed.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    rows = (tmp_path / "part" / "metrics.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1.0", "2.0", "3.0", "4.0", "5.0"]


@pytest.mark.parametrize("which", ["default", "paper", "tiny"])
def test_reference_unet_trains_on_trace_loss(tmp_path, which):
    """The reference UNet optimises the trace MAE (paper: every model, "for a fair
    comparison"); the voxel loss is an ablation that changes nothing else."""
    from neurodyn.zapbench.grid import all_unet_settings
    from neurodyn.zapbench.results import differs_only_in

    z = zapbench_config(tiny=which == "tiny", paper=which == "paper")
    settings = all_unet_settings(z)
    ref = z["unet"]["reference"]
    assert settings[ref]["loss"] == "trace"
    assert unet_settings(z["unet"]["model"], {})["loss"] == "trace"  # the default
    if which != "tiny":  # the tiny test config runs no loss ablation
        ablations = [n for n in differs_only_in(settings, ref, ["loss"]) if n != ref]
        assert [settings[n]["loss"] for n in ablations] == ["voxel"]
    # the reference loss is the MAE of predicted segment means against the traces
    data = tiny_recording(tmp_path)
    src = VideoSource(data, settings[ref], "cpu")
    frames = torch.from_numpy(data.video[None, 10:12])
    traces = torch.from_numpy(data.traces[None, 10:12])
    pred = frames + 0.1 * torch.randn(frames.shape, generator=torch.Generator().manual_seed(0))
    got = float(src.loss(pred, frames, traces, settings[ref]["loss"]))
    want = float(np.abs(segment_means(pred[0].numpy(), data.segmentation, data.n_neurons)
                        - data.traces[10:12]).mean())
    assert got == pytest.approx(want, rel=1e-5)
    assert got != pytest.approx(float(src.loss(pred, frames, traces, "voxel")), rel=1e-3)


def test_long_context_variant_matches_the_paper():
    """Paper: the C = 256 UNet does not downsample beyond its input and uses dropout 0.1;
    every other variant keeps dropout 0."""
    from neurodyn.zapbench.grid import all_unet_settings, check

    z = zapbench_config(tiny=False, paper=True)
    check(z)
    settings = all_unet_settings(z)
    long = settings["long"]
    assert z["unet"]["variants"]["long"]["contexts"] == [256]
    assert (long["levels"], long["dropout"], long["input_downsample"]) == (0, 0.1, 1)
    assert {n: s["dropout"] for n, s in settings.items() if n != "long"} == dict.fromkeys(
        (n for n in settings if n != "long"), 0.0)
    model = VideoUNet(UNetConfig(context=8, features=8, groups=2, levels=long["levels"],
                                 dropout=long["dropout"]), (2, 6, 6))
    assert len(model.enc) == 1  # no pooling level
    assert {m.p for m in model.modules() if isinstance(m, torch.nn.Dropout3d)} == {0.1}
    assert "long" not in zapbench_config(tiny=False)["unet"]["run"]  # default: not run


def test_patience_met_at_the_step_cap_counts_as_stopped():
    """Validation flat for ``patience`` rounds exactly when the step cap is reached: the
    loss had stopped improving, so the fit is not one that was still improving at its cap."""
    train_loss, _, _ = _toy_problem()
    flat = fit(_linear(), train_loss, lambda m: 1.0, FitConfig(max_steps=30, val_every=10,
                                                               patience=3, lr=0.05),
               seed=1, settings=CPU)
    assert flat.stopped_early and flat.steps == 30
    short = fit(_linear(), train_loss, lambda m: 1.0, FitConfig(max_steps=20, val_every=10,
                                                                patience=3, lr=0.05),
                seed=1, settings=CPU)
    assert not short.stopped_early and short.steps == 20


def test_plateau_schedule_decays_the_lr_on_validation_plateaus_only():
    """lr halves after every 2 validations without improvement (kept after an improvement),
    never below lr × final_lr_factor; the other schedules ignore plateaus."""
    cfg = FitConfig(max_steps=100, val_every=10, patience=9, lr=0.1, schedule="plateau",
                    plateau_patience=2, plateau_factor=0.5, final_lr_factor=0.2)
    train_loss, _, _ = _toy_problem()
    module = StepFit(_linear(), train_loss, lambda m: 1.0, cfg, seed=0)
    lrs = []
    for step, val in enumerate([1.0, 0.9, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85, 0.85]):
        module._record(step, val)
        lrs.append(cfg.lr_at(step, module.plateaus))
    assert lrs == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02])
    assert FitConfig(lr=0.1).lr_at(5, plateaus=3) == 0.1


def test_fit_without_selection_keeps_the_last_weights():
    """select_best=False: no early stop and no return to earlier weights, whatever the
    validation loss (used when validation data is also trained on)."""
    train_loss, val_loss, _ = _toy_problem()
    model = _linear()
    before = [p.detach().clone() for p in model.parameters()]
    res = fit(model, train_loss, lambda m: 1.0, FitConfig(max_steps=40, val_every=10,
                                                         patience=1, lr=0.05,
                                                         select_best=False),
              seed=1, settings=CPU)
    assert not res.stopped_early and res.steps == 40 and res.best_step == 40
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_ema_validates_and_returns_the_moving_average_of_the_weights():
    """With ema_decay the training steps are unchanged; the weights validated and returned
    are ema ← d·ema + (1 − d)·w after every step, starting at the first step's weights."""
    d = 0.8
    runs = {}
    for decay in (0.0, d):
        train_loss, val_loss, _ = _toy_problem()
        seen: list[list[torch.Tensor]] = []

        def spy(m, gen, train_loss=train_loss, seen=seen):
            seen.append([p.detach().clone() for p in m.parameters()])
            return train_loss(m, gen)

        model = _linear()
        res = fit(model, spy, val_loss, FitConfig(max_steps=20, val_every=10, patience=100,
                                                  lr=0.05, select_best=False,
                                                  ema_decay=decay), seed=1, settings=CPU)
        runs[decay] = (seen, [p.detach().clone() for p in model.parameters()], res, val_loss)
    plain, averaged = runs[0.0], runs[d]
    for a, b in zip(plain[0], averaged[0], strict=True):  # same training trajectory
        for x, y in zip(a, b, strict=True):
            torch.testing.assert_close(x, y, rtol=0, atol=0)
    weights = plain[0][1:] + [plain[1]]  # w_1 .. w_20: the weights after each step
    ema = [w.clone() for w in weights[0]]
    for w in weights[1:]:
        ema = [d * e + (1 - d) * x for e, x in zip(ema, w, strict=True)]
    for got, want in zip(averaged[1], ema, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert any(not torch.allclose(a, b) for a, b in zip(averaged[1], plain[1], strict=True))
    model = _linear()
    with torch.no_grad():
        for p, e in zip(model.parameters(), ema, strict=True):
            p.copy_(e)
    assert averaged[2].history[-1][1] == pytest.approx(averaged[3](model), rel=1e-5)


def test_trainval_variant_never_selects_on_data_it_trained_on(tmp_path, monkeypatch):
    import neurodyn.zapbench.runs as runs

    data = tiny_recording(tmp_path)
    u = zapbench_config()["unet"]
    seen = []
    real_fit = runs.fit

    def spy(model, train_loss, val_loss, cfg, *args, **kwargs):
        seen.append((cfg.select_best, cfg.schedule))
        return real_fit(model, train_loss, val_loss, cfg, *args, **kwargs)

    monkeypatch.setattr(runs, "fit", spy)
    u = {**u, "train": {**u["train"], "schedule": "plateau"}}
    for split, select in (("train_val", False), ("train", True)):
        rec = run_unet(data, [], split, unet_settings(u["model"], {"train_split": split}), 4,
                       0, u, train=CPU)
        # no held-out validation: no plateau to decay on, a cosine over max_steps instead
        assert seen[-1] == (select, "plateau" if select else "cosine")
        assert rec["fit"]["selection"] == ("best validation" if select else "last step")
        if not select:
            assert rec["fit"]["best_step"] == rec["fit"]["steps"] == u["train"]["max_steps"]


@pytest.mark.parametrize("spec", [{}, {"input_mask": "segments", "input_downsample": 2}])
def test_streamed_video_gives_the_same_forecasts_and_reads_only_batch_frames(tmp_path, spec):
    """A lazily opened recording (the video read per batch from the file) trains and
    forecasts exactly as the in-memory one, reading only the frames a batch needs."""
    from neurodyn.zapbench.dataset import LazyVideo, open_video_dataset

    data = tiny_recording(tmp_path)
    lazy = open_video_dataset(tmp_path / "rec0.nc", lazy=True)
    assert isinstance(lazy.video, LazyVideo) and lazy.video.frames_read == 0
    settings = unet_settings({"features": 8, "groups": 2, "levels": 1, "blocks": 1}, spec)
    model = VideoUNet(UNetConfig(context=4, features=8, groups=2, levels=1, horizon=8,
                                 input_downsample=settings["input_downsample"]),
                      data.video.shape[1:]).eval()
    _randomise_film(model)
    starts = torch.tensor([20, 21, 60])
    with torch.no_grad():
        full = unet_forecast(model, VideoSource(data, settings, "cpu"), starts, 4, 8)
        streamed = unet_forecast(model, VideoSource(lazy, settings, "cpu"), starts, 4, 8)
    torch.testing.assert_close(streamed, full, rtol=1e-5, atol=1e-6)
    # per lead-time pass: inputs of windows 20, 21, 60 (frames 20..24 and 60..63) and
    # their 3 target frames; 8 passes, of a 500-frame video
    assert lazy.video.frames_read == 8 * (9 + 3) and data.video.shape[0] == 500
    lazy.video.close()
