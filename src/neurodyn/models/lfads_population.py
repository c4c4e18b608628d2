"""A population of LFADS models with different tunable HPs as one batched module.

Every parameter of :class:`neurodyn.models.lfads.LFADS` is stacked along a leading member axis
(P, *shape); the forward pass, the losses and their metrics are computed for all members at
once with batched matmuls (``bmm``/``baddbmm``); members never interact, so member p trained
in a population follows the trajectory of the same lone model (same initial weights, same
batches, same random draws from :func:`neurodyn.models.lfads_layers.noise_plan`) up to
floating-point summation order. Per member: every tunable HP of ``LFADS.TUNABLE`` plus
``sv_rate`` and the LR-plateau keys; shared: the architecture, data sizes, priors, loss scale.
Inputs are (P, B, ...) — each member sees its own batch (its own shuffle) of the same size.

    pop = LFADSPopulation([LFADS(hp_0), LFADS(hp_1), ...])
    loss, metrics = pop.shared_step(batch, "train", noise, epochs)  # metrics: (P,) each
    loss.backward()                                   # the sum of the members' losses

Training (optimizer per member, LR plateau, best epoch, dropping/replacing members):
:mod:`neurodyn.models.lfads_population_fit`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from neurodyn.models.lfads import DEFAULT_HPARAMS, LFADS, TUNABLE
from neurodyn.models.lfads_layers import masked, ramp

MEMBER_KEYS = (*TUNABLE, "sv_rate", "lr_decay", "lr_patience", "lr_stop", "lr_monitor")
SHARED_KEYS = tuple(k for k in DEFAULT_HPARAMS if k not in MEMBER_KEYS)
# (scale key, stacked recurrent matrices) of the L2 penalty (spec §1.7)
L2_GROUPS = (("l2_ic_enc_scale", "ic_enc.gru.weight_hh"), ("l2_gen_scale", "gen.weight_hh"),
             ("l2_ci_enc_scale", "ci_enc.gru.weight_hh"), ("l2_con_scale", "con.weight_hh"))
NOISE_DEFAULT = {"keep": 1.0, "pass": 0.0, "drop": 1.0}
PROJ_CHUNK = 1 << 22  # floats (16 MB) per chunk of encoder input projections


def _key(name: str) -> str:
    return name.replace(".", "__")


def _gru_step(x_zr: Tensor, x_n: Tensor, h: Tensor, w_zr: Tensor, w_n: Tensor,
              clip: float) -> Tensor:
    """:meth:`ClippedGRU.step` for stacked (member × direction) cells."""
    z, r = torch.sigmoid(torch.baddbmm(x_zr, h, w_zr)).chunk(2, dim=-1)
    n = torch.tanh(torch.baddbmm(x_n, r * h, w_n))
    return torch.clamp(torch.addcmul(n, z, h - n), -clip, clip)


def poisson_stirling(counts: Tensor) -> Tensor:
    """The Stirling term that ``poisson_nll_loss(full=True)`` adds (0 where counts ≤ 1)."""
    term = counts * torch.log(counts) - counts + 0.5 * torch.log(2 * math.pi * counts)
    return term.masked_fill(counts <= 1, 0)


class LFADSPopulation(nn.Module):
    """P LFADS models (same architecture, own weights and HPs) as one module."""

    def __init__(self, models: Sequence[LFADS]) -> None:
        super().__init__()
        if not models:
            raise ValueError("a population needs at least one model")
        first = dict(models[0].hparams)
        self.shared = {k: first[k] for k in SHARED_KEYS}
        for m in models[1:]:
            diff = [k for k in SHARED_KEYS if m.hparams[k] != first[k]]
            if diff:
                raise ValueError(f"population members must share {diff}")
        self.use_con = models[0].use_con
        self.names = [n for n, _ in models[0].named_parameters()]
        for name in self.names:
            stacked = torch.stack([dict(m.named_parameters())[name].detach() for m in models])
            self.register_parameter(_key(name), nn.Parameter(stacked.clone()))
        self.hps: list[dict[str, Any]] = [{k: m.hparams[k] for k in MEMBER_KEYS}
                                          for m in models]

    # ------------------------------------------------------------------------ members
    @property
    def size(self) -> int:
        return len(self.hps)

    def w(self, name: str) -> Tensor:
        view = self.__dict__.get("_view")
        return view[name] if view is not None else getattr(self, _key(name))

    def members_view(self, start: int, stop: int) -> LFADSPopulation:
        """Members ``start:stop`` as a population sharing these weights (slices; for
        evaluation passes in member groups)."""
        view = copy.copy(self)
        view._view = {name: self.w(name)[start:stop] for name in self.names}
        view.hps = self.hps[start:stop]
        return view

    def member_hparams(self, p: int) -> dict[str, Any]:
        return {**self.shared, **self.hps[p]}

    def member_state(self, p: int) -> dict[str, Tensor]:
        """Member p's weights as a lone model's ``state_dict`` (copies)."""
        return {name: self.w(name)[p].detach().clone() for name in self.names}

    def member_model(self, p: int, state: Mapping[str, Tensor] | None = None) -> LFADS:
        """A lone :class:`LFADS` with member p's HPs and weights (or ``state``)."""
        model = LFADS(self.member_hparams(p))
        model.load_state_dict(dict(state if state is not None else self.member_state(p)))
        return model

    @torch.no_grad()
    def load_member(self, p: int, model: LFADS) -> None:
        """Replace member p by ``model`` (weights and HPs; same architecture)."""
        diff = [k for k in SHARED_KEYS if model.hparams[k] != self.shared[k]]
        if diff:
            raise ValueError(f"a replacement must share {diff}")
        params = dict(model.named_parameters())
        for name in self.names:
            self.w(name)[p].copy_(params[name])
        self.hps[p] = {k: model.hparams[k] for k in MEMBER_KEYS}

    def keep_members(self, keep: Sequence[int]) -> None:
        """Drop every member not in ``keep`` (in that order); new parameter tensors."""
        index = torch.as_tensor(list(keep), dtype=torch.long)
        for name in self.names:
            old = self.w(name)
            setattr(self, _key(name), nn.Parameter(old.detach()[index].clone()))
        self.hps = [self.hps[i] for i in keep]

    def hp_tensor(self, key: str, ref: Tensor) -> Tensor:
        """Member values of one HP as a (P,) tensor like ``ref``."""
        return torch.tensor([float(h[key]) for h in self.hps], dtype=ref.dtype,
                            device=ref.device)

    # ---------------------------------------------------------------------- forward
    def _lin(self, name: str, x: Tensor) -> Tensor:
        """nn.Linear of every member: x (P, ..., in) → (P, ..., out)."""
        weight, bias = self.w(f"{name}.weight"), self.w(f"{name}.bias")
        flat = x.reshape(x.shape[0], -1, x.shape[-1])
        out = torch.baddbmm(bias[:, None], flat, weight.transpose(1, 2))
        return out.reshape(*x.shape[:-1], weight.shape[1])

    def _encode(self, prefix: str, x: Tensor, outputs: bool
                ) -> tuple[Tensor, tuple[Tensor, Tensor] | None]:
        """Bidirectional encoder of every member: x (P, B, T, I) → final (P, B, 2H) and, if
        ``outputs``, the forward and backward state sequences (P, B, T, H) each."""
        n_p, batch, t, n_in = x.shape
        w_ih, w_hh = self.w(f"{prefix}.gru.weight_ih"), self.w(f"{prefix}.gru.weight_hh")
        hsz = w_hh.shape[-2]
        bias = self.w(f"{prefix}.gru.bias_ih").reshape(2 * n_p, 1, 3 * hsz)
        w_ih = w_ih.reshape(2 * n_p, n_in, 3 * hsz)
        w_hh = w_hh.reshape(2 * n_p, hsz, 3 * hsz)
        w_zr, w_n = w_hh[..., : 2 * hsz], w_hh[..., 2 * hsz:]
        h = self.w(f"{prefix}.h0").reshape(2 * n_p, 1, hsz).expand(-1, batch, -1)
        clip = float(self.shared["cell_clip"])
        seq = []
        # input projections of both directions in time chunks of at most PROJ_CHUNK floats
        # (large populations and evaluation batches: no multi-100-MB temporaries)
        chunk = max(1, min(t, PROJ_CHUNK // (2 * n_p * batch * 3 * hsz)))
        for t0 in range(0, t, chunk):
            t1 = min(t, t0 + chunk)
            both = torch.stack([x[:, :, t0:t1], x[:, :, t - t1:t - t0].flip(2)], 1)
            proj = torch.baddbmm(bias, both.reshape(2 * n_p, -1, n_in), w_ih)
            proj = proj.reshape(2 * n_p, batch, t1 - t0, 3 * hsz)
            proj_zr, proj_n = proj.split([2 * hsz, hsz], -1)  # split: no zero-filled grads
            for x_zr, x_n in zip(proj_zr.unbind(2), proj_n.unbind(2), strict=True):
                h = _gru_step(x_zr, x_n, h, w_zr, w_n, clip)
                if outputs:
                    seq.append(h)
        last = h.reshape(n_p, 2, batch, hsz)
        final = torch.cat([last[:, 0], last[:, 1]], dim=-1)
        if not outputs:
            return final, None
        out = torch.stack(seq, dim=2).reshape(n_p, 2, batch, t, hsz)
        return final, (out[:, 0], out[:, 1].flip(2))

    def forward(self, encod: Tensor, ext_input: Tensor | None, sample: bool,
                noise: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """encod (P, B, T_enc, N_in), masked/scaled; ``noise`` stacked (P, ...) draws."""
        h, nz = self.shared, noise
        n_p, batch, t_rec = encod.shape[0], encod.shape[1], int(h["recon_seq_len"])
        clip = float(h["cell_clip"])
        x = masked(encod, nz.get("drop_in"))
        ic_final, _ = self._encode("ic_enc", x, outputs=False)
        ic_mean, ic_logvar = self._lin("ic_linear", masked(ic_final, nz.get("drop_ic"))
                                       ).chunk(2, dim=-1)
        ic_std = torch.sqrt(torch.exp(ic_logvar) + h["ic_post_var_min"])
        ic = ic_mean + ic_std * nz["eps_ic"] if sample else ic_mean
        g = self._lin("ic_to_g0", ic)
        fac_w = self.w("fac_weight")
        fac_wt = (fac_w / fac_w.norm(dim=2, keepdim=True)).transpose(1, 2)  # (P, G, F)
        f = torch.bmm(masked(g, nz.get("drop_g0")), fac_wt)
        factors, co_means, co_stds = [], [], []
        if self.use_con:
            _, seqs = self._encode("ci_enc", x, outputs=True)
            fwd, bwd = seqs  # type: ignore[misc]
            lag = int(h["ci_lag"])
            if lag > 0:
                fwd = torch.cat([torch.zeros_like(fwd[:, :, :lag]), fwd[:, :, :-lag]], dim=2)
                bwd = torch.cat([bwd[:, :, lag:], torch.zeros_like(bwd[:, :, :lag])], dim=2)
            ci = F.pad(torch.cat([fwd, bwd], dim=-1), (0, 0, 0, t_rec - fwd.shape[2]))
            n_ci, n_con = 2 * int(h["ci_enc_dim"]), int(h["con_dim"])
            con_ih = self.w("con.weight_ih")[:, 0]
            ci_proj = torch.baddbmm(self.w("con.bias_ih")[:, 0],
                                    masked(ci, nz.get("drop_ci")).reshape(n_p, -1, n_ci),
                                    con_ih[:, :n_ci]).reshape(n_p, batch, t_rec, 3 * n_con)
            ci_proj_t = ci_proj.unbind(2)
            fac_in_w = con_ih[:, n_ci:]
            con_hh = self.w("con.weight_hh")[:, 0]
            con_zr, con_n = con_hh[..., : 2 * n_con], con_hh[..., 2 * n_con:]
            con_drop = nz.get("con_drop")
            c = self.w("con_h0").reshape(n_p, 1, n_con).expand(-1, batch, -1)
        ext = None
        if h["ext_input_dim"] > 0:
            if ext_input is None:
                raise ValueError("ext_input_dim > 0 but no ext_input was given")
            ext = masked(F.pad(ext_input, (0, 0, 0, t_rec - ext_input.shape[2])),
                         nz.get("drop_ext")).unbind(2)
        n_gen = int(h["gen_dim"])
        gen_ih, gen_b = self.w("gen.weight_ih")[:, 0], self.w("gen.bias_ih")[:, 0]
        gen_hh = self.w("gen.weight_hh")[:, 0]
        gen_zr, gen_n = gen_hh[..., : 2 * n_gen], gen_hh[..., 2 * n_gen:]
        gen_drop = nz.get("gen_drop")
        gen_h = g
        for t in range(t_rec):
            inputs = []
            if self.use_con:
                f_in = f if con_drop is None else f * con_drop[:, t]
                con_in = ci_proj_t[t] + torch.bmm(f_in, fac_in_w)
                c = _gru_step(*con_in.split([2 * n_con, n_con], -1), c, con_zr, con_n, clip)
                co_mean, co_logvar = self._lin("co_linear", c).chunk(2, dim=-1)
                co_std = torch.exp(0.5 * co_logvar)
                co = co_mean + co_std * nz["eps_co"][:, t] if sample else co_mean
                co_means.append(co_mean)
                co_stds.append(co_std)
                inputs.append(co)
            if ext is not None:
                inputs.append(ext[t])
            gen_in = (inputs[0] if len(inputs) == 1 else torch.cat(inputs, -1) if inputs
                      else encod.new_zeros(n_p, batch, 1))
            gen_proj = torch.baddbmm(gen_b, gen_in, gen_ih)
            gen_h = _gru_step(*gen_proj.split([2 * n_gen, n_gen], -1), gen_h, gen_zr, gen_n,
                              clip)
            # dropout on the copy that feeds the factors only (as the lone model)
            f = torch.bmm(gen_h if gen_drop is None else gen_h * gen_drop[:, t], fac_wt)
            factors.append(f)
        fac = torch.stack(factors, dim=2)
        out = {"log_rates": self._lin("readout", fac), "factors": fac, "ic_mean": ic_mean,
               "ic_std": ic_std}
        if self.use_con:
            out["co_means"] = torch.stack(co_means, 2)
            out["co_stds"] = torch.stack(co_stds, 2)
        return out

    # ------------------------------------------------------------------------- losses
    def kl_terms(self, out: Mapping[str, Tensor], eps: Tensor | None) -> tuple[Tensor, Tensor]:
        """Per-member KL of the IC (analytic) and of the inferred inputs (AR(1), sampled)."""
        zero = out["log_rates"].new_zeros(out["log_rates"].shape[0])
        if not self.shared["variational"]:
            return zero, zero
        prior_logvar = math.log(self.shared["ic_prior_var"])
        mean, std = out["ic_mean"], out["ic_std"]
        k_ic = (0.5 * prior_logvar - torch.log(std)
                + (std ** 2 + (mean - self.w("ic_prior_mean")[:, None]) ** 2)
                / (2 * math.exp(prior_logvar)) - 0.5).sum(-1).mean(-1)
        if not self.use_con:
            return k_ic, zero
        mean, std = out["co_means"], out["co_stds"]  # (P, B, T, D)
        z = mean + std * eps
        log_q = -0.5 * ((z - mean) / std) ** 2 - torch.log(std) - 0.5 * math.log(2 * math.pi)
        alpha = torch.exp(-1.0 / torch.exp(self.w("co_log_tau")))[:, None, None]
        nvar = torch.exp(self.w("co_log_nvar"))[:, None, None]
        var0 = nvar / (1 - alpha ** 2)
        resid = torch.cat([z[:, :, :1], z[:, :, 1:] - alpha * z[:, :, :-1]], dim=2)
        var = torch.cat([var0.expand_as(z[:, :, :1]), nvar.expand_as(z[:, :, 1:])], dim=2)
        log_p = -0.5 * resid ** 2 / var - 0.5 * torch.log(var) - 0.5 * math.log(2 * math.pi)
        return k_ic, (log_q - log_p).sum((2, 3)).mean(1)

    def l2_penalty(self) -> Tensor:
        """Per-member Σ scale·½‖W_hh‖² / Σ numel over the penalised recurrent matrices."""
        ref = self.w("fac_weight")
        total, numel = ref.new_zeros(self.size), ref.new_zeros(self.size)
        for scale_key, name in L2_GROUPS:
            if not hasattr(self, _key(name)):
                continue
            scale = self.hp_tensor(scale_key, ref)
            w = self.w(name)
            total = total + scale * 0.5 * (w ** 2).reshape(self.size, -1).sum(1)
            numel = numel + (scale > 0).to(ref.dtype) * w[0].numel()
        return total / numel.clamp_min(1)

    def shared_step(self, batch: Mapping[str, Tensor], split: str,
                    noise: Mapping[str, Tensor], epochs: Sequence[int]
                    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Summed loss and per-member metrics (P,) of one stacked batch (LFADS.shared_step)."""
        encod, recon = batch["encod_data"], batch["recon_data"]
        ref = encod
        sv_rate = self.hp_tensor("sv_rate", ref)
        view = (-1, 1, 1, 1)
        # full-size mask arithmetic only when some member uses SV / CD (as the lone model,
        # whose masks are then all ones)
        sv = None
        x = encod
        if bool((sv_rate > 0).any()):
            sv = torch.where((sv_rate > 0).view(view), batch["sv_mask"].to(ref.dtype),
                             torch.ones_like(encod))
            x = encod * sv / (1 - sv_rate).view(view)
        grad_region = sv
        if split == "train" and "cd_keep" in noise:
            keep, pas = noise["cd_keep"], noise.get("cd_pass")
            cd_rate = self.hp_tensor("cd_rate", ref)
            scale = torch.where(cd_rate > 0, 1 / (1 - cd_rate), torch.ones_like(cd_rate))
            x = x * keep.to(x.dtype) * scale.view(view)
            blocked = ((~keep) if pas is None else (~keep) | pas).to(x.dtype)
            if sv is not None:
                blocked = sv * blocked
            grad_region = torch.where((cd_rate > 0).view(view), blocked,
                                      torch.ones_like(blocked) if sv is None else sv)
        sample = bool(self.shared["variational"])
        out = self(x, batch.get("ext_input"), sample, noise)
        if "stirling" in batch:  # the NLL's data-only term, precomputed (poisson_stirling)
            nll = F.poisson_nll_loss(out["log_rates"], recon, log_input=True, full=False,
                                     reduction="none") + batch["stirling"]
        else:
            nll = F.poisson_nll_loss(out["log_rates"], recon, log_input=True, full=True,
                                     reduction="none")
        t_enc, n_in = encod.shape[2], encod.shape[3]
        weighted = nll
        if sv is not None:
            weight = torch.ones_like(nll)
            weight[..., :t_enc, :n_in] = sv / (1 - sv_rate).view(view)
            weighted = nll * weight
        if grad_region is not None and weighted.requires_grad:
            # block_gradients(weighted, region) without its arithmetic: same value, the
            # gradient masked by the region
            region = torch.ones_like(nll)
            region[..., :t_enc, :n_in] = grad_region
            weighted = weighted * 1.0 if weighted is nll else weighted
            weighted.register_hook(lambda grad: grad * region)
        recon_heldin = weighted.mean((1, 2, 3))
        enc_nll = nll[..., :t_enc, :n_in].detach()
        recon_sv = torch.full_like(sv_rate, math.nan)
        if sv is not None:
            recon_sv = torch.where(sv_rate > 0, (enc_nll * (1 - sv)).mean((1, 2, 3))
                                   / sv_rate.clamp_min(1e-12), recon_sv)
        k_ic, k_co = self.kl_terms(out, noise.get("eps_kl"))
        l2 = self.l2_penalty()
        ramps = [(ramp(e, h["l2_start_epoch"], h["l2_increase_epoch"]),
                  ramp(e, h["kl_start_epoch"], h["kl_increase_epoch"]))
                 for e, h in zip(epochs, self.hps, strict=True)]
        r_l2 = torch.tensor([r[0] for r in ramps], dtype=ref.dtype, device=ref.device)
        r_kl = torch.tensor([r[1] for r in ramps], dtype=ref.dtype, device=ref.device)
        loss = float(self.shared["loss_scale"]) * (
            recon_heldin + r_l2 * l2 + r_kl * (self.hp_tensor("kl_ic_scale", ref) * k_ic
                                               + self.hp_tensor("kl_co_scale", ref) * k_co))
        metrics = {"loss": loss.detach(), "recon_heldin": recon_heldin.detach(),
                   "recon_sv": recon_sv, "kl_ic": k_ic.detach(), "kl_co": k_co.detach(),
                   "l2": l2.detach()}
        return loss.sum(), metrics
