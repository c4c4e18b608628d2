"""LFADS with coordinated dropout and sample validation (spec §2.5)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neurodyn.io.spikes import assemble_spikes, make_sv_mask, split_arrays
from neurodyn.models.lfads import GRAD_CLIP, LFADS, block_gradients, ramp
from neurodyn.models.lfads_inference import infer_rates
from neurodyn.train.device import TrainSettings
from neurodyn.train.trainer import make_trainer

SMALL = dict(ic_enc_dim=8, ci_enc_dim=8, con_dim=8, co_dim=2, ic_dim=6, gen_dim=12, fac_dim=5,
             dropout_rate=0.0, kl_ic_scale=1e-3, kl_co_scale=1e-3, l2_gen_scale=1e-2,
             l2_con_scale=1e-2, variational=False)


def _batch(b=6, t=12, n=7, seed=0, sv_rate=0.0):
    g = torch.Generator().manual_seed(seed)
    spikes = torch.poisson(torch.full((b, t, n), 0.7), generator=g)
    sv = torch.as_tensor(make_sv_mask((b, t, n), sv_rate, seed)) if sv_rate else \
        torch.ones(b, t, n, dtype=torch.bool)
    return {"encod_data": spikes, "recon_data": spikes.clone(), "sv_mask": sv}


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    hp = dict(encod_data_dim=7, recon_data_dim=7, encod_seq_len=12, recon_seq_len=12,
              **{**SMALL, **kw})
    return LFADS(hp)


def _plain_loss(model, batch):
    """LFADS loss written without any CD/SV machinery."""
    h = model.hparams
    out = model(batch["encod_data"], sample_posteriors=bool(h.variational))
    recon = F.poisson_nll_loss(out["log_rates"], batch["recon_data"], log_input=True,
                               full=True, reduction="mean")
    k_ic, k_co = model.kl_terms(out)
    r = ramp(0, h.kl_start_epoch, h.kl_increase_epoch)
    return h.loss_scale * (recon + ramp(0, h.l2_start_epoch, h.l2_increase_epoch)
                           * model.l2_penalty() + r * (h.kl_ic_scale * k_ic
                                                       + h.kl_co_scale * k_co))


def _grads(model, loss):
    model.zero_grad()
    loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("variational", [False, True])
def test_cd_sv_off_equals_plain_model(variational):
    batch = _batch()
    model = _model(cd_rate=0.0, sv_rate=0.0, variational=variational, dropout_rate=0.2)
    torch.manual_seed(11)
    loss, _, _ = model.shared_step(batch, "train")
    g_cd = _grads(model, loss)
    torch.manual_seed(11)
    plain = _plain_loss(model, batch)
    g_plain = _grads(model, plain)
    assert torch.equal(loss.detach(), plain.detach())
    assert g_cd.keys() == g_plain.keys()
    for name in g_cd:
        assert torch.allclose(g_cd[name], g_plain[name], rtol=1e-6, atol=1e-9), name


def _lograte_grad(model, batch, cd_keep=None, block=True):
    captured = {}
    forward = model.forward

    def hooked(*args, **kwargs):
        out = forward(*args, **kwargs)
        out["log_rates"].retain_grad()
        captured["out"] = out
        return out

    model.forward = hooked
    loss, _, _ = model.shared_step(batch, "train", cd_keep=cd_keep, block=block)
    model.forward = forward
    loss.backward()
    return loss, captured["out"]["log_rates"].grad


def test_gradients_zero_at_cd_kept_and_sv_heldout():
    sv_rate = 0.3
    batch = _batch(sv_rate=sv_rate)
    model = _model(cd_rate=0.4, sv_rate=sv_rate)
    keep = torch.rand(batch["encod_data"].shape, generator=torch.Generator().manual_seed(3)) \
        >= 0.4
    _, grad = _lograte_grad(model, batch, cd_keep=keep)
    sv = batch["sv_mask"]
    assert (~sv).any() and keep.any() and (~keep & sv).any()
    assert torch.all(grad[keep] == 0)
    assert torch.all(grad[~sv] == 0)
    assert torch.count_nonzero(grad[~keep & sv]) > 0.9 * int((~keep & sv).sum())


def test_cd_loss_value_equals_unblocked_value():
    batch = _batch()
    model = _model(cd_rate=0.3)
    keep = torch.rand(batch["encod_data"].shape, generator=torch.Generator().manual_seed(5)) \
        >= 0.3
    blocked, _, _ = model.shared_step(batch, "train", cd_keep=keep, block=True)
    free, _, _ = model.shared_step(batch, "train", cd_keep=keep, block=False)
    assert torch.equal(blocked, free)
    # the blocking changes gradients (the test can fail if blocking were a no-op)
    g_b, g_f = _grads(model, blocked), _grads(model, free)
    assert any(not torch.allclose(g_b[k], g_f[k]) for k in g_b)


def test_block_gradients_is_value_preserving():
    x = torch.randn(5, requires_grad=True)
    m = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0])
    y = block_gradients(x * 2, m)
    assert torch.equal(y, x.detach() * 2)
    y.sum().backward()
    assert torch.equal(x.grad, 2 * m)


def test_sv_mask_identical_for_same_seed_and_differs_otherwise():
    a = make_sv_mask((20, 10, 6), 0.2, seed=7)
    b = make_sv_mask((20, 10, 6), 0.2, seed=7)
    c = make_sv_mask((20, 10, 6), 0.2, seed=8)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert abs(1 - a.mean() - 0.2) < 0.05


def test_sv_metric_and_tunable_hparams_in_a_short_fit(tmp_path):
    rng = np.random.default_rng(0)
    n_trial, t, n = 24, 12, 7
    ds = assemble_spikes(rng.poisson(1.0, (n_trial, t, n)), dataset="toy", bin_width_s=0.01,
                         condition=np.zeros(n_trial), split=["train"] * 18 + ["valid"] * 6,
                         synthetic=True)
    from neurodyn.io.spikes import add_sv_mask
    from neurodyn.models.lfads_data import LFADSDataModule

    ds = add_sv_mask(ds, 0.25, seed=1)
    train, valid = split_arrays(ds, "train"), split_arrays(ds, "valid")
    model = LFADS(LFADS.hparams_for_data(train, **{**SMALL, "sv_rate": 0.25, "cd_rate": 0.3}))
    trainer, _ = make_trainer(TrainSettings(), max_epochs=2, gradient_clip_val=GRAD_CLIP)
    trainer.fit(model, LFADSDataModule(train, valid, batch_size=9))
    assert len(model.history) == 2
    rec = model.history[-1]
    for key in ("train/recon_sv", "train/recon_sv_smth", "valid/recon_heldin_smth",
                "valid/recon_sv"):
        assert np.isfinite(rec[key]), key
    assert "train/recon_sv_smth" in trainer.callback_metrics
    model.set_hparams(lr_init=1e-4, dropout_rate=0.2, kl_co_scale=1e-2)
    assert trainer.optimizers[0].param_groups[0]["lr"] == 1e-4
    with pytest.raises(ValueError, match="not tunable"):
        model.set_hparams(gen_dim=3)
    out = infer_rates(model, valid, n_samples=2)
    assert out["rates"].shape == valid["recon_data"].shape and (out["rates"] > 0).all()


def test_sv_metric_is_a_separate_evaluation_pass_over_the_training_trials():
    """``train/recon_sv`` is the held-out-sample cost of the *training* trials computed at the
    epoch's end weights in eval mode (no CD, no dropout), not averaged over training steps."""
    from neurodyn.models.lfads_data import LFADSDataModule

    sv_rate = 0.25
    train, valid = _toy_split(n_trial=30, sv_rate=sv_rate)
    model = LFADS(LFADS.hparams_for_data(train, **{**SMALL, "sv_rate": sv_rate, "cd_rate": 0.3,
                                                   "dropout_rate": 0.3, "lr_init": 0.05}))
    trainer, _ = make_trainer(TrainSettings(progress=False), max_epochs=1,
                              gradient_clip_val=GRAD_CLIP)
    trainer.fit(model, LFADSDataModule(train, valid, batch_size=5))
    model.eval()
    sv = torch.as_tensor(train["sv_mask"]).float()
    x = torch.as_tensor(train["encod_data"], dtype=torch.float32)
    with torch.no_grad():
        out = model(x * sv / (1 - sv_rate), sample_posteriors=False)
    nll = F.poisson_nll_loss(out["log_rates"], torch.as_tensor(train["recon_data"]).float(),
                             log_input=True, full=True, reduction="none")
    expected = float((nll * (1 - sv)).mean() / sv_rate)
    rec = model.history[0]
    assert rec["train/recon_sv"] == pytest.approx(expected, rel=1e-5)
    assert rec["train/recon_sv_smth"] == pytest.approx(expected, rel=1e-5)
    # validation trials' held-out samples stay a metric of their own
    assert rec["valid/recon_sv"] != pytest.approx(expected, rel=1e-3)


