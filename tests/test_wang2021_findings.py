"""The decision rules of claims W1–W5 (Wang 2021) on constructed fit records."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from neurodyn.findings import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Interval
from neurodyn.wang2021 import findings as F
from neurodyn.wang2021.grid import stable_seed

CFG = {"k": [1, 3], "table_k": 3, "tasks": {
    "cls2": {"kind": "classify", "states": 2}, "cls7": {"kind": "classify", "states": 7},
    "cls4": {"kind": "classify", "states": 4}, "traj": {"kind": "trajectory"}}}
COMBOS = {1: ("w1", "w2", "w3", "w4"), 3: ("w1-2-3", "w1-2-4", "w2-4-5", "w3-4-5")}
TABLE = {"svm": 98.8, "mlp": 99.3, "gnn_connectome": 99.5, "gnn": 99.5}
UNSEEN = {"svm": 83.0, "mlp": 94.0, "gnn_connectome": 96.5, "gnn": 97.5}


def _noise(*key, sd=0.3):
    return sd * np.random.default_rng(stable_seed(*key)).standard_normal()


def _cls(task, k, accs, combos=None, folds=(0, 1, 2), source="real", sd=0.3, epochs=100,
         best=40):
    """Classification fits: ``accs`` maps arch -> (seen %, unseen %)."""
    out = []
    for arch, (seen, unseen) in accs.items():
        for c, f in itertools.product(combos or COMBOS[k], folds):
            out.append(dict(task=task, k=k, combination=c, fold=f, arch=arch, kind="classify",
                            acc_seen=min(100, seen + _noise(c, f, arch, 1, sd=sd)) / 100,
                            acc_unseen_kato=min(100, unseen + _noise(c, f, arch, sd=sd)) / 100,
                            epochs_run=0 if arch == "svm" else epochs,
                            best_epoch=0 if arch == "svm" else best, kato_source=source,
                            nichols_source="synthetic"))
    return out


def _traj(mse, ks=(1, 3), data=("unseen_kato", "nichols"), source="real",
          nichols="synthetic", epochs=100, best=40):
    """Trajectory fits: ``mse(arch, k)`` is the step-1 MSE; it grows linearly to step 16."""
    out = []
    for k, arch in itertools.product(ks, ("nochange", "mlp", "node_mlp", "gnn", "lstm_mlp",
                                          "lstm_gnn")):
        for c, f in itertools.product(COMBOS[k], (0, 1, 2)):
            m = mse(arch, k) * np.exp(_noise(c, f, arch, k, sd=0.02))
            rec = dict(task="traj", k=k, combination=c, fold=f, arch=arch, kind="trajectory",
                       epochs_run=0 if arch == "nochange" else epochs,
                       best_epoch=0 if arch == "nochange" else best, kato_source=source,
                       nichols_source=nichols)
            for d in data:
                rec[f"mse_{d}"] = list(m * np.arange(1, 17))
                rec[f"nochange_{d}"] = list(0.1 * np.arange(1, 17))
            out.append(rec)
    return out


def _w1(accs=TABLE, **kw):
    fits = _cls("cls2", 3, {a: (v, UNSEEN[a]) for a, v in accs.items()}, **kw)
    return F.w1_seen(F.fit_frame(fits), CFG)


def test_w1_equivalence_band():
    ok = _w1()
    assert ok.verdict == REPRODUCED and ok.n == 4 * 4 * 3 and "SVM 98." in ok.measured
    assert _w1({**TABLE, "svm": 90.0}).verdict == NOT_REPRODUCED
    wide = _w1({**TABLE, "mlp": 96.5}, sd=1.5)  # interval across the 96.3 edge
    assert wide.verdict == INCONCLUSIVE and "band" in wide.reason


def test_w1_thin_or_synthetic_or_still_improving_is_inconclusive():
    few = _w1(combos=("w1-2-3",), folds=(0, 1))
    assert few.verdict == INCONCLUSIVE and "need 3" in few.reason
    synth = _w1(source="synthetic")
    assert synth.verdict == INCONCLUSIVE and "synthetic" in synth.reason
    late = _w1(best=95)
    assert late.verdict == INCONCLUSIVE and "still improving" in late.reason
    assert _w1(best=89).verdict == REPRODUCED  # best before the last 10 % of epochs


def _w2(unseen=UNSEEN, **kw):
    fits = _cls("cls2", 3, {a: (TABLE[a], v) for a, v in unseen.items()}, **kw)
    return F.w2_unseen(F.fit_frame(fits), CFG)


def test_w2_deep_beat_svm_and_gnn_not_worse():
    ok = _w2()
    assert ok.verdict == REPRODUCED and "GNN−MLP 3." in ok.measured
    assert _w2({**UNSEEN, "svm": 99.0}).verdict == NOT_REPRODUCED  # SVM not beaten
    assert _w2({**UNSEEN, "gnn": 91.0}).verdict == NOT_REPRODUCED  # GNN 3 pp below the MLP
    # half a point below both: within the 2 pp margin
    assert _w2({**UNSEEN, "gnn": 93.5, "gnn_connectome": 94.0}).verdict == REPRODUCED
    few = _w2(combos=("w1-2-3", "w1-2-4"), folds=(0,))
    assert few.verdict == INCONCLUSIVE and "need 3" in few.reason


def test_w3_seven_states_single_worm():
    def run(acc, k=1, **kw):
        fits = _cls("cls7", k, {"svm": (70.0, 50.0), "mlp": (88.0, 60.0), "gnn": (acc, 60.0)},
                    **kw)
        return F.w3_seven_states(F.fit_frame(fits), CFG)
    ok = run(91.0)
    assert ok.verdict == REPRODUCED and "k = 1" in ok.measured and "others: MLP 8" in ok.measured
    assert run(80.0).verdict == NOT_REPRODUCED
    assert run(89.5, sd=2.0).verdict == INCONCLUSIVE  # interval across the 89 % edge
    none = run(92.0, k=3)
    assert none.verdict == INCONCLUSIVE and "no W3 fits" in none.reason


def test_w4_four_states_unseen_above_mlp():
    def run(gnn, mlp, **kw):
        fits = _cls("cls4", 3, {"svm": (90.0, 70.0), "mlp": (95.0, mlp), "gnn": (95.0, gnn)},
                    **kw)
        return F.w4_four_states(F.fit_frame(fits), CFG)
    ok = run(87.0, 80.0)
    assert ok.verdict == REPRODUCED and "GNN−MLP 7." in ok.measured
    assert run(87.0, 89.0).verdict == NOT_REPRODUCED  # below the MLP
    assert run(75.0, 70.0).verdict == NOT_REPRODUCED  # far from 87 %
    few = run(87.0, 80.0, combos=("w1-2-3",), folds=(0, 1))
    assert few.verdict == INCONCLUSIVE and "need 3" in few.reason


def _gnn_best(arch, k):
    base = {"nochange": 0.1, "mlp": 0.05, "node_mlp": 0.05, "gnn": 0.03, "lstm_mlp": 0.045,
            "lstm_gnn": 0.04}[arch]
    return base * (1.0 if k == 1 else 0.8)


def test_w5_gnn_lowest_and_falls_with_worms():
    ok = F.w5_trajectory(fits := _traj(_gnn_best), F.fit_frame(fits), CFG)
    assert ok.verdict == REPRODUCED and "held-out Kato worms" in ok.measured
    assert "thesis: Nichols" in ok.data

    def rnn_wins(arch, k):
        return 0.02 if arch == "lstm_gnn" else _gnn_best(arch, k)
    fits = _traj(rnn_wins)
    assert F.w5_trajectory(fits, F.fit_frame(fits), CFG).verdict == NOT_REPRODUCED

    def rises(arch, k):
        return _gnn_best(arch, 1) * (1.0 if k == 1 else 1.3)
    fits = _traj(rises)
    assert F.w5_trajectory(fits, F.fit_frame(fits), CFG).verdict == NOT_REPRODUCED


def test_w5_inconclusive_cases():
    one_k = _traj(_gnn_best, ks=(1,))
    res = F.w5_trajectory(one_k, F.fit_frame(one_k), CFG)
    assert res.verdict == INCONCLUSIVE and "need 2" in res.reason
    synth = _traj(_gnn_best, source="synthetic")
    res = F.w5_trajectory(synth, F.fit_frame(synth), CFG)
    assert res.verdict == INCONCLUSIVE and "synthetic Nichols" in res.reason
    late = _traj(_gnn_best, best=99)
    res = F.w5_trajectory(late, F.fit_frame(late), CFG)
    assert res.verdict == INCONCLUSIVE and "still improving" in res.reason


def test_w5_prefers_real_nichols_worms():
    fits = _traj(_gnn_best, nichols="real")
    res = F.w5_trajectory(fits, F.fit_frame(fits), CFG)
    assert res.verdict == REPRODUCED and res.measured.startswith("Nichols worms")


def test_units_average_folds_per_combination_and_band():
    df = F.fit_frame(_cls("cls2", 3, {"gnn": (90.0, 80.0)}, sd=0.0))
    assert F.units(df, "acc_seen") == pytest.approx([90.0] * 4)
    one = df[df.combination == "w1-2-3"]
    assert len(F.units(one, "acc_seen")) == 3  # one combination: its folds are the units
    assert F.band(Interval(90, 89, 91, 5), 92, 3) == F.PASS
    assert F.band(Interval(80, 79, 81, 5), 92, 3) == F.FAIL
    assert F.band(Interval(89, 88, 90, 5), 92, 3) == F.OPEN
    iv = F.welch([1.0, 1.1, 0.9], [2.0, 2.2, 1.8])
    assert iv.mean == pytest.approx(-1.0) and iv.below


def test_findings_for_every_claim_in_order():
    fits = _cls("cls2", 3, {a: (TABLE[a], UNSEEN[a]) for a in TABLE}) + _traj(_gnn_best)
    rows = F.wang2021_findings(fits, CFG)
    assert [r.claim for r in rows] == ["W1", "W2", "W3", "W4", "W5"]
    assert [r.verdict for r in rows] == [REPRODUCED, REPRODUCED, INCONCLUSIVE, INCONCLUSIVE,
                                         REPRODUCED]
    assert all("(published)" in r.paper for r in rows)


def test_still_improving_needs_a_material_late_gain():
    """A best epoch at the end counts as still improving only when the mean loss of the last
    10 % of the epochs lies more than 1 % below the 10 % before (a converged fit creeping
    down does not, nor a noisy flat one whose last epochs hold its minimum)."""
    flat = [1.0 - 0.5 * (1 - np.exp(-e / 5)) for e in range(100)]  # converged by epoch ~40
    creeping = [v - 1e-5 * e for e, v in enumerate(flat)]  # best at the last epoch, tiny gain
    falling = [1.0 - 0.005 * e for e in range(100)]  # window means 10 % apart
    noisy = [0.5 + 0.02 * np.sin(1.7 * e) for e in range(99)] + [0.45]  # minimum at the end
    fit = dict(epochs_run=100, best_epoch=99)
    assert not F.still_improving({**fit, "val_loss_history": creeping})
    assert not F.still_improving({**fit, "val_loss_history": noisy})
    assert F.still_improving({**fit, "val_loss_history": falling})
    # without a history: the best epoch decides; untrained fits never count
    assert F.still_improving(fit) and not F.still_improving({**fit, "best_epoch": 40})
    assert not F.still_improving(dict(epochs_run=0, best_epoch=0))
    fits = _cls("cls2", 3, {"svm": (98.8, 83.0), "gnn": (99.5, 97.5)}, best=99)
    for f in fits:
        f["val_loss_history"] = falling if f["arch"] == "gnn" else []
    reasons = F.evidence(F.fit_frame(fits), ("svm", "gnn"), "2-state")
    assert any("still improving" in r for r in reasons)
    for f in fits:
        f["val_loss_history"] = creeping if f["arch"] == "gnn" else []
    assert not F.evidence(F.fit_frame(fits), ("svm", "gnn"), "2-state")


def test_collected_fits_keep_whether_they_were_still_improving(tmp_path):
    import json

    from neurodyn.wang2021.collect import collect_fits, load_fits

    base = dict(task="cls2", k=1, combination="w1", arch="gnn", kind="classify",
                epochs_run=20, best_epoch=19)
    paths = []
    for fold, hist in enumerate(([1.0 - 0.02 * e for e in range(20)], [0.5] * 19 + [0.499])):
        path = tmp_path / f"{fold}.json"
        path.write_text(json.dumps({**base, "fold": fold, "val_loss_history": hist}))
        paths.append(path)
    collect_fits(paths, tmp_path / "fits.json", {})
    fits = load_fits(tmp_path / "fits.json")
    assert [f["still_improving"] for f in fits] == [True, False]
    assert all("val_loss_history" not in f for f in fits)


def test_data_column_lists_training_settings_that_differ_from_the_thesis():
    cfg = {**CFG, "classify": {"epochs": 80, "lr": 0.01, "lr_patience": 50, "hidden": 16},
           "trajectory": {"epochs": 800, "lr": 1e-3, "lr_patience": 50, "hidden": 256,
                          "ss_epochs": 300}}
    cfg["tasks"] = {**cfg["tasks"], "cls7": {**cfg["tasks"]["cls7"], "epochs": 240}}
    assert F.training_deviations(cfg, "cls2") == \
        "deviations, ours (thesis): epochs 80 (800), lr 0.01 (0.001)"
    assert "epochs 240 (800)" in F.training_deviations(cfg, "cls7")
    assert F.training_deviations(cfg, "traj") == ""  # the thesis's settings
    fits = _cls("cls2", 3, {a: (TABLE[a], UNSEEN[a]) for a in TABLE})
    out = {f.claim: f for f in F.wang2021_findings(fits, cfg)}
    assert out["W1"].data.endswith("epochs 80 (800), lr 0.01 (0.001)")
    assert "epochs 240 (800)" in out["W3"].data and "deviations" not in out["W5"].data


@pytest.mark.parametrize("kato, want", [("real", "held-out Kato worms"),
                                        ("synthetic", "Nichols worms (SYNTHETIC)")])
def test_trajectory_figures_show_the_findings_evaluation_set(kato, want):
    """Fig. 2.3A/B plot the set W5 decides on: held-out real Kato worms when Kato is real and
    Nichols synthetic, the labelled synthetic Nichols stand-ins otherwise."""
    import matplotlib.pyplot as plt

    from neurodyn.wang2021.figures import fig_2_3a, fig_2_3b

    fits = _traj(lambda arch, k: 0.01, source=kato)
    for f in fits:  # the two sets differ, so the plotted values tell which one was used
        f["mse_unseen_kato"] = [2 * v for v in f["mse_unseen_kato"]]
    for make in (fig_2_3a, fig_2_3b):
        fig = make(fits, CFG)
        assert fig.axes[0].get_ylabel() == f"MSE on {want}"
        plt.close(fig)
    fig = fig_2_3a(fits, CFG)
    line = fig.axes[0].get_lines()[0]  # first model, k = 1: step-1 MSE 0.01 (x2 on Kato)
    assert line.get_ydata()[0] == pytest.approx(0.02 if kato == "real" else 0.01, rel=0.1)
    plt.close(fig)
