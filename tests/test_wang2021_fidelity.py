"""Wang 2021 as the thesis did it: its own preprocessing at the native frame rate, whole-worm
batches, worms selected by raw file, 12-step (4 + 8) recurrent and 9-step (1 + 8) Markovian
training windows with 20-step (4 + 16) evaluation, and a no-change sanity row whose two sides
come from different computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml
from test_wang2021_units import _fake_worms

from neurodyn.data.celegans.dataset_facts import KATO_STATES
from neurodyn.errors import InputError
from neurodyn.io.calcium import WormRecord, assemble_calcium
from neurodyn.wang2021.batched import init_members
from neurodyn.wang2021.harness import EnsembleModule, WormBatch
from neurodyn.wang2021.prepare import prepare_dataset, select_worm_indices
from neurodyn.wang2021.run import NoChange, train_context, train_windows, trajectory_mse

from conftest import REPO

NAMES = ["AVAL", "AVAR", "AIBL", "RIML"]


def _cfg(name: str) -> dict:
    return yaml.safe_load((REPO / "config" / name).read_text())["wang2021"]


def _raw(sources: list[str], dt: float = 0.35, seed: int = 0):
    rng = np.random.default_rng(seed)
    recs = []
    for i, src in enumerate(sources):
        t = 60 + 7 * i
        traces = rng.normal(3.0 * i, 1.0 + i, (t, len(NAMES))).cumsum(0)
        recs.append(WormRecord(traces=traces, ids=NAMES, time_s=np.arange(t) * dt + 5.0,
                               source_file=src, worm_id=f"w{i + 1}",
                               behavior=rng.integers(0, 8, t).astype(np.int16)))
    return assemble_calcium(recs, "Kato2015", states=KATO_STATES)


# ------------------------------------------------------------------ time scale
def test_own_product_keeps_the_native_rate_and_scales_to_unit_range():
    raw = _raw(["Kato2015/WT_NoStim.mat"] * 3)
    out = prepare_dataset(raw, {"WT_NoStim.mat": None})
    np.testing.assert_allclose(out["dt"].values, 0.35)  # no resampling
    assert out["n_timesteps"].values.tolist() == raw["n_timesteps"].values.tolist()
    np.testing.assert_array_equal(out["behavior"].values, raw["behavior"].values)
    cols = [list(raw["neuron"].values).index(n) for n in NAMES]
    for w in range(3):
        n = int(out["n_timesteps"][w])
        x = raw["activity"].values[w, :n][:, cols].astype(np.float64)
        unit = out["activity_unit"].values[w, :n][:, cols]
        # unsmoothed, not z-scored: exactly the min-max scaled raw trace, per worm and neuron
        np.testing.assert_allclose(unit, (x - x.min(0)) / (x.max(0) - x.min(0)), atol=1e-6)
        assert unit.min() == 0.0 and unit.max() == 1.0
        t = raw["time_s"].values[w, :n]
        np.testing.assert_allclose(out["derivative"].values[w, :n][:, cols],
                                   np.gradient(x, t, axis=0), rtol=1e-5, atol=1e-5)
    assert '"resample_dt": null' in out.attrs["preprocessing"]


def test_real_kato_keeps_its_frames():
    from neurodyn.data.celegans.readers.registry import read_raw_dataset

    folder = REPO / "../shared/data/real/kato2015_wt_nostim"
    if not folder.is_dir():
        pytest.skip("real Kato 2015 export not present")
    out = prepare_dataset(read_raw_dataset("Kato2015", folder),
                          _cfg("config.yaml")["worm_files"]["Kato2015"])
    assert out.sizes["worm"] == 5
    assert ((out["dt"] > 0.3) & (out["dt"] < 0.4)).all()  # ~0.35 s, the thesis's frames
    assert ((out["n_timesteps"] >= 3000) & (out["n_timesteps"] <= 4000)).all()
    assert float(out["activity_unit"].min()) == 0.0 and float(out["activity_unit"].max()) == 1


# ------------------------------------------------------------------ whole-worm batches
@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml"])
def test_default_batches_are_whole_worms(name):
    cfg = _cfg(name)
    for kind in ("classify", "trajectory"):
        assert kind in cfg and "batch_size" in cfg[kind], (name, kind)
        assert cfg[kind]["batch_size"] is None, (name, kind)


def test_whole_worm_batch_is_one_step_per_worm():
    worms = [WormBatch(torch.rand(n, 3, 2), torch.ones(3), torch.zeros(n, dtype=torch.long),
                       torch.ones(1, n), torch.ones(1, n)) for n in (3100, 3300)]
    module = EnsembleModule(torch.nn.Linear(1, 1), worms, "classify", 1e-3, 0.25, 5,
                            batch_size=_cfg("config.yaml")["classify"]["batch_size"])
    steps = module.epoch_steps()
    assert sorted((w, len(idx)) for w, idx in steps) == [(0, 3100), (1, 3300)]


# ------------------------------------------------------------------ worms by file
def test_kato_worms_come_from_wt_nostim_only():
    files = _cfg("config.yaml")["worm_files"]["Kato2015"]
    sources = ["Kato2015/WT_Stim.mat"] * 3 + ["Kato2015/WT_NoStim.mat"] * 5
    assert select_worm_indices(sources, "Kato2015", files, "x") == [3, 4, 5, 6, 7]
    export = [f"Kato2015/traces_nc-mcm/raw_full_data_worm_{i}.npz" for i in (1, 2)]
    assert select_worm_indices(export, "Kato2015", files, "x") == [0, 1]
    out = prepare_dataset(_raw(sources), files)  # through the product, ids kept
    assert out["original_worm_id"].values.tolist() == [f"w{i}" for i in range(4, 9)]
    assert set(out["source_file"].values) == {"Kato2015/WT_NoStim.mat"}
    with pytest.raises(InputError, match="source_file"):
        select_worm_indices(["Kato2015/WT_Stim.mat"], "Kato2015", files, "raw.nc")


def test_nichols_worms_are_prelethargus_n2_and_npr1():
    cfg = _cfg("config.yaml")
    files = cfg["worm_files"]["Nichols2017"]
    counts = {"n2_let.mat": 12, "n2_prelet.mat": 11, "npr1_let.mat": 9, "npr1_prelet.mat": 10}
    sources = [f"Nichols2017/{f}" for f, n in counts.items() for _ in range(n)]
    idx = select_worm_indices(sources, "Nichols2017", files, "x")
    assert len(idx) == cfg["nichols_worms"] == 21
    picked = [sources[i].split("/")[1] for i in idx]
    assert picked == ["n2_prelet.mat"] * 11 + ["npr1_prelet.mat"] * 10
    synthetic = ["synthetic:Nichols2017"] * 6  # synthetic stand-ins: all, in order
    assert select_worm_indices(synthetic, "Nichols2017", files, "x") == list(range(6))


# ------------------------------------------------------------------ trajectory lengths
class _Spy(torch.nn.Module):
    """ΔX = 0 and counts its calls."""

    def __init__(self, recurrent: bool) -> None:
        super().__init__()
        self.recurrent, self.calls = recurrent, 0

    def forward(self, x, m, w=None, state=None):
        self.calls += 1
        return torch.zeros_like(x), state


def test_windows_train_4_plus_8_or_1_plus_8_and_evaluate_4_plus_16():
    opts = _cfg("config.yaml")["trajectory"]
    assert (opts["burn_in"], opts["horizon"]) == (4, 16)
    worms = _fake_worms(n_worms=1, t=40)
    for recurrent in (True, False):  # evaluation: 20-step windows, 16 predicted steps
        spy = _Spy(recurrent)
        mse, base = trajectory_mse(spy, worms, 1, opts["burn_in"], opts["horizon"], 20)
        assert mse.shape == (1, 16) and spy.calls == 20 - 1  # 2 windows, batched
        np.testing.assert_allclose(mse[0], base, rtol=1e-5)
    window = _cfg("config.yaml")["window"]
    x = np.arange(100, dtype=np.float32)[:, None, None] * np.ones((1, 3, 2), np.float32)
    fold = np.repeat(np.arange(12) % 10, 8)[:100]
    fold = np.concatenate([fold, -np.ones(100 - fold.size, int)])
    for arch, length in (("lstm_gnn", 12), ("lstm_mlp", 12), ("gnn", 9), ("mlp", 9)):
        context = train_context(arch, opts)
        win, fo = train_windows(x, fold, 100, window, context)
        assert win.shape[1] == length and length - context == 8
        targets = win[:, context:, 0, 0]
        # the predicted steps of every window are one CV block (block 0 has no context)
        assert (targets[:, 0] % 8 == 0).all() and targets[0, 0] == 8
        np.testing.assert_array_equal(fo, fold[targets[:, 0].astype(int)])


@pytest.mark.parametrize("recurrent", [True, False])
def test_training_loss_covers_the_8_predicted_steps(recurrent):
    context = 4 if recurrent else 1
    x = torch.rand(5, context + 8, 3, 2, generator=torch.Generator().manual_seed(0))
    spy = _Spy(recurrent)
    wb = WormBatch(x, torch.ones(3), None, torch.ones(1, 5), torch.ones(1, 5))
    module = EnsembleModule(spy, [wb], "trajectory", 1e-3, 0.25, 5, burn_in=context)
    total, n = module.member_losses(wb, wb.train, training=False)
    last = x[:, context - 1:context]  # ΔX = 0: every prediction is the last true input
    want = ((x[:, context:] - last) ** 2).mean()
    assert spy.calls == context + 8 - 1
    torch.testing.assert_close(total / n, want.reshape(1), rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------ no-change sanity
def test_sanity_catches_a_misaligned_rollout(monkeypatch):
    """The no-change fit's MSE comes through the rollout, its baseline directly from the
    data: a rollout shifted by one step makes the sanity row fail."""
    from test_wang2021_units import CPU, _FakeInputs

    from neurodyn.wang2021 import run as run_mod
    from neurodyn.wang2021.grid import Fit
    from neurodyn.wang2021.tables import sanity

    cfg = {"kato_worms": 3, "nichols_worms": 1, "n_folds": 10, "window": 8,
           "neuron_sets": {"four": ["AVAL", "AVAR", "AIBR", "VB02"]},
           "tasks": {"tr": {"kind": "trajectory", "neurons": "four", "evaluate_nichols": True,
                            "archs": ["nochange"]}},
           "trajectory": {"burn_in": 4, "horizon": 16, "eval_stride": 8}}
    fits = [Fit("tr", 2, "w1-2", f, "nochange") for f in (0, 1)]

    def table(records):
        return sanity([{**r, "kind": "trajectory"} for r in records], {})

    good, _ = run_mod.run_ensemble(_FakeInputs(), fits, cfg, 0, CPU)
    assert len(table(good)) == 2 and table(good).passed.all()
    real = run_mod.rollout
    monkeypatch.setattr(run_mod, "rollout", lambda *a: torch.roll(real(*a), 1, dims=2))
    shifted, _ = run_mod.run_ensemble(_FakeInputs(), fits, cfg, 0, CPU)
    assert not table(shifted).passed.any()


def test_no_change_model_goes_through_the_rollout_and_can_disagree():
    worms = _fake_worms(n_worms=2, t=120)
    mse, base = trajectory_mse(NoChange(), worms, 2, 4, 16, 8)
    np.testing.assert_allclose(mse, np.stack([base, base]), rtol=1e-5)

    class Drift(NoChange):  # a rollout that is not "no change" must not match the baseline
        def forward(self, x, m, w=None, state=None):
            return torch.full_like(x, 0.01), None

    drift, base2 = trajectory_mse(Drift(), worms, 1, 4, 16, 8)
    np.testing.assert_array_equal(base, base2)
    assert not np.allclose(drift[0], base, rtol=1e-5)


# ------------------------------------------------------------------ model layout
def _layout_cfg() -> dict:
    cfg = _cfg("config.yaml")
    assert cfg["classify"]["node_input"] == cfg["trajectory"]["node_input"] == "messages"
    assert cfg["classify"]["norm"] == cfg["trajectory"]["norm"] == "worm"
    return cfg


def test_recurrent_models_put_the_lstm_before_the_mlp():
    from neurodyn.wang2021.models import Dynamics

    n, f, hidden = 3, 2, 16
    model = Dynamics("lstm_mlp", 1, n, f, hidden)
    assert model.cell.ih.d_in == n * f and model.body.fc1.d_in == hidden
    gnn = Dynamics("lstm_gnn", 1, n, f, hidden)
    assert gnn.cell.ih.d_in == n * f  # the GNN's messages (eq. 11) feed the LSTM
    init_members(model, [0])
    calls = []
    model.cell.register_forward_hook(lambda *a: calls.append("lstm"))
    model.body.register_forward_hook(lambda *a: calls.append("mlp"))
    model(torch.rand(1, 4, n, f), torch.ones(4, n))
    assert calls == ["lstm", "mlp"]


def test_gnn_nodes_pass_on_messages_only_unless_concatenation_is_switched_on():
    from neurodyn.wang2021.models import GraphLayer

    x, m = torch.rand(1, 5, 4, 2), torch.ones(5, 4)
    for node_input, width in (("messages", 2), ("concat", 8 + 2)):
        layer = GraphLayer(1, 2, 8, "dynamic", node_input=node_input)
        init_members(layer, [0])
        z, a = layer.eval()(x, m, None)
        assert z.shape[-1] == width == layer.d_out
        torch.testing.assert_close(z[..., -2:], a @ x)  # M = A X


def test_node_mlp_has_an_mlp_of_its_own_per_node():
    from neurodyn.wang2021.models import Classifier, Dynamics

    x, m = torch.rand(1, 6, 4, 2), torch.ones(6, 4)
    perm = torch.tensor([1, 0, 2, 3])
    model = Classifier("node_mlp", 1, 4, 2, 3, 8, aggregation="sum")
    init_members(model, [0])
    model.eval()
    # shared weights + sum over nodes would not notice two nodes swapping their traces
    assert not torch.allclose(model(x, m), model(x[:, :, perm], m), atol=1e-4)
    dyn = Dynamics("node_mlp", 1, 4, 2, 8)
    init_members(dyn, [0])
    assert dyn.out.weight.shape == (1, 4, 8, 2)  # a readout per node too


def test_per_worm_normalisation_ignores_running_statistics():
    from neurodyn.wang2021.run import build_model

    cfg = _layout_cfg()
    neurons = ("AVAL", "AVAR", "AIBR")
    x, m = torch.rand(1, 30, 3, 2), torch.ones(30, 3)
    outs = {}
    for norm in ("worm", "running"):
        cfg["classify"]["norm"] = norm
        model = build_model("gnn", "classify", 1, 3, 2, cfg, neurons)
        init_members(model, [0])
        model.eval()
        before = model(x, m)
        for name, buf in model.named_buffers():
            if name.endswith(("running_mean", "running_var")):
                buf.add_(3.0)
        outs[norm] = (before, model(x, m))
    torch.testing.assert_close(*outs["worm"])  # the worm's own statistics
    assert not torch.allclose(*outs["running"], atol=1e-3)