def test_fit_resumes_from_last_checkpoint_like_an_uninterrupted_fit(tmp_path):
    from neurodyn.lfads.grid import ModelSpec
    from neurodyn.lfads.run import fit_lfads

    rng = np.random.default_rng(1)
    ds = assemble_spikes(rng.poisson(1.0, (20, 12, 7)), dataset="toy", bin_width_s=0.01,
                         condition=np.zeros(20), split=["train"] * 15 + ["valid"] * 5,
                         synthetic=True)
    train, valid = split_arrays(ds, "train"), split_arrays(ds, "valid")
    spec = ModelSpec("m", "search", "standard", 0, 3, {**SMALL, "cd_rate": 0.3,
                                                        "dropout_rate": 0.1})
    cfg, settings = {"max_epochs": 2, "batch_size": 8}, TrainSettings(progress=False)
    first, _ = fit_lfads(spec, train, valid, cfg, settings, tmp_path / "a")
    assert (tmp_path / "a/last.ckpt").exists() and len(first.history) == 2
    assert (tmp_path / "a/metrics.csv").read_text().count("\n") == 3  # header + 2 epochs
    resumed, best_a = fit_lfads(spec, train, valid, {**cfg, "max_epochs": 3}, settings,
                                tmp_path / "a")
    assert [r["epoch"] for r in resumed.history] == [0, 1, 2]
    assert resumed.history[1]["valid/recon_heldin"] == first.history[1]["valid/recon_heldin"]
    straight, best_b = fit_lfads(spec, train, valid, {**cfg, "max_epochs": 3}, settings,
                                 tmp_path / "b")
    assert best_a == best_b
    assert straight.history[2]["train/loss"] == resumed.history[2]["train/loss"]
    assert straight.history[2]["valid/recon_heldin"] == resumed.history[2]["valid/recon_heldin"]
    assert straight.history[2]["train/recon_heldin"] < straight.history[0]["train/recon_heldin"]
    for key, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key


