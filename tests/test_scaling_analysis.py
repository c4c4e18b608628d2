"""Scaling analysis (log–log fits, slopes, sanity checks) and scaling figures on fabricated fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neurodyn.scaling.analysis import (
    loglog_fit,
    per_source_slopes,
    sanity_checks,
    slopes_table,
)

ARCHS = ("Baseline", "Linear", "Feedforward", "CTRNN", "LSTM", "Transformer", "PureAttention")
SOURCES = ("Kato2015", "Nichols2017", "Flavell2023")
TRUE_SLOPE = {"Baseline": 0.0, "Linear": -0.1, "Feedforward": -0.4, "CTRNN": -0.65,
              "LSTM": -0.5, "Transformer": -0.3, "PureAttention": -0.2}


def _row(**kw) -> dict:
    base = {"experiment": "data_scaling", "data": "experimental", "source": "synthetic",
            "arch": "LSTM", "seed": 0, "hidden": 64, "n_params": 100_000, "n_worms": 5,
            "n_train_steps": 1000, "min_val_loss": 0.5, "val_baseline": 0.04, "best_epoch": 10,
            "epochs_run": 20}
    return base | kw


def make_fits(seed: int = 0, n_sizes: int = 6, n_seeds: int = 2) -> pd.DataFrame:
    """Data scaling y = c·x^slope (noisy, per-source columns) and model scaling on 3 data kinds."""
    rng = np.random.default_rng(seed)
    rows = []
    steps = np.geomspace(2_000, 60_000, n_sizes).astype(int)
    for data, base in (("experimental", 0.035), ("sines", 0.02), ("randomwalk", 0.05)):
        for arch in ARCHS:
            for s in range(n_seeds):
                for k, x in enumerate(steps):
                    slope = TRUE_SLOPE[arch] if data != "randomwalk" else -0.2
                    y = 2.0 * x ** slope * np.exp(rng.normal(0, 0.03))
                    y = base if arch == "Baseline" else max(y, 1.02 * base) \
                        if data == "randomwalk" else y
                    extra = {}
                    if data == "experimental":
                        for i, src in enumerate(SOURCES):
                            extra[f"val_loss__{src}"] = y * (0.8 + 0.2 * i) * x ** (-0.05 * i)
                            extra[f"val_baseline__{src}"] = base * (0.8 + 0.2 * i)
                        extra["val_loss__Uzel2022"] = np.nan
                    rows.append(_row(data=data, arch=arch, seed=s, n_train_steps=int(x),
                                     n_worms=5 * (k + 1), min_val_loss=y, val_baseline=base,
                                     **extra))
            hid = [8, 32, 128, 512]
            for s in range(n_seeds):
                for h in hid:
                    if arch == "Baseline" and h != hid[0]:
                        continue
                    n_p = 0 if arch == "Baseline" else 600 * h + (h * h if arch != "Linear"
                                                                  else 0)
                    y = base if arch == "Baseline" else \
                        base * (1.05 + 3 * abs(np.log(h / 64)) / 10) * np.exp(rng.normal(0, .02))
                    rows.append(_row(experiment="model_scaling", data=data, arch=arch, seed=s,
                                     hidden=h, n_params=n_p, n_worms=40, n_train_steps=40_000,
                                     min_val_loss=y, val_baseline=base))
    return pd.DataFrame(rows)


def make_generation(n_ctx: int = 60, n_gen: int = 60) -> xr.Dataset:
    rng = np.random.default_rng(1)
    archs, neurons = list(ARCHS[1:]), ["AVAL", "AVAR", "RIML", "VB02"]
    t = np.arange(n_ctx + n_gen) * 0.666
    phase = rng.uniform(0, 2 * np.pi, len(neurons))
    truth = np.sin(t[:, None] / 4 + phase)
    gen = truth[None, n_ctx:] + rng.normal(0, 0.3, (len(archs), n_gen, len(neurons))).cumsum(1) / 5
    return xr.Dataset(
        {"context": (("arch", "time_ctx", "neuron"),
                     np.broadcast_to(truth[:n_ctx], (len(archs), n_ctx, len(neurons)))),
         "generated": (("arch", "time_gen", "neuron"), gen),
         "truth": (("arch", "time_gen", "neuron"),
                   np.broadcast_to(truth[n_ctx:], (len(archs), n_gen, len(neurons)))),
         "hidden": ("arch", [0 if a == "Linear" else 64 for a in archs])},
        coords={"arch": archs, "neuron": neurons,
                "time_ctx": ("time_ctx", t[:n_ctx], {"units": "s"}),
                "time_gen": ("time_gen", t[n_ctx:], {"units": "s"})},
        attrs={"synthetic": "true", "worm": "worm0"})


def test_loglog_fit_recovers_power_law():
    rng = np.random.default_rng(0)
    x = np.geomspace(10, 1e5, 30)
    y = 2 * x ** -0.5 * np.exp(rng.normal(0, 0.05, x.size))
    slope, intercept, r2 = loglog_fit(x, y)
    assert slope == pytest.approx(-0.5, abs=0.02)
    assert np.exp(intercept) == pytest.approx(2, rel=0.1)
    assert r2 > 0.98
    # non-positive / NaN pairs are dropped; < 2 distinct x raises
    assert loglog_fit(np.r_[x, 0, 5], np.r_[y, 1, np.nan])[0] == pytest.approx(slope)
    with pytest.raises(ValueError):
        loglog_fit([5, 5, 5], [1, 2, 3])


def test_slopes_table():
    fits = make_fits()
    tab = slopes_table(fits)
    assert list(tab["experiment"].unique()) == ["data_scaling", "model_scaling"]
    ds = tab[tab["experiment"] == "data_scaling"].set_index(["data", "arch"])
    assert ds.loc[("experimental", "CTRNN"), "slope"] == pytest.approx(-0.65, abs=0.05)
    assert ds.loc[("experimental", "Feedforward"), "slope"] == pytest.approx(-0.4, abs=0.05)
    assert ds.loc[("experimental", "LSTM"), "n_points"] == 12
    assert ds.loc[("experimental", "LSTM"), "baseline"] == pytest.approx(0.035)
    ms = tab[tab["experiment"] == "model_scaling"].set_index(["data", "arch"])
    assert ms["slope"].isna().all()
    assert ms.loc[("sines", "LSTM"), "n_params_at_min"] == 600 * 32 + 32 * 32
    # architecture order within each (experiment, data)
    first = tab[(tab["experiment"] == "data_scaling") & (tab["data"] == "experimental")]
    assert list(first["arch"]) == list(ARCHS)
    # a single training size → no fit, but a row
    one = slopes_table(pd.DataFrame([_row()]))
    assert one["n_points"].item() == 1 and np.isnan(one["slope"].item())


def test_per_source_slopes():
    per = per_source_slopes(make_fits())
    assert set(per["dataset"]) == set(SOURCES)  # the all-NaN Uzel2022 column is skipped
    lstm = per[per["arch"] == "LSTM"].set_index("dataset")
    for i, src in enumerate(SOURCES):
        assert lstm.loc[src, "slope"] == pytest.approx(-0.5 - 0.05 * i, abs=0.05)
        assert lstm.loc[src, "baseline"] == pytest.approx(0.035 * (0.8 + 0.2 * i))


def test_sanity_checks_pass_and_fail():
    fits = make_fits()
    checks = sanity_checks(fits)
    assert checks["passed"].all(), checks[~checks["passed"]]
    assert set(checks["check"]) == {"randomwalk_no_gain", "sines_lstm_beats_baseline",
                                    "data_scaling_slope_negative"}
    assert "Baseline" not in set(checks.loc[checks["check"] == "randomwalk_no_gain", "arch"])
    bad = fits.copy()
    rw = (bad["data"] == "randomwalk") & (bad["arch"] == "Transformer")
    bad.loc[rw.idxmax(), "min_val_loss"] = 0.9 * bad.loc[rw.idxmax(), "val_baseline"]
    sines = (bad["data"] == "sines") & (bad["arch"] == "LSTM")
    bad.loc[sines, "min_val_loss"] *= 10  # above the baseline, same slope
    grow = (bad["experiment"] == "data_scaling") & (bad["arch"] == "CTRNN")
    bad.loc[grow, "min_val_loss"] = bad.loc[grow, "n_train_steps"] ** 0.3
    failed = sanity_checks(bad).query("not passed")
    assert set(zip(failed["check"], failed["arch"], strict=True)) == {
        ("randomwalk_no_gain", "Transformer"), ("sines_lstm_beats_baseline", "LSTM"),
        ("data_scaling_slope_negative", "CTRNN")}


def test_real_and_synthetic_cohorts_stay_apart():
    """Both C. elegans cohorts are 'experimental' data: slopes and checks keep them apart."""
    syn = make_fits(n_seeds=1)
    syn = syn[syn["data"] == "experimental"]
    real = syn.assign(source="real", min_val_loss=syn["min_val_loss"] * 1.5)
    both = pd.concat([syn, real], ignore_index=True)
    table = slopes_table(both).query("experiment == 'data_scaling' and arch == 'CTRNN'")
    assert sorted(table["source"]) == ["real", "synthetic"]
    assert table["slope"].to_numpy() == pytest.approx([-0.65, -0.65], abs=0.05)
    assert (table["n_points"] == 6).all()  # not 12: the cohorts are fitted separately
    checks = sanity_checks(both)
    assert sorted(checks.loc[checks["arch"] == "CTRNN", "source"]) == ["real", "synthetic"]
    assert sorted(per_source_slopes(both)["source"].unique()) == ["real", "synthetic"]
    assert np.isnan(slopes_table(both).query("arch == 'Baseline'")["slope"]).all()


def test_undertrained_checks_are_inconclusive():
    fits = make_fits(n_seeds=1)
    rw = fits["data"] == "randomwalk"
    fits.loc[rw & (fits["arch"] == "LSTM"), "min_val_loss"] *= 100  # far above the baseline
    checks = sanity_checks(fits).set_index(["check", "data", "arch"])
    lstm = checks.loc[("randomwalk_no_gain", "randomwalk", "LSTM")]
    assert lstm["passed"] and not lstm["conclusive"] and lstm["loss_over_baseline"] > 5
    assert checks.loc[("randomwalk_no_gain", "randomwalk", "CTRNN"), "conclusive"]


def test_sanity_checks_skip_missing_rows():
    only = pd.DataFrame([_row(arch="CTRNN")])  # one size: no slope, no randomwalk/sines rows
    assert sanity_checks(only).empty


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("n_sizes,n_seeds", [(6, 2), (1, 1), (2, 1)])
def test_figures_render(tmp_path, n_sizes, n_seeds):
    from neurodyn.scaling.figures import (
        data_scaling_figure,
        generation_figure,
        model_scaling_figure,
        source_slopes_figure,
    )

    fits = make_fits(n_sizes=n_sizes, n_seeds=n_seeds)
    prov = {"neurodyn_version": "test", "seed": 0}
    paths = []
    for data in ("experimental", "sines", "randomwalk")[:3 if n_sizes == 6 else 1]:
        paths += [tmp_path / f"ds_{data}.png", tmp_path / f"ms_{data}.png"]
        data_scaling_figure(fits, paths[-2], prov, data=data)
        model_scaling_figure(fits, paths[-1], prov, data=data)
    paths.append(tmp_path / "sources.png")
    source_slopes_figure(fits, paths[-1], prov)
    if n_sizes == 6:
        paths.append(tmp_path / "gen.png")
        generation_figure(make_generation(), paths[-1], prov)
    for p in paths:
        assert p.stat().st_size > 10_000, p.name
    with pytest.raises(ValueError):
        data_scaling_figure(fits, tmp_path / "x.png", prov, data="lorenz")
