"""Wang 2021 models, batched over ensemble members (leading axis E; see wang2021.batched).

Inputs: node features ``x`` (E, B, N, F), node mask ``m`` (B, N) (0 = neuron missing in the
worm), sample weights ``w`` (E, B) for BatchNorm statistics.

- ``mlp``: node features concatenated → 2-layer ELU MLP + BatchNorm → linear readout.
- ``node_mlp``: an MLP of its own on every node (per-node weights), then aggregation.
- ``gnn``: node MLP embedding H; edge MLP on concatenated pairs [h_i, h_j] → sigmoid →
  weighted adjacency A (self-edges included; rows = receivers); messages M = A X; each node
  passes on M only (eq. 11; ``node_input: concat`` passes [H, M]); nodes aggregated by
  concatenation (or sum) → 2-layer MLP head. Edges ``static`` (A once per worm, from the
  mean embedding over all the worm's timesteps in the batch), ``dynamic`` (A per timestep)
  or ``connectome`` (fixed White 1986 adjacency + self-edges).
- ``lstm_mlp`` / ``lstm_gnn``: the concatenated features / GNN messages → LSTM cell → MLP
  (trajectory; the LSTM before the MLP).

Classifiers return logits (E, B, C); trajectory models return ΔX (E, B, N, F) and a
recurrent state (``None`` for Markovian models). Masked nodes get no embedding, no edges
and no change.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from neurodyn.wang2021.batched import BMLP, BLinear, BNodeLinear, NodeMLP
from neurodyn.wang2021.static_embedding import mean_embedding

CLASSIFY_ARCHS = ("mlp", "node_mlp", "gnn", "gnn_connectome")
TRAJECTORY_ARCHS = ("mlp", "node_mlp", "gnn", "gnn_connectome", "lstm_mlp", "lstm_gnn")
AGGREGATIONS = ("concat", "sum")
EDGES = ("static", "dynamic")
NODE_INPUTS = ("messages", "concat")  # what a GNN node passes on: M (eq. 11) or [H, M]


def _node_weights(w: Tensor | None, m: Tensor) -> Tensor:
    """Per-node sample weights (E or 1, B, N): missing nodes never count in statistics."""
    return m[None] if w is None else w[..., None] * m


class GraphLayer(nn.Module):
    """Node embedding, adjacency and messages: returns (M (E, B, N, F), A), or ([H, M]
    (E, B, N, H+F), A) with ``node_input`` concat. ``fused_static_mean``: static edges with
    messages only compute the mean embedding fused (``static_embedding``) when ``x`` needs
    no gradient; False forces the plain path (the benchmark compares the two)."""

    fused_static_mean = True

    def __init__(self, members: int, n_feat: int, hidden: int, edges: str,
                 connectome: Tensor | None = None, node_input: str = "messages") -> None:
        super().__init__()
        if node_input not in NODE_INPUTS:
            raise ValueError(f"node_input must be one of {NODE_INPUTS}, not {node_input!r}")
        self.edges, self.node_input = edges, node_input
        self.d_out = n_feat + (hidden if node_input == "concat" else 0)
        self.node = BMLP(members, n_feat, hidden, hidden)
        if edges == "connectome":
            if connectome is None:
                raise ValueError("connectome edges need a connectome matrix")
            # M_i = sum_j A[i, j] x_j with i the receiver: the transpose of A[pre, post].
            fixed = (connectome.T > 0).float()
            fixed.fill_diagonal_(1.0)
            self.register_buffer("fixed", fixed, persistent=False)
        elif edges in EDGES:
            self.edge = BMLP(members, 2 * hidden, hidden, hidden)
            self.edge_out = BLinear(members, hidden, 1)
        else:
            raise ValueError(f"edges must be static, dynamic or connectome, not {edges!r}")

    def adjacency(self, h: Tensor, m: Tensor, w: Tensor | None) -> Tensor:
        """A (E, B, N, N), or (E, 1, N, N) for edges shared by the batch's timesteps
        (static: one graph per worm; connectome)."""
        E, B, N, _ = h.shape
        if self.edges == "connectome":
            present = m.amax(0)
            return (self.fixed * (present[:, None] * present[None, :])).expand(E, 1, N, N)
        if self.edges == "static":  # one graph per worm (batch = one worm's timesteps)
            msum = m.sum(0).clamp_min(1.0)  # (N,)
            return self.static_adjacency(h.sum(1) / msum[None, :, None], m)
        pair = m[:, :, None] * m[:, None, :]  # (B, N, N)
        ew = pair.expand(E, B, N, N) * (1.0 if w is None else w[:, :, None, None])
        return self._edge_probabilities(h, ew) * pair

    def static_adjacency(self, mean_h: Tensor, m: Tensor) -> Tensor:
        """One graph per worm, (E, 1, N, N), from the mean node embedding (E, N, H)."""
        E, N = mean_h.shape[0], mean_h.shape[1]
        present = m.amax(0)
        pair = (present[:, None] * present[None, :])[None]  # (1, N, N)
        return self._edge_probabilities(mean_h[:, None], pair.expand(E, 1, N, N)) * pair

    def _edge_probabilities(self, h: Tensor, ew: Tensor) -> Tensor:
        """The edge MLP on every pair [h_i, h_j] (receiver i), its first layer per node,
        BatchNorm weighted by ``ew``; sigmoid: (E, B, N, N)."""
        pre = self.edge.fc1.pairs(h)
        return torch.sigmoid(self.edge_out(self.edge.after_first(pre, ew))[..., 0])

    def forward(self, x: Tensor, m: Tensor, w: Tensor | None) -> tuple[Tensor, Tensor]:
        if (self.fused_static_mean and self.edges == "static"
                and self.node_input == "messages" and not x.requires_grad):
            # only the mean embedding is read: computed without materialising H
            a = self.static_adjacency(mean_embedding(self.node, x, m, w), m)
            h = None
        else:
            # the node embedding feeds the inferred edges and [H, M]; connectome edges with
            # messages only never read it
            need_h = self.edges != "connectome" or self.node_input == "concat"
            h = self.node(x, _node_weights(w, m)) * m[None, :, :, None] if need_h else None
            a = self.adjacency(x if h is None else h, m, w)
        if a.shape[1] == 1:  # one graph for every timestep: M = A X as one product per member
            msg = torch.einsum("eij,ebjf->ebif", a[:, 0], x)
            a = a.expand(a.shape[0], x.shape[1], *a.shape[2:])
        else:
            msg = a @ x
        return (msg if self.node_input == "messages" else torch.cat([h, msg], -1)), a


def _aggregate(z: Tensor, how: str) -> Tensor:
    return z.flatten(2) if how == "concat" else z.sum(2)


class LSTMCell(nn.Module):
    """A batched LSTM cell."""

    def __init__(self, members: int, d_in: int, hidden: int) -> None:
        super().__init__()
        self.ih = BLinear(members, d_in, 4 * hidden)
        self.hh = BLinear(members, hidden, 4 * hidden)
        self.hidden = hidden

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None
                ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if state is None:
            zeros = x.new_zeros(*x.shape[:-1], self.hidden)
            state = (zeros, zeros)
        h, c = state
        i, f, g, o = (self.ih(x) + self.hh(h)).chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, (h, c)


class Classifier(nn.Module):
    """MLP, Node-MLP or GNN behaviour classifier (logits over the task's states)."""

    def __init__(self, arch: str, members: int, n_nodes: int, n_feat: int, n_classes: int,
                 hidden: int, edges: str = "static", aggregation: str = "concat",
                 connectome: Tensor | None = None, node_input: str = "messages") -> None:
        super().__init__()
        if arch not in CLASSIFY_ARCHS or aggregation not in AGGREGATIONS:
            raise ValueError(f"unknown classifier {arch!r} / aggregation {aggregation!r}")
        self.arch, self.aggregation = arch, aggregation
        if arch == "mlp":
            d = n_nodes * n_feat
        elif arch == "node_mlp":  # an MLP of its own per node
            self.node = NodeMLP(members, n_nodes, n_feat, hidden, hidden)
            d = hidden * (n_nodes if aggregation == "concat" else 1)
        else:
            self.graph = GraphLayer(members, n_feat, hidden,
                                    "connectome" if arch == "gnn_connectome" else edges,
                                    connectome, node_input)
            d = self.graph.d_out * (n_nodes if aggregation == "concat" else 1)
        self.head = BMLP(members, d, hidden, hidden)
        self.out = BLinear(members, hidden, n_classes)
        self.last_adjacency: Tensor | None = None

    def forward(self, x: Tensor, m: Tensor, w: Tensor | None = None) -> Tensor:
        if self.arch == "mlp":
            g = x.flatten(2)
        elif self.arch == "node_mlp":
            g = _aggregate(self.node(x, w) * m[None, :, :, None], self.aggregation)
        else:
            z, self.last_adjacency = self.graph(x, m, w)
            g = _aggregate(z, self.aggregation)
        return self.out(self.head(g, w))


class Dynamics(nn.Module):
    """Markovian (mlp, node_mlp, gnn) or recurrent (lstm_*) one-step ΔX model. Recurrent
    models: encoder (concatenated X or GNN messages) → LSTM → MLP → ΔX (the LSTM before the
    MLP); Markovian: encoder → MLP → ΔX; Node-MLP: an MLP and readout of its own per node."""

    def __init__(self, arch: str, members: int, n_nodes: int, n_feat: int, hidden: int,
                 edges: str = "dynamic", aggregation: str = "concat",
                 connectome: Tensor | None = None, node_input: str = "messages") -> None:
        super().__init__()
        if arch not in TRAJECTORY_ARCHS or aggregation not in AGGREGATIONS:
            raise ValueError(f"unknown trajectory model {arch!r} / aggregation {aggregation!r}")
        self.arch, self.aggregation = arch, aggregation
        self.n_nodes, self.n_feat = n_nodes, n_feat
        self.recurrent = arch.startswith("lstm_")
        out_all = n_nodes * n_feat
        self.node_readout = aggregation == "sum" and "gnn" in arch and not self.recurrent
        self.last_adjacency: Tensor | None = None
        if arch == "node_mlp":
            self.body = NodeMLP(members, n_nodes, n_feat, hidden, hidden)
            self.out = BNodeLinear(members, n_nodes, hidden, n_feat)
            return
        if arch in ("mlp", "lstm_mlp"):
            d = out_all
        else:
            self.graph = GraphLayer(members, n_feat, hidden,
                                    "connectome" if arch == "gnn_connectome" else edges,
                                    connectome, node_input)
            d = self.graph.d_out * (1 if self.node_readout else n_nodes)
        if self.recurrent:
            self.cell = LSTMCell(members, d, hidden)
            d = hidden
        self.body = BMLP(members, d, hidden, hidden)
        self.out = BLinear(members, hidden, n_feat if self.node_readout else out_all)

    def forward(self, x: Tensor, m: Tensor, w: Tensor | None = None,
                state: Any = None) -> tuple[Tensor, Any]:
        E, B, N, F = x.shape
        if self.arch == "node_mlp":
            delta = self.out(self.body(x, w))
            return delta * m[None, :, :, None], state
        if self.arch in ("mlp", "lstm_mlp"):
            z = x.flatten(2)
        else:
            z, self.last_adjacency = self.graph(x, m, w)
            if not self.node_readout:
                z = z.flatten(2)
        if self.recurrent:
            z, state = self.cell(z, state)
        h = self.body(z, _node_weights(w, m) if self.node_readout else w)
        delta = self.out(h).reshape(E, B, N, F)
        return delta * m[None, :, :, None], state