def test_generator_dropout_drops_the_factor_path_only():
    """A dropout mask on the generator hides that step's factors but never the state that the
    generator carries to the next step (LFADS / lfads-torch)."""
    model = _model(ci_enc_dim=0, con_dim=0, co_dim=0, dropout_rate=0.5).train()
    encod = _batch()["encod_data"]
    noise = model.noise(encod.shape[0], sample=False)
    assert noise["gen_drop"].shape == (12, encod.shape[0], 12)

    def with_first_mask(first: float):
        m = torch.ones_like(noise["gen_drop"])  # only the generator mask varies
        m[0] = first
        return {"gen_drop": m}

    kept = model(encod, sample_posteriors=False, noise=with_first_mask(1.0))["factors"]
    dropped = model(encod, sample_posteriors=False, noise=with_first_mask(0.0))["factors"]
    assert torch.all(dropped[:, 0] == 0) and not torch.all(kept[:, 0] == 0)
    torch.testing.assert_close(dropped[:, 1:], kept[:, 1:])


def _toy_split(seed=1, n_trial=20, sv_rate=0.0):
    rng = np.random.default_rng(seed)
    ds = assemble_spikes(rng.poisson(1.0, (n_trial, 12, 7)), dataset="toy", bin_width_s=0.01,
                         condition=np.zeros(n_trial),
                         split=["train"] * (n_trial - 5) + ["valid"] * 5, synthetic=True)
    if sv_rate:
        from neurodyn.io.spikes import add_sv_mask

        ds = add_sv_mask(ds, sv_rate, seed=1)
    return split_arrays(ds, "train"), split_arrays(ds, "valid")


