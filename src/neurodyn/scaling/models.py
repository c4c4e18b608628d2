"""Model zoo of Simeon et al. 2024, "Scaling Properties for ANN Models of a Small Nervous System".

Every model maps an input window ``x`` (B, L, N = 302) and the labeled-neuron mask (B, N) to a
next-step prediction of the same shape (spec ``scaling.md`` §3)::

    x * mask  ->  embedding Linear(N -> h)  ->  core  ->  readout Linear(h -> N)

==============  =================================  =============================================
name            after the embedding                core
==============  =================================  =============================================
baseline        (no embedding, no readout)         identity: predicts x(t+1) = x(t)
linear          (h forced to N = 302)              identity: one linear map per time step
feedforward     —                                  z + Dropout(0.1)(ReLU(Linear(h, h)(z)))
ctrnn           LayerNorm(h)                       h <- (1-s)*h + s*ReLU(W_in z + W_hh h + b),
                                                   s = sigmoid(alpha), alpha in R^(1 x h), init 1
lstm            LayerNorm(h)                       nn.LSTM(h, h); W_ih xavier(gain 1.5),
                                                   W_hh orthogonal, biases 0
transformer     z*sqrt(h) + sinusoidal PE, drop    one pre-norm TransformerEncoderLayer, causal,
                                                   dim_feedforward = h, heads = largest of 5..1
                                                   dividing h, dropout 0.1, ReLU
attention       z*sqrt(h) + sinusoidal PE, drop    one causal nn.MultiheadAttention (no residual,
                                                   no FFN, no norm)
==============  =================================  =============================================

``transformer`` and ``attention`` round an odd ``h`` up to the next even number (the sinusoidal
encoding needs it). All sequence models are causal: the output at t depends on inputs <= t only;
hidden states start at zero in every call. There is no autocast here (the reference runs the
forward pass under fp16 autocast; that is the training harness's choice).
The loss is :func:`neurodyn.eval.losses.masked_mse`; the roll-out of Fig. 7 is
:func:`neurodyn.scaling.generation.generate`.

Parameter-count convention (:func:`count_parameters`)
-----------------------------------------------------
The paper's model-size axis (Table II) is the sum over ``named_parameters()`` of the reference
implementation, which registers modules it never uses in the forward pass. The modules here hold
only what their forward pass uses; :func:`count_parameters` adds the registered-but-unused part
(``unused_param_count``) so the totals equal the paper's:

* every model: embedding ``N*h + h`` + readout ``h*N + N`` + its core;
* ``LayerNorm(h)`` (``2h``) is registered in every reference model: used by CTRNN and LSTM,
  unused but counted for linear, feedforward, transformer and attention;
* transformer: the reference keeps the encoder layer *and* a 1-layer ``TransformerEncoder`` that
  deep-copies it, so the layer (``6h^2 + 10h`` with dim_feedforward = h) is counted twice;
* baseline: counted as 1, the dummy scalar the reference registers so that an optimiser can be
  built (Table II / spec §3.1). Strictly, ``named_parameters()`` of the reference NaivePredictor
  would also list its unused Linear(302, 302) embedding and LayerNorm(302) (92,111 in total); the
  baseline is a dashed line, never a point on the size axis, so the convention value is 1.

Closed forms with N = 302 (:func:`paper_param_count`)::

    feedforward  h^2 + 608h + 302      (h = 300: 272,702; h = 516: 580,286; h = 512: 573,742)
    ctrnn        2h^2 + 610h + 302     (h = 300: 363,302; h = 408: 582,110)
    lstm         8h^2 + 615h + 302     (h = 300: 904,802; h = 234: 582,260; h = 232: 573,574)
    transformer  12h^2 + 627h + 302    (h = 300: 1,268,402; h = 196: 584,186)
    attention    4h^2 + 611h + 302     (h = 300: 543,602; h = 312: 580,310)
    linear       2(N^2 + N) + 2N = 183,616 for every requested h, "h = 300" included (h is forced
                 to 302; without forcing, 607h + 302 would give 182,402 at h = 300)
    baseline     1
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import torch
from torch import Tensor, nn

N_NEURONS = 302
DROPOUT = 0.1
MAX_HEADS = 5
#: Hidden sizes of the ~580K-parameter models of the data-scaling experiment (paper Table II).
MATCHED_HIDDEN = {"feedforward": 516, "ctrnn": 408, "lstm": 234, "transformer": 196,
                  "attention": 312}
MATCHED_TARGET = 580_000


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------

def attention_heads(hidden: int) -> int:
    """Largest divisor of ``hidden`` among 5, 4, 3, 2, 1 (the reference's head count)."""
    return next(n for n in range(MAX_HEADS, 0, -1) if hidden % n == 0)


def causal_mask(length: int, device: torch.device | None = None,
                dtype: torch.dtype = torch.float32) -> Tensor:
    """Additive (L, L) mask: 0 on and below the diagonal, -inf above (no look-ahead)."""
    return nn.Transformer.generate_square_subsequent_mask(length, device=device, dtype=dtype)


def sinusoidal_encoding(length: int, dim: int) -> Tensor:
    """pe[t, 2i] = sin(t / 10000^(2i/dim)), pe[t, 2i+1] = cos(...); shape (length, dim)."""
    pos = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


class PositionalEncoding(nn.Module):
    """``dropout(z * sqrt(h) + pe[:L])``; the table is a non-persistent buffer (no parameters)."""

    def __init__(self, dim: int, dropout: float = DROPOUT, max_len: int = 1024):
        super().__init__()
        self.dim = dim
        self.scale = math.sqrt(dim)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pe", sinusoidal_encoding(max_len, dim), persistent=False)

    def forward(self, z: Tensor) -> Tensor:
        length = z.shape[-2]
        pe = self.pe if length <= self.pe.shape[0] else sinusoidal_encoding(length, self.dim)
        return self.dropout(z * self.scale + pe[:length].to(device=z.device, dtype=z.dtype))


def _even(hidden: int) -> int:
    return hidden + hidden % 2


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------

def _apply_mask(x: Tensor, mask: Tensor) -> Tensor:
    """``x`` (..., L, N) times the labeled mask (..., N), broadcast over time."""
    return x * mask.unsqueeze(-2).to(x.dtype)


class Baseline(nn.Module):
    """Naive predictor x(t+1) = x(t): returns the masked input. No parameters (counted as 1)."""

    def __init__(self, hidden: int | None = None, n_neurons: int = N_NEURONS):
        super().__init__()
        self.n_neurons = n_neurons
        self.hidden = n_neurons  # identity "hidden layer", as in the reference

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        return _apply_mask(x, mask)

    def unused_param_count(self) -> int:
        """The reference's dummy scalar parameter (see the module docstring)."""
        return 1


class ScalingModel(nn.Module):
    """Shared skeleton: mask -> embedding Linear(N, h) -> :meth:`core` -> readout Linear(h, N)."""

    #: Whether the core uses LayerNorm(h); if not, the reference's unused one is still counted.
    uses_layer_norm: ClassVar[bool] = False

    def __init__(self, hidden: int, n_neurons: int = N_NEURONS):
        super().__init__()
        if hidden < 1:
            raise ValueError(f"hidden must be >= 1, got {hidden}")
        self.hidden = hidden
        self.n_neurons = n_neurons
        self.embed = nn.Linear(n_neurons, hidden)
        self.readout = nn.Linear(hidden, n_neurons)

    def core(self, z: Tensor) -> Tensor:
        """(B, L, h) -> (B, L, h)."""
        raise NotImplementedError

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """``x`` (B, L, N), ``mask`` (B, N) -> prediction of x(t+1) at every t, (B, L, N)."""
        return self.readout(self.core(self.embed(_apply_mask(x, mask))))

    def unused_param_count(self) -> int:
        """Parameters the reference registers but never uses (counted by convention)."""
        return 0 if self.uses_layer_norm else 2 * self.hidden


class Linear(ScalingModel):
    """Linear regression: Linear(N, N) then Linear(N, N); ``hidden`` is ignored (forced to N)."""

    def __init__(self, hidden: int | None = None, n_neurons: int = N_NEURONS):
        super().__init__(n_neurons, n_neurons)

    def core(self, z: Tensor) -> Tensor:
        return z


class Feedforward(ScalingModel):
    """Memoryless MLP with one residual ReLU layer (reference FeatureFFNN, no LayerNorm)."""

    def __init__(self, hidden: int, n_neurons: int = N_NEURONS, dropout: float = DROPOUT):
        super().__init__(hidden, n_neurons)
        self.ff = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(dropout)

    def core(self, z: Tensor) -> Tensor:
        return z + self.dropout(torch.relu(self.ff(z)))


class CTRNN(ScalingModel):
    """LayerNorm then a leaky ReLU continuous-time RNN with learnable per-unit leak."""

    uses_layer_norm = True

    def __init__(self, hidden: int, n_neurons: int = N_NEURONS):
        super().__init__(hidden, n_neurons)
        self.norm = nn.LayerNorm(hidden)
        self.w_in = nn.Linear(hidden, hidden)
        self.w_hh = nn.Linear(hidden, hidden)
        self.alpha = nn.Parameter(torch.ones(1, hidden))

    def core(self, z: Tensor) -> Tensor:
        # Input drive for all steps at once (both biases folded in), time-major for the loop.
        drive = (self.w_in(self.norm(z)) + self.w_hh.bias).transpose(0, 1).contiguous()
        leak = torch.sigmoid(self.alpha)
        w_hh_t = self.w_hh.weight.t()
        h = drive.new_zeros(drive.shape[1:])
        states = []
        for u in drive:  # recurrence: the only loop over time in this module
            h = h + leak * (torch.relu(torch.addmm(u, h, w_hh_t)) - h)
            states.append(h)
        return torch.stack(states, dim=1)


class LSTM(ScalingModel):
    """LayerNorm then a one-layer ``nn.LSTM(h, h)`` (zero initial state)."""

    uses_layer_norm = True

    def __init__(self, hidden: int, n_neurons: int = N_NEURONS):
        super().__init__(hidden, n_neurons)
        self.norm = nn.LayerNorm(hidden)
        self.lstm = nn.LSTM(hidden, hidden, num_layers=1, batch_first=True)
        for name, p in self.lstm.named_parameters():
            if name.startswith("weight_ih"):
                nn.init.xavier_uniform_(p, gain=1.5)
            elif name.startswith("weight_hh"):
                nn.init.orthogonal_(p)
            else:
                nn.init.zeros_(p)

    def core(self, z: Tensor) -> Tensor:
        return self.lstm(self.norm(z))[0]


class Transformer(ScalingModel):
    """Scaled sinusoidal encoding then one causal pre-norm encoder layer (dim_feedforward = h)."""

    def __init__(self, hidden: int, n_neurons: int = N_NEURONS, dropout: float = DROPOUT):
        hidden = _even(hidden)
        super().__init__(hidden, n_neurons)
        self.heads = attention_heads(hidden)
        self.pos = PositionalEncoding(hidden, dropout)
        self.layer = nn.TransformerEncoderLayer(
            hidden, self.heads, dim_feedforward=hidden, dropout=dropout, activation="relu",
            batch_first=True, norm_first=True)

    def core(self, z: Tensor) -> Tensor:
        mask = causal_mask(z.shape[-2], z.device, z.dtype)
        return self.layer(self.pos(z), src_mask=mask, is_causal=True)

    def unused_param_count(self) -> int:
        """Unused LayerNorm plus the encoder layer's deep copy in the reference."""
        return super().unused_param_count() + sum(p.numel() for p in self.layer.parameters())


class PureAttention(ScalingModel):
    """Scaled sinusoidal encoding then one causal multi-head self-attention, nothing else."""

    def __init__(self, hidden: int, n_neurons: int = N_NEURONS, dropout: float = DROPOUT):
        hidden = _even(hidden)
        super().__init__(hidden, n_neurons)
        self.heads = attention_heads(hidden)
        self.pos = PositionalEncoding(hidden, dropout)
        self.attn = nn.MultiheadAttention(hidden, self.heads, dropout=dropout, batch_first=True)

    def core(self, z: Tensor) -> Tensor:
        z = self.pos(z)
        mask = causal_mask(z.shape[-2], z.device, z.dtype)
        return self.attn(z, z, z, attn_mask=mask, is_causal=True, need_weights=False)[0]


ARCHITECTURES: dict[str, type[nn.Module]] = {
    "baseline": Baseline, "linear": Linear, "feedforward": Feedforward, "ctrnn": CTRNN,
    "lstm": LSTM, "transformer": Transformer, "attention": PureAttention,
}
#: Other spellings (the reference's class names and the paper's labels) -> registry key.
ALIASES = {"naive": "baseline", "naivepredictor": "baseline", "linearregression": "linear",
           "ffnn": "feedforward", "featureffnn": "feedforward", "networkctrnn": "ctrnn",
           "networklstm": "lstm", "neuraltransformer": "transformer",
           "pureattention": "attention", "pure_attention": "attention"}
FIXED_SIZE = ("baseline", "linear")


def canonical_name(name: str) -> str:
    """Registry key of an architecture name (case-insensitive, aliases accepted)."""
    key = ALIASES.get(name.lower(), name.lower())
    if key not in ARCHITECTURES:
        raise KeyError(f"unknown architecture {name!r}; known: {sorted(ARCHITECTURES)}")
    return key


def build_model(name: str, hidden: int | None = None, **kwargs) -> nn.Module:
    """Instantiate architecture ``name`` with hidden size ``hidden`` (ignored if fixed-size)."""
    key = canonical_name(name)
    if hidden is None and key not in FIXED_SIZE:
        raise ValueError(f"{key} needs a hidden size")
    return ARCHITECTURES[key](hidden, **kwargs)


# --------------------------------------------------------------------------------------------
# Parameter counts
# --------------------------------------------------------------------------------------------

def count_parameters(model: nn.Module) -> int:
    """Parameter count under the paper's convention (module docstring): all parameters plus
    those the reference registers without using (``unused_param_count``)."""
    extra = getattr(model, "unused_param_count", None)
    return sum(p.numel() for p in model.parameters()) + (int(extra()) if callable(extra) else 0)


def effective_hidden(name: str, hidden: int, n_neurons: int = N_NEURONS) -> int:
    """Hidden size the model actually uses (N for fixed-size models, even for attention)."""
    key = canonical_name(name)
    if key in FIXED_SIZE:
        return n_neurons
    return _even(hidden) if key in ("transformer", "attention") else hidden


def paper_param_count(name: str, hidden: int, n_neurons: int = N_NEURONS) -> int:
    """Closed-form :func:`count_parameters` of ``build_model(name, hidden)`` (no model built)."""
    key = canonical_name(name)
    if key == "baseline":
        return 1
    n, h = n_neurons, effective_hidden(key, hidden, n_neurons)
    base = 2 * n * h + 3 * h + n  # embedding + readout + (used or unused) LayerNorm
    core = {"linear": 0,
            "feedforward": h * h + h,
            "ctrnn": 2 * (h * h + h) + h,
            "lstm": 4 * (2 * h * h + 2 * h),
            "transformer": 2 * (6 * h * h + 10 * h),
            "attention": 4 * h * h + 4 * h}[key]
    return base + core


def hidden_for_params(name: str, target: int, mode: Literal["at_least", "closest"] = "at_least",
                      n_neurons: int = N_NEURONS) -> int:
    """Hidden size whose parameter count reaches ``target``.

    ``at_least``: the smallest size with count >= target (gives the paper's matched sizes
    516/408/234/196/312 for 580,000). ``closest``: the size with the count nearest to target.
    Transformer and attention sizes are even. Fixed-size models raise ``ValueError``.
    """
    key = canonical_name(name)
    if key in FIXED_SIZE:
        raise ValueError(f"{key} has a fixed size ({paper_param_count(key, 0, n_neurons)} params)")

    def count(h: int) -> int:
        return paper_param_count(key, h, n_neurons)

    lo, hi = 1, 2
    while count(hi) < target:
        lo, hi = hi, hi * 2
    while lo < hi:  # smallest h with count(h) >= target (count is non-decreasing in h)
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if count(mid) < target else (lo, mid)
    best = effective_hidden(key, lo, n_neurons)
    if mode == "closest":
        below = best - (2 if key in ("transformer", "attention") else 1)
        if below >= 1 and abs(count(below) - target) <= abs(count(best) - target):
            best = below
    elif mode != "at_least":
        raise ValueError(f"mode must be 'at_least' or 'closest', got {mode!r}")
    return best
