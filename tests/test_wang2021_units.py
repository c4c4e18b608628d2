"""Wang 2021: state mappings, grid, GNN symmetries, edge options, scheduled sampling,
batched vs one-at-a-time training, and clear input errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import xarray as xr

from neurodyn.data.celegans.dataset_facts import KATO_STATES, NICHOLS_STATES
from neurodyn.errors import InputError
from neurodyn.train.device import TrainSettings
from neurodyn.wang2021 import grid as G
from neurodyn.wang2021 import states as st
from neurodyn.wang2021.batched import MemberAdam, init_members, set_norm
from neurodyn.wang2021.data import Worms, canonical_neurons, load_worms
from neurodyn.wang2021.harness import rollout, scheduled_p
from neurodyn.wang2021.models import Classifier, GraphLayer
from neurodyn.wang2021.run import run_ensemble

CPU = TrainSettings(device="cpu", progress=False)


def _code(states, n, name):
    return st.code_map(states, n)[list(states).index(name)]


def test_kato_mappings_are_exact():
    assert st.task_classes(7) == ("dt", "fwd", "rev1", "rev2", "revsus", "slow", "vt")
    expect = {
        2: {"dt": -1, "fwd": 0, "nostate": -1, "rev1": 1, "rev2": 1, "revsus": 1, "slow": 0,
            "vt": -1},
        4: {"dt": 2, "fwd": 0, "nostate": -1, "rev1": 1, "rev2": 1, "revsus": 1, "slow": 0,
            "vt": 3},
        7: {"dt": 0, "fwd": 1, "nostate": -1, "rev1": 2, "rev2": 3, "revsus": 4, "slow": 5,
            "vt": 6},
    }
    for n, table in expect.items():
        assert {s: int(_code(KATO_STATES, n, s)) for s in KATO_STATES} == table
        assert st.code_map(KATO_STATES, n)[-1] == -1  # code -1 (no label) stays ignored


def test_nichols_mappings_are_exact():
    assert st.task_classes(4) == ("forward", "reverse", "dorsal turn", "ventral turn")
    assert st.nichols_classes(4) == ("forward", "reverse", "turn")
    got4 = {s: int(_code(NICHOLS_STATES, 4, s)) for s in NICHOLS_STATES}
    assert got4 == {"reversal": 1, "forward": 0, "quiescence": -1, "turn": 2}
    got2 = {s: int(_code(NICHOLS_STATES, 2, s)) for s in NICHOLS_STATES}
    assert got2 == {"reversal": 1, "forward": 0, "quiescence": -1, "turn": -1}
    assert st.collapse_map(4).tolist() == [0, 1, 2, 2]
    assert st.collapse_map(2).tolist() == [0, 1]
    with pytest.raises(ValueError):
        st.code_map(NICHOLS_STATES, 7)


def test_combinations_match_the_thesis_example():
    assert len(G.all_combinations(5, 2)) == 10
    assert len(G.all_combinations(5, 3)) == 10
    assert G.all_combinations(5, 2)[0] == "w1-2" and G.combination_worms("w1-3-5") == (0, 2, 4)
    cfg = {"kato_worms": 5, "n_folds": 10, "k": [2], "max_combinations": None,
           "folds": list(range(10)), "tasks": {"t": {"archs": ["mlp"]}}, "job": "folds"}
    fits = G.fits(cfg)
    assert len(fits) == 10 * 10 and len({(f.combination, f.fold) for f in fits}) == 100
    assert len(G.job_groups(cfg)) == 10  # folds batched: one job per combination and arch
    assert len(G.combinations({**cfg, "max_combinations": 2}, 2)) == 2


def test_folds_partition_windows():
    folds = G.fold_of_timesteps([83, 80], window=8, n_folds=10, seed=1)
    assert folds[0][80:].tolist() == [-1, -1, -1]  # tail shorter than a window
    per_window = np.concatenate([f[:80].reshape(-1, 8) for f in folds])
    assert (per_window == per_window[:, :1]).all()  # a window lies in one fold
    assert np.bincount(per_window[:, 0], minlength=10).tolist() == [2] * 10
    assert G.split_roles(9, 10, "classify") == {"test": 9, "val": 0}
    assert G.split_roles(3, 10, "trajectory") == {"test": None, "val": 3}


def _graph(edges, n=5, feat=2, hidden=8, seed=0):
    conn = torch.rand(n, n, generator=torch.Generator().manual_seed(3)) > 0.5
    layer = GraphLayer(1, feat, hidden, edges, conn.float() if edges == "connectome" else None)
    init_members(layer, [seed])
    return layer.eval()


@pytest.mark.parametrize("edges", ["static", "dynamic", "connectome"])
def test_edges_and_messages_are_permutation_equivariant(edges):
    torch.manual_seed(0)
    n = 5
    x = torch.rand(1, 7, n, 2)
    m = torch.ones(7, n)
    perm = torch.tensor([3, 0, 4, 1, 2])
    layer = _graph(edges, n)
    z, a = layer(x, m, None)
    if edges == "connectome":  # the fixed graph must be permuted with the nodes
        layer.fixed = layer.fixed[perm][:, perm]
    zp, ap = layer(x[:, :, perm], m[:, perm], None)
    assert torch.allclose(ap, a[:, :, perm][:, :, :, perm], atol=1e-6)
    assert torch.allclose(zp, z[:, :, perm], atol=1e-6)  # [H, M = A X] rows permute


@pytest.mark.parametrize("node_input", ["messages", "concat"])
def test_sum_aggregation_is_invariant_and_concatenation_is_not(node_input):
    torch.manual_seed(1)
    x, m = torch.rand(1, 6, 5, 2), torch.ones(6, 5)
    perm = torch.tensor([1, 2, 3, 4, 0])
    out = {}
    for agg in ("sum", "concat"):
        model = Classifier("gnn", 1, 5, 2, 3, 8, "static", agg, node_input=node_input)
        init_members(model, [0])
        set_norm(model, "worm")
        model.eval()
        out[agg] = (model(x, m), model(x[:, :, perm], m[:, perm]))
    assert torch.allclose(*out["sum"], atol=1e-5)
    assert not torch.allclose(*out["concat"], atol=1e-3)


def test_static_edges_are_one_graph_per_worm_and_dynamic_per_timestep():
    torch.manual_seed(2)
    x, m = torch.rand(1, 6, 4, 2), torch.ones(6, 4)
    _, a_static = _graph("static", 4)(x, m, None)
    _, a_dyn = _graph("dynamic", 4)(x, m, None)
    assert torch.allclose(a_static, a_static[:, :1].expand_as(a_static))
    assert not torch.allclose(a_dyn, a_dyn[:, :1].expand_as(a_dyn), atol=1e-4)
    assert (a_static >= 0).all() and (a_static <= 1).all()
    # the static graph depends on all timesteps of the worm, the dynamic one per timestep
    x2 = x.clone()
    x2[:, 5] = 1.0 - x2[:, 5]
    _, a_static2 = _graph("static", 4)(x2, m, None)
    _, a_dyn2 = _graph("dynamic", 4)(x2, m, None)
    assert not torch.allclose(a_static2[:, 0], a_static[:, 0], atol=1e-5)
    assert torch.allclose(a_dyn2[:, :5], a_dyn[:, :5], atol=1e-6)


def test_masked_nodes_have_no_edges():
    x, m = torch.rand(1, 3, 4, 2), torch.ones(3, 4)
    m[:, 2] = 0
    x = x * m[None, :, :, None]
    z, a = _graph("static", 4)(x, m, None)
    assert (a[:, :, 2, :] == 0).all() and (a[:, :, :, 2] == 0).all()
    assert (z[:, :, 2] == 0).all()


def test_scheduled_sampling_follows_its_schedule():
    assert [scheduled_p(e, 300) for e in (0, 75, 150, 300, 500)] == [1.0, 0.75, 0.5, 0.0, 0.0]
    assert scheduled_p(0, 0) == 0.0

    class Shift(torch.nn.Module):  # ΔX = 1 for every input
        recurrent = False

        def forward(self, x, m, w, state):
            return torch.ones_like(x), None

    win = torch.zeros(2, 5, 3, 1)
    win[:, :, :, 0] = torch.arange(5.0)[None, :, None] * 10
    forced = rollout(Shift(), win, torch.ones(3), None, 1, torch.ones(2, 4, dtype=torch.bool),
                     1, 4)
    free = rollout(Shift(), win, torch.ones(3), None, 1, torch.zeros(2, 4, dtype=torch.bool),
                   1, 4)
    assert forced[0, 0, :, 0, 0].tolist() == [1.0, 11.0, 21.0, 31.0]  # true input + 1
    assert free[0, 0, :, 0, 0].tolist() == [1.0, 2.0, 3.0, 4.0]  # own predictions fed back


def test_member_adam_matches_torch_adam():
    torch.manual_seed(0)
    p1 = torch.nn.Parameter(torch.randn(1, 4, 3))
    p2 = torch.nn.Parameter(p1.detach()[0].clone())
    o1 = MemberAdam([p1], torch.tensor([1e-2]))
    o2 = torch.optim.Adam([p2], lr=1e-2)
    for _ in range(5):
        for p, o in ((p1, o1), (p2, o2)):
            o.zero_grad()
            ((p.reshape(4, 3) - 1.0) ** 3).sum().backward()
            o.step()
    assert torch.allclose(p1[0], p2, atol=1e-6)


def _fake_worms(n_worms=3, t=240, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n_worms, t, 4, 2)).astype(np.float32)
    labels = (x[:, :, 0, 0] + 0.3 * x[:, :, 1, 1] > 0.65).astype(np.int64)
    return Worms(x, np.ones((n_worms, 4), bool), np.full(n_worms, t), labels,
                 ("AVAL", "AVAR", "AIBR", "VB2"), tuple(f"w{i}" for i in range(n_worms)),
                 True, "fake.nc")


class _FakeInputs:
    def __init__(self):
        self.w = _fake_worms()

    def worms(self, which, neurons, n_states):
        return self.w


CFG = {"kato_worms": 3, "nichols_worms": 1, "n_folds": 10, "window": 8, "k": [2],
       "neuron_sets": {"four": ["AVAL", "AVAR", "AIBR", "VB02"]},
       "tasks": {"c2": {"kind": "classify", "states": 2, "neurons": "four",
                        "archs": ["mlp", "gnn"]}},
       "classify": {"hidden": 8, "edges": "static", "aggregation": "concat",
                    "node_input": "messages", "norm": "worm", "epochs": 4,
                    "batch_size": 60, "lr": 1e-3, "lr_factor": 0.25, "lr_patience": 50,
                    "svm_tol": 1e-5, "svm_max_iter": 1000}}


@pytest.mark.parametrize("arch", ["mlp", "gnn"])
def test_batched_ensemble_agrees_with_one_fit_at_a_time(arch):
    fits = [G.Fit("c2", 2, "w1-2", f, arch) for f in (0, 1, 2)]
    inputs = _FakeInputs()
    together, states = run_ensemble(inputs, fits, CFG, 0, CPU)
    for e, fit in enumerate(fits):
        alone, alone_states = run_ensemble(inputs, [fit], CFG, 0, CPU)
        # same init and data order; only float summation order differs, so agreement is to
        # a small tolerance, not bitwise. (Weights are not compared: a bias followed by
        # BatchNorm has a zero true gradient, and Adam turns its float noise into lr-sized
        # steps that change no output.)
        np.testing.assert_allclose(alone[0]["val_loss_history"],
                                   together[e]["val_loss_history"], rtol=5e-3)
        assert alone[0]["best_epoch"] == together[e]["best_epoch"]
        first = next(iter(alone_states[0]))
        assert alone_states[0][first].shape == states[e][first].shape
    # members are different fits (different folds), not copies
    assert together[0]["val_loss_history"] != together[1]["val_loss_history"]


def _dataset(neurons=("AVAL", "AIBR"), codes=None):
    t = 20
    ds = xr.Dataset(
        {"activity_unit": (("worm", "time", "neuron"), np.random.default_rng(0).random((1, t, 2))),
         "derivative": (("worm", "time", "neuron"), np.random.default_rng(0).random((1, t, 2))),
         "labeled": (("worm", "neuron"), np.ones((1, 2), bool)),
         "n_timesteps": (("worm",), np.array([t])),
         "behavior": (("worm", "time"), np.zeros((1, t), np.int16) if codes is None
                      else codes)},
        coords={"worm": ["w0"], "neuron": list(neurons), "state": list(KATO_STATES)})
    return ds


def test_bad_input_names_file_and_field():
    with pytest.raises(InputError, match=r"cfg: field 'neurons'.*XYZ1"):
        canonical_neurons(["AVAL", "XYZ1"], "cfg")
    assert canonical_neurons(["VB01", "VB02"], "cfg") == ("VB1", "VB2")
    bad = np.full((1, 20), 9, np.int16)
    with pytest.raises(InputError, match=r"k\.nc: field 'behavior'"):
        load_worms(_dataset(codes=bad), "k.nc", ["AVAL", "AIBR"], 2)
    ds = _dataset().drop_vars("behavior")
    with pytest.raises(InputError, match="field 'behavior'"):
        load_worms(ds, "k.nc", ["AVAL", "AIBR"], 2)
    w = load_worms(_dataset(), "k.nc", ["AVAL", "AIBR"], 2)
    assert w.x.shape == (1, 20, 2, 2) and w.x.min() >= 0 and w.x.max() <= 1


def test_sanity_flags_a_model_scored_against_another_baseline():
    from neurodyn.wang2021.tables import sanity

    def traj(arch, base, mse):
        return {"kind": "trajectory", "task": "traj", "k": 1, "combination": "w1", "fold": 0,
                "arch": arch, "mse_unseen_kato": mse, "nochange_unseen_kato": base}

    fits = [traj("nochange", [0.1, 0.2], [0.1, 0.2]), traj("mlp", [0.1, 0.2], [0.05, 0.3])]
    assert sanity(fits, {}).passed.all()
    for bad in ([0.1, 0.25], [0.1], [0.0, 0.2], [float("nan"), 0.2]):
        table = sanity([fits[0], traj("mlp", bad, [0.05, 0.3])], {}).set_index("model")
        assert table.passed["no change"] and not table.passed["MLP"], bad
    wrong_nochange = traj("nochange", [0.1, 0.2], [0.1, 0.3])  # its MSE must be its baseline
    assert not sanity([wrong_nochange], {}).passed.all()