def test_plateau_step_follows_reduce_lr_on_plateau():
    from neurodyn.models.lfads_layers import plateau_step

    state = {"lr": 1.0, "best": float("inf"), "bad_epochs": 0}
    lrs = []
    for value in (5, 4, 4, 4.5, 3.9, 4, 4, 4, 4, 4, 4, float("nan"), 4):
        plateau_step(state, value, decay=0.5, patience=2, stop=0.3)
        lrs.append(state["lr"])
    # patience 2: the 3rd epoch in a row without a new best (threshold 0) decays; floor 0.3
    assert lrs == [1, 1, 1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3]


def test_lr_decays_after_a_plateau_and_a_new_pbt_lr_takes_effect():
    """A monitored metric that never improves (constant, by construction) decays the LR of
    the optimizer after ``lr_patience`` + 1 epochs; a PBT ``set_hparams(lr_init=…)`` then sets
    it, and an unchanged ``lr_init`` keeps the decayed rate."""
    from lightning.pytorch.callbacks import Callback

    from neurodyn.models.lfads_data import LFADSDataModule

    class SeenLR(Callback):
        def __init__(self):
            self.lrs = []

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if batch_idx == 0:
                self.lrs.append(trainer.optimizers[0].param_groups[0]["lr"])

    train, valid = _toy_split()
    model = LFADS(LFADS.hparams_for_data(train, **SMALL, lr_init=0.01, lr_decay=0.5,
                                         lr_patience=1, lr_stop=1e-3,
                                         lr_monitor="hp/dropout_rate"))
    seen = SeenLR()
    trainer, _ = make_trainer(TrainSettings(progress=False), max_epochs=6, callbacks=[seen],
                              gradient_clip_val=GRAD_CLIP)
    trainer.fit(model, LFADSDataModule(train, valid, batch_size=8))
    assert seen.lrs == pytest.approx([0.01, 0.01, 0.01, 0.005, 0.005, 0.0025])
    assert [r["lr"] for r in model.history] == pytest.approx(seen.lrs)
    model.set_hparams(lr_init=0.01)  # unchanged lr_init: the decayed rate stays
    assert model.current_lr == pytest.approx(0.0025)
    model.set_hparams(lr_init=0.02)  # a PBT member's new lr takes effect at once
    assert trainer.optimizers[0].param_groups[0]["lr"] == 0.02 and model.current_lr == 0.02


@pytest.mark.parametrize(("arm", "metric"), [("standard", "valid/recon_heldin_smth"),
                                             ("sv", "train/recon_sv_smth")])
def test_fit_evaluates_the_best_epoch_of_the_arm_metric(tmp_path, monkeypatch, arm, metric):
    """With the arm's selection metric forced to be lowest at epoch 1 of 4, the returned
    weights are those at the end of epoch 1, not the last ones, and the record says so."""
    from neurodyn.lfads.grid import ModelSpec
    from neurodyn.lfads.run import _final, fit_lfads

    forced = [3.0, 1.0, 2.0, 4.0]
    smoothed, epoch_end = LFADS._smoothed, LFADS.on_train_epoch_end
    snapshots = []

    def fake_smoothed(self, out):
        out = smoothed(self, out)
        if metric in out:
            out[metric] = forced[self.current_epoch]
        return out

    def snapshot_end(self):
        epoch_end(self)
        snapshots.append({k: v.detach().clone() for k, v in self.state_dict().items()})

    monkeypatch.setattr(LFADS, "_smoothed", fake_smoothed)
    monkeypatch.setattr(LFADS, "on_train_epoch_end", snapshot_end)
    sv_rate = 0.25 if arm == "sv" else 0.0
    train, valid = _toy_split(sv_rate=sv_rate)
    spec = ModelSpec("m", "search", arm, 0, 3, {**SMALL, "sv_rate": sv_rate})
    model, best_epoch = fit_lfads(spec, train, valid, {"max_epochs": 4, "batch_size": 8},
                                  TrainSettings(progress=False), tmp_path)
    assert best_epoch == 1 and len(model.history) == 4
    assert (tmp_path / "best.ckpt").exists()
    state = model.state_dict()
    for key, value in snapshots[1].items():
        assert torch.equal(value, state[key]), key
    assert any(not torch.equal(v, state[k]) for k, v in snapshots[-1].items())
    assert _final(model, best_epoch)[metric.replace("/", "_")] == 1.0
