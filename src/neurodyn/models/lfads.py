"""LFADS with coordinated dropout (CD) and sample validation (SV) as a LightningModule.

Architecture and loss follow ``arsedler9/lfads-torch`` as restated in the project spec
(``specs/lfads.md`` §1, CD/SV §2.5): bidirectional clipped-GRU encoders for the initial
condition (IC) and the controller inputs (CI, lagged by ``ci_lag``), a controller GRU emitting
inferred inputs u(t) with an AR(1) prior, a generator GRU, kernel-normalised factors and a
Poisson readout of log-rates; Gaussian IC prior; KL and L2 penalties with per-epoch ramps;
``loss = loss_scale · (recon + ramp_l2·L2 + ramp_kl·(kl_ic_scale·KL_ic + kl_co_scale·KL_co))``
with the reconstruction NLL averaged over elements.

Stable API (used by LFADS and AutoLFADS)
----------------------------------------
``LFADS(hparams: dict)``
    Build from a flat dict; missing keys take :data:`DEFAULT_HPARAMS` (unknown keys are an
    error). Data sizes: ``encod_data_dim`` (held-in neurons), ``recon_data_dim`` (held-in +
    held-out), ``encod_seq_len`` (observed bins), ``recon_seq_len`` (observed + forward).
    Tunable HPs: ``lr_init``, ``dropout_rate``, ``cd_rate`` (= 1 − CD keep ratio),
    ``kl_ic_scale``, ``kl_co_scale``, ``l2_gen_scale``, ``l2_con_scale``,
    ``l2_ic_enc_scale``, ``l2_ci_enc_scale``, ``weight_decay``. ``sv_rate`` must match the
    dataset's stored SV mask (0 = SV off).
``LFADS.hparams_for_data(arrays, **overrides)``
    The dict above with the data sizes filled in from :func:`neurodyn.io.spikes.split_arrays`.
``model.set_hparams(**changes)``
    Change tunable HPs between epochs (e.g. after a PBT clone). Dropout/CD/penalties are read
    at every step; a *changed* ``lr_init`` becomes the current learning rate (pushed into the
    optimizer now and at every epoch start, so it also survives a checkpoint restore).
LR decay on plateau (lfads-torch's ``ReduceLROnPlateau``, threshold 0)
    When ``lr_monitor`` (``valid/recon_heldin_smth`` ≙ lfads-torch's ``valid/recon_smth``) has
    not improved for over ``lr_patience`` epochs, the LR is multiplied by ``lr_decay`` (floor
    ``lr_stop``; 1 = off); LR and plateau state are kept in checkpoints.
``training_step`` / ``validation_step``
    Batches are dicts (:class:`neurodyn.models.lfads_data.LFADSDataModule`): ``encod_data``
    (B, T_enc, N_in), ``recon_data`` (B, T_rec, N_rec), ``sv_mask`` (B, T_enc, N_in, bool),
    optional ``ext_input``. Logged per epoch (Lightning ``callback_metrics`` and
    ``model.history``): see :mod:`neurodyn.models.lfads_metrics`.
``neurodyn.models.lfads_inference.infer_rates(model, arrays, n_samples=..)``
    Posterior-averaged rates (counts per bin) of every trial, in ``recon_data`` neuron order.
Train with the shared trainer (``neurodyn.train.trainer.make_trainer``) and
``gradient_clip_val=GRAD_CLIP`` (the spec's clipping, 200); batches from
:class:`neurodyn.models.lfads_data.LFADSDataModule`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from neurodyn.models.lfads_layers import (
    BidirectionalEncoder,
    ClippedGRU,
    block_gradients,
    draw_noise,
    kl_ar1,
    kl_ic,
    l2_penalty,
    masked,
    noise_plan,
    pad_mask,
    ramp,
)
from neurodyn.models.lfads_metrics import EpochMetrics, close_epoch, lr_state

DEFAULT_HPARAMS: dict[str, Any] = {
    # data sizes (filled from the data)
    "encod_data_dim": 50, "recon_data_dim": 50, "encod_seq_len": 100, "recon_seq_len": 100,
    "ext_input_dim": 0,
    # architecture
    "ic_enc_dim": 64, "ci_enc_dim": 64, "ci_lag": 1, "con_dim": 64, "co_dim": 4,
    "ic_dim": 64, "gen_dim": 200, "fac_dim": 100, "cell_clip": 5.0,
    # priors / posteriors
    "ic_prior_var": 0.1, "ic_post_var_min": 1e-4, "co_prior_tau": 10.0, "co_prior_nvar": 0.1,
    # regularisation (tunable)
    "dropout_rate": 0.3, "cd_rate": 0.3, "cd_pass_rate": 0.0, "sv_rate": 0.0,
    "l2_ic_enc_scale": 0.0, "l2_ci_enc_scale": 0.0, "l2_gen_scale": 0.0, "l2_con_scale": 0.0,
    "kl_ic_scale": 1e-7, "kl_co_scale": 1e-7,
    "l2_start_epoch": 0, "l2_increase_epoch": 80, "kl_start_epoch": 0, "kl_increase_epoch": 80,
    # optimisation
    "lr_init": 4e-3, "weight_decay": 0.0, "loss_scale": 1e4, "variational": True,
    "smoothing_coef": 0.7,
    # LR decay on plateau (lfads-torch configs/model defaults)
    "lr_decay": 0.95, "lr_patience": 6, "lr_stop": 1e-5, "lr_monitor": "valid/recon_heldin_smth",
}
TUNABLE = ("lr_init", "dropout_rate", "cd_rate", "cd_pass_rate", "kl_ic_scale", "kl_co_scale",
           "l2_gen_scale", "l2_con_scale", "l2_ic_enc_scale", "l2_ci_enc_scale",
           "weight_decay", "l2_start_epoch", "l2_increase_epoch", "kl_start_epoch",
           "kl_increase_epoch")
GRAD_CLIP = 200.0


# -------------------------------------------------------------------------------- model
class LFADS(L.LightningModule):
    """LFADS with CD and SV (see the module docstring for the API)."""

    def __init__(self, hparams: Mapping[str, Any]) -> None:
        super().__init__()
        unknown = sorted(set(hparams) - set(DEFAULT_HPARAMS))
        if unknown:
            raise ValueError(f"unknown LFADS hyperparameters: {unknown}")
        hp = {**DEFAULT_HPARAMS, **dict(hparams)}
        self.save_hyperparameters(hp)
        h = self.hparams
        self.use_con = h.ci_enc_dim > 0 and h.con_dim > 0 and h.co_dim > 0
        self.ic_enc = BidirectionalEncoder(h.encod_data_dim, h.ic_enc_dim, h.cell_clip)
        self.ic_linear = nn.Linear(2 * h.ic_enc_dim, 2 * h.ic_dim)
        if self.use_con:
            self.ci_enc = BidirectionalEncoder(h.encod_data_dim, h.ci_enc_dim, h.cell_clip)
            self.con = ClippedGRU(2 * h.ci_enc_dim + h.fac_dim, h.con_dim, clip=h.cell_clip,
                                  encoder_init=False)
            self.con_h0 = nn.Parameter(torch.zeros(1, 1, h.con_dim))
            self.co_linear = nn.Linear(h.con_dim, 2 * h.co_dim)
            self.co_log_tau = nn.Parameter(torch.full((h.co_dim,), math.log(h.co_prior_tau)))
            self.co_log_nvar = nn.Parameter(torch.full((h.co_dim,), math.log(h.co_prior_nvar)))
        gen_in = (h.co_dim if self.use_con else 0) + h.ext_input_dim
        self.gen = ClippedGRU(max(gen_in, 1), h.gen_dim, clip=h.cell_clip, encoder_init=False)
        self.ic_to_g0 = nn.Linear(h.ic_dim, h.gen_dim)
        self.fac_weight = nn.Parameter(torch.randn(h.fac_dim, h.gen_dim) / math.sqrt(h.gen_dim))
        self.readout = nn.Linear(h.fac_dim, h.recon_data_dim)
        self.ic_prior_mean = nn.Parameter(torch.zeros(h.ic_dim))
        for lin in (self.ic_linear, self.ic_to_g0, self.readout,
                    *([self.co_linear] if self.use_con else [])):
            nn.init.normal_(lin.weight, std=1 / math.sqrt(lin.in_features))
            nn.init.zeros_(lin.bias)
        self.history: list[dict[str, float]] = []
        self._metrics = EpochMetrics(float(h.smoothing_coef))
        self._lr = lr_state(h.lr_init)

    # ---------------------------------------------------------------- construction helpers
    @staticmethod
    def hparams_for_data(arrays: Mapping[str, np.ndarray], **overrides: Any) -> dict[str, Any]:
        """Hyperparameters with data sizes taken from :func:`split_arrays` output."""
        enc, rec = arrays["encod_data"], arrays["recon_data"]
        hp = {**DEFAULT_HPARAMS, "encod_data_dim": enc.shape[2], "recon_data_dim": rec.shape[2],
              "encod_seq_len": enc.shape[1], "recon_seq_len": rec.shape[1]}
        hp.update(overrides)
        return hp

    def set_hparams(self, **changes: Any) -> None:
        """Change tunable hyperparameters between epochs (PBT explore/exploit)."""
        bad = sorted(set(changes) - set(TUNABLE))
        if bad:
            raise ValueError(f"not tunable between epochs: {bad} (tunable: {list(TUNABLE)})")
        if "lr_init" in changes and float(changes["lr_init"]) != float(self.hparams.lr_init):
            self._lr.update(lr=float(changes["lr_init"]), bad_epochs=0)
        self.hparams.update(changes)
        self._apply_lr()

    @property
    def current_lr(self) -> float:
        """The learning rate of the next epoch (``lr_init`` after plateau decays)."""
        return float(self._lr["lr"])

    def _apply_lr(self) -> None:
        trainer = getattr(self, "_trainer", None)
        if trainer is None:
            return
        for opt in trainer.optimizers:
            for group in opt.param_groups:
                group["lr"] = self.current_lr

    # ---------------------------------------------------------------------- forward pass
    def noise(self, batch: int, sample: bool, cd: bool = False, kl: bool = False
              ) -> dict[str, Tensor]:
        """This step's random draws (dropout/CD masks, posterior samples) from torch's RNG."""
        plan = noise_plan(self.hparams, batch, training=self.training, sample=sample, cd=cd,
                          kl=kl)
        return draw_noise(plan, self.fac_weight.device, self.fac_weight.dtype)

    def forward(self, encod: Tensor, ext_input: Tensor | None = None,
                sample_posteriors: bool = True, noise: Mapping[str, Tensor] | None = None
                ) -> dict[str, Tensor]:
        """encod (B, T_enc, N_in), already masked/scaled → outputs (log-rates, factors, …).

        ``noise``: this step's draws (:meth:`noise`; drawn here when not given)."""
        h = self.hparams
        batch, t_rec = encod.shape[0], h.recon_seq_len
        nz = self.noise(batch, sample_posteriors) if noise is None else noise
        x = masked(encod, nz.get("drop_in"))
        ic_final, _ = self.ic_enc(x, outputs=False)
        ic_params = self.ic_linear(masked(ic_final, nz.get("drop_ic")))
        ic_mean, ic_logvar = ic_params.chunk(2, dim=-1)
        ic_std = torch.sqrt(torch.exp(ic_logvar) + h.ic_post_var_min)
        ic = ic_mean + ic_std * nz["eps_ic"] if sample_posteriors else ic_mean
        g = self.ic_to_g0(ic)
        fac_w = self.fac_weight / self.fac_weight.norm(dim=1, keepdim=True)
        f = masked(g, nz.get("drop_g0")) @ fac_w.T
        factors, co_means, co_stds = [], [], []
        if self.use_con:
            _, ci = self.ci_enc(x, outputs=True)  # (B, T_enc, 2, H)
            lag = int(h.ci_lag)
            fwd, bwd = ci[:, :, 0], ci[:, :, 1]
            if lag > 0:
                fwd = torch.cat([torch.zeros_like(fwd[:, :lag]), fwd[:, :-lag]], dim=1)
                bwd = torch.cat([bwd[:, lag:], torch.zeros_like(bwd[:, :lag])], dim=1)
            ci = torch.cat([fwd, bwd], dim=-1)
            ci = F.pad(ci, (0, 0, 0, t_rec - ci.shape[1]))
            ci_w = self.con.weight_ih[0, : 2 * h.ci_enc_dim]
            fac_in_w = self.con.weight_ih[0, 2 * h.ci_enc_dim:]
            ci_proj = (masked(ci, nz.get("drop_ci")) @ ci_w + self.con.bias_ih[0]).unbind(1)
            con_hh = self.con.split_hh()
            con_drop = nz.get("con_drop")
            c = self.con_h0.expand(-1, batch, -1)
        ext = None
        if h.ext_input_dim > 0:
            if ext_input is None:
                raise ValueError("ext_input_dim > 0 but no ext_input was given")
            ext = masked(F.pad(ext_input, (0, 0, 0, t_rec - ext_input.shape[1])),
                         nz.get("drop_ext"))
            ext = ext.unbind(1)
        gen_hh = self.gen.split_hh()
        gen_drop = nz.get("gen_drop")
        n_gen, n_con = h.gen_dim, h.con_dim
        gen_h = g[None]
        for t in range(t_rec):
            inputs = []
            if self.use_con:
                f_in = f if con_drop is None else f * con_drop[t]
                con_in = ci_proj[t] + f_in @ fac_in_w
                c = self.con.step(*con_in[None].split([2 * n_con, n_con], -1), c, con_hh)
                co_mean, co_logvar = self.co_linear(c[0]).chunk(2, dim=-1)
                co_std = torch.exp(0.5 * co_logvar)
                co = co_mean + co_std * nz["eps_co"][t] if sample_posteriors else co_mean
                co_means.append(co_mean)
                co_stds.append(co_std)
                inputs.append(co)
            if ext is not None:
                inputs.append(ext[t])
            gen_in = (inputs[0] if len(inputs) == 1 else torch.cat(inputs, -1) if inputs
                      else encod.new_zeros(batch, 1))
            gen_proj = gen_in @ self.gen.weight_ih[0] + self.gen.bias_ih[0]
            gen_h = self.gen.step(*gen_proj[None].split([2 * n_gen, n_gen], -1), gen_h, gen_hh)
            # dropout on the copy that feeds the factors only, as in LFADS and lfads-torch:
            # the generator's state carries on undropped
            f = (gen_h[0] if gen_drop is None else gen_h[0] * gen_drop[t]) @ fac_w.T
            factors.append(f)
        fac = torch.stack(factors, dim=1)
        out = {"log_rates": self.readout(fac), "factors": fac, "ic_mean": ic_mean,
               "ic_std": ic_std}
        if self.use_con:
            out["co_means"] = torch.stack(co_means, 1)
            out["co_stds"] = torch.stack(co_stds, 1)
        return out

    # --------------------------------------------------------------------------- losses
    def l2_penalty(self) -> Tensor:
        """Σ scale·½‖W_hh‖² / Σ numel over the penalised recurrent matrices."""
        h = self.hparams
        groups = [(h.l2_ic_enc_scale, self.ic_enc.gru.recurrent_weights()),
                  (h.l2_gen_scale, self.gen.recurrent_weights())]
        if self.use_con:
            groups += [(h.l2_ci_enc_scale, self.ci_enc.gru.recurrent_weights()),
                       (h.l2_con_scale, self.con.recurrent_weights())]
        return l2_penalty(groups, self.fac_weight)

    def kl_terms(self, out: Mapping[str, Tensor], eps: Tensor | None = None
                 ) -> tuple[Tensor, Tensor]:
        """KL of the IC and of the inferred inputs (``eps``: the AR(1) KL's sample)."""
        if not self.hparams.variational:
            zero = out["log_rates"].new_zeros(())
            return zero, zero
        k_ic = kl_ic(out["ic_mean"], out["ic_std"], self.ic_prior_mean,
                     math.log(self.hparams.ic_prior_var))
        k_co = (kl_ar1(out["co_means"], out["co_stds"], self.co_log_tau, self.co_log_nvar, eps)
                if self.use_con else out["log_rates"].new_zeros(()))
        return k_ic, k_co

    def shared_step(self, batch: Mapping[str, Tensor], split: str,
                    cd_keep: Tensor | None = None, block: bool = True
                    ) -> tuple[Tensor, dict[str, Tensor], dict[str, Tensor]]:
        """Loss, metrics and outputs of one batch (spec §2.5).

        ``cd_keep`` overrides the fresh CD keep mask (tests); ``block=False`` disables the
        gradient blocking (tests check that the loss value is unchanged).
        """
        h = self.hparams
        encod, recon = batch["encod_data"], batch["recon_data"]
        sv_rate = float(h.sv_rate)
        sv = batch["sv_mask"].to(encod.dtype) if sv_rate > 0 else torch.ones_like(encod)
        x = encod * sv / (1 - sv_rate)
        train_cd = split == "train" and (h.cd_rate > 0 or cd_keep is not None)
        sample = bool(h.variational)
        nz = self.noise(encod.shape[0], sample, cd=train_cd, kl=True)
        if train_cd:
            keep = nz["cd_keep"] if cd_keep is None else cd_keep.bool()
            pas = nz.get("cd_pass", torch.zeros_like(keep))
            cd_scale = 1.0 / (1.0 - float(h.cd_rate)) if h.cd_rate > 0 else 1.0
            x = x * keep.to(x.dtype) * cd_scale
            grad_region = sv * ((~keep) | pas).to(x.dtype)
        else:
            grad_region = sv
        out = self(x, batch.get("ext_input"), sample_posteriors=sample, noise=nz)
        nll = F.poisson_nll_loss(out["log_rates"], recon, log_input=True, full=True,
                                 reduction="none")
        weight = pad_mask(sv / (1 - sv_rate), nll.shape)
        weighted = nll * weight
        if block:
            weighted = block_gradients(weighted, pad_mask(grad_region, nll.shape))
        recon_heldin = weighted.mean()
        metrics = {"recon_heldin": recon_heldin.detach()}
        enc_nll = nll[:, : encod.shape[1], : encod.shape[2]].detach()
        metrics["recon_sv"] = ((enc_nll * (1 - sv)).mean() / sv_rate if sv_rate > 0
                               else torch.tensor(float("nan")))
        k_ic, k_co = self.kl_terms(out, nz.get("eps_kl"))
        l2 = self.l2_penalty()
        epoch = int(self.current_epoch)
        r_l2 = ramp(epoch, h.l2_start_epoch, h.l2_increase_epoch)
        r_kl = ramp(epoch, h.kl_start_epoch, h.kl_increase_epoch)
        loss = h.loss_scale * (recon_heldin + r_l2 * l2
                               + r_kl * (h.kl_ic_scale * k_ic + h.kl_co_scale * k_co))
        metrics.update(loss=loss.detach(), kl_ic=k_ic.detach(), kl_co=k_co.detach(),
                       l2=l2.detach())
        return loss, metrics, out

    # ------------------------------------------------------------------ Lightning hooks
    def training_step(self, batch: Mapping[str, Tensor], batch_idx: int) -> Tensor:
        loss, metrics, _ = self.shared_step(batch, "train")
        metrics.pop("recon_sv")  # the SV metric comes from sample_validation(), not from here
        self._accumulate("train", metrics, batch["encod_data"].shape[0])
        return loss

    def validation_step(self, batch: Mapping[str, Tensor], batch_idx: int) -> None:
        _, metrics, _ = self.shared_step(batch, "valid")
        self._accumulate("valid", metrics, batch["encod_data"].shape[0])

    def _accumulate(self, split: str, metrics: Mapping[str, Tensor], n: int) -> None:
        self._metrics.add(split, metrics, n)

    def _finish(self, split: str) -> dict[str, float]:
        return self._smoothed(self._metrics.finish(split))

    def _smoothed(self, out: dict[str, float]) -> dict[str, float]:
        return self._metrics.smoothed(out)

    def on_train_epoch_start(self) -> None:
        self._apply_lr()

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            self._metrics.discard("valid")
            return
        self._valid_epoch = self._finish("valid")
        for key, value in self._valid_epoch.items():
            self.log(key, value, prog_bar=False)

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if batch_idx + 1 >= self.trainer.num_training_batches:
            self._end_train_epoch()

    def _end_train_epoch(self) -> None:
        """Log the epoch's training metrics after its last batch, before validation, so every
        callback's ``on_train_epoch_end`` (progress line, metrics CSV) sees this epoch's."""
        self._train_epoch = self._finish("train")
        if float(self.hparams.sv_rate) > 0:  # the SV metric: a separate evaluation pass
            from neurodyn.models.lfads_inference import sample_validation, training_batches

            sv = sample_validation(self, training_batches(self.trainer))
            self._train_epoch.update(self._smoothed({"train/recon_sv": sv}))
        for key, value in self._train_epoch.items():
            self.log(key, value)

    def on_train_epoch_end(self) -> None:
        if self._metrics.pending("train"):  # the last batch did not close the epoch
            self._end_train_epoch()
        close_epoch(self.history, self._lr, int(self.current_epoch),
                    {**getattr(self, "_train_epoch", {}), **getattr(self, "_valid_epoch", {})},
                    self.hparams, TUNABLE)
        self._train_epoch, self._valid_epoch = {}, {}

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        h = self.hparams
        r_l2 = ramp(int(self.current_epoch), h.l2_start_epoch, h.l2_increase_epoch)
        for group in optimizer.param_groups:
            group["weight_decay"] = float(h.weight_decay) * r_l2

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.parameters(), lr=float(self.hparams.lr_init),
                                 betas=(0.9, 0.999), eps=1e-8,
                                 weight_decay=float(self.hparams.weight_decay))

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["lfads_history"] = [dict(r) for r in self.history]
        checkpoint["lfads_smoothed"] = self._metrics.state()
        checkpoint["lfads_hparams"] = dict(self.hparams)
        checkpoint["lfads_lr"] = dict(self._lr)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.history = [dict(r) for r in checkpoint.get("lfads_history", [])]
        self._metrics.load(checkpoint.get("lfads_smoothed", {}))
        self.hparams.update(checkpoint.get("lfads_hparams", {}))
        self._lr = dict(checkpoint.get("lfads_lr", lr_state(self.hparams.lr_init)))
