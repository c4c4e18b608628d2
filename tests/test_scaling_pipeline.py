"""Windows, worm subsets, the experiment grid, chunked runs with resume, and collection."""

import json

import numpy as np
import pandas as pd
import pytest

from neurodyn.data.synthetic_controls import control_dataset
from neurodyn.scaling.collect import fits_table, generation_dataset
from neurodyn.scaling.grid import Fit, grid
from neurodyn.scaling.windows import nested_worm_subsets, window_starts, worm_windows

CFG = {
    "archs": ["Baseline", "Linear", "LSTM"], "seeds": [0], "seq_len": 20,
    "train_windows": 3, "val_windows": 2, "train_first": True, "matched_params": 2000,
    "data_scaling": {"worm_levels": [1, 3]}, "model_scaling": {"hidden": [4, 8]},
    # batch 5 over 8 validation windows: batches of 5 and 3 (mean over batches != pooled)
    "train": {"max_epochs": 2, "patience": 10, "batch_size": 5, "lr": 0.01},
    "generation": {"context": 15, "generate": 5, "neurons": 2},
}


@pytest.fixture(scope="module")
def sines():
    return control_dataset("sines", 4, 120, 10, seed=0)


def test_window_starts_and_targets(sines):
    assert window_starts(60, 20, 3).tolist() == [0, 19, 39]
    w = worm_windows(sines, ["sines_worm0"], 20, 3, "train")
    assert w.x.shape == (3, 20, 302) and w.mask.sum() == 3 * 10
    np.testing.assert_array_equal(w.x[:, 1:], w.y[:, :-1])  # target = input shifted by one
    series = np.nan_to_num(sines["activity"].values[0, :60])
    np.testing.assert_allclose(w.x[1], series[19:39])
    assert w.unique_steps == 59  # windows 0-19, 19-38, 39-58 cover 59 distinct steps
    val = worm_windows(sines, ["sines_worm0"], 20, 3, "val")
    np.testing.assert_allclose(val.x[0], np.nan_to_num(sines["activity"].values[0, 60:80]))
    with pytest.raises(ValueError, match="too short"):
        worm_windows(sines, ["sines_worm0"], 80, 3, "train")


def test_nested_subsets_grow():
    worms = [f"w{i}" for i in range(10)]
    subsets = nested_worm_subsets(worms, [2, 5, 10], seed=1)
    assert subsets[2] == subsets[5][:2] and sorted(subsets[10]) == sorted(worms)
    assert nested_worm_subsets(worms, [5], seed=1) == {5: subsets[5]}
    with pytest.raises(ValueError):
        nested_worm_subsets(worms, [11], seed=1)


def test_grid_is_from_config():
    fits = grid(CFG)
    # per arch: 2 data levels + model sizes (Baseline/Linear have a fixed size: 1 fit)
    assert len(fits) == 3 * 2 + 1 + 1 + 2
    assert Fit("model_scaling", "LSTM", 0, 8) in fits
    assert len({f.fit_id for f in fits}) == len(fits)


def test_run_collect_and_resume(sines, tmp_path, monkeypatch):
    from neurodyn.scaling import run

    fits = grid(CFG)
    records = run.run_fits(sines, fits, CFG, tmp_path)
    table = fits_table(records, "sines")
    assert len(table) == len(fits) and (table["data"] == "sines").all()
    base = table[table["arch"] == "Baseline"]
    assert np.allclose(base["min_val_loss"], base["val_baseline"])
    assert (table.loc[table["arch"] == "LSTM", "epochs_run"] > 0).all()
    # min_val_loss is the monitored loss (mean over validation batches) at the best epoch,
    # not the loss pooled over every entry (the per-source column)
    trained = table[table["epochs_run"] > 0]
    monitored = [pd.read_csv(next(tmp_path.glob(f"{fit_id}/*/metrics.csv")))["val_loss"].min()
                 for fit_id in trained["fit_id"]]
    np.testing.assert_allclose(trained["min_val_loss"], monitored, rtol=1e-5)
    source = [c for c in table.columns if c.startswith("val_loss__")]
    assert len(source) == 1
    assert not np.allclose(trained["min_val_loss"], trained[source[0]], rtol=1e-6)
    gen = generation_dataset(records, "sines")
    assert set(gen["arch"].values) == {"Baseline", "Linear", "LSTM"}
    assert gen["generated"].shape == (3, 5, 2)
    # Fig. 7 shows each class's best model: the model-scaling LSTM with the lowest loss
    lstm = table[(table["arch"] == "LSTM") & (table["experiment"] == "model_scaling")]
    best = lstm.loc[lstm["min_val_loss"].idxmin()]
    assert int(gen["hidden"].sel(arch="LSTM")) == best["hidden"]
    assert float(gen["min_val_loss"].sel(arch="LSTM")) == best["min_val_loss"]
    assert sum("generation" in r for r in records) == 1 + 1 + 2  # every model-scaling fit
    # a fit killed after its last epoch (no result.json yet) resumes from its checkpoint
    lstm_id = "data_scaling-LSTM-seed0-3"
    [done] = tmp_path.glob(f"{lstm_id}/*/result.json")
    assert (done.parent / "last.ckpt").exists() and (done.parent / "best.ckpt").exists()
    done.unlink()
    resumed = run.run_fits(sines, fits, CFG, tmp_path)
    assert json.dumps(resumed, sort_keys=True) == json.dumps(records, sort_keys=True)
    # a second run reuses the per-fit results instead of training again
    monkeypatch.setattr(run, "fit_next_step", lambda *a, **k: pytest.fail("retrained"))
    again = run.run_fits(sines, fits, CFG, tmp_path)
    assert json.dumps(again, sort_keys=True) == json.dumps(records, sort_keys=True)
    # ... also when only keys no fit depends on change (cohort list, grid, job size)
    other = {**CFG, "cohorts": ["sines", "real"], "fits_per_job": 1, "archs": ["LSTM"]}
    assert run.run_fits(sines, fits, other, tmp_path) == again
    # a training-length change retrains the trained fits
    monkeypatch.undo()
    shorter = {**CFG, "train": {**CFG["train"], "max_epochs": 1}}
    lstm = [f for f in fits if f.arch == "LSTM"][:1]
    [rec] = run.run_fits(sines, lstm, shorter, tmp_path)
    assert rec["epochs_run"] == 1 and rec["fit_key"] != records[fits.index(lstm[0])]["fit_key"]


def test_training_lowers_the_loss(sines, tmp_path):
    from neurodyn.scaling import run

    cfg = {**CFG, "train": {**CFG["train"], "max_epochs": 4}}
    fit = Fit("data_scaling", "Linear", 0, 3)
    [rec] = run.run_fits(sines, [fit], cfg, tmp_path)
    [metrics] = tmp_path.glob(f"{fit.fit_id}/*/metrics.csv")
    per_epoch = pd.read_csv(metrics)
    assert list(per_epoch["epoch"]) == [1, 2, 3, 4] and rec["epochs_run"] == 4
    assert per_epoch["train_loss"].iloc[-1] < 0.9 * per_epoch["train_loss"].iloc[0], per_epoch
    assert per_epoch["val_loss"].iloc[-1] < per_epoch["val_loss"].iloc[0], per_epoch
    assert rec["min_val_loss"] == pytest.approx(per_epoch["val_loss"].min(), rel=1e-5)
    # training is reproducible: a second fit from scratch gives the same record
    [again] = run.run_fits(sines, [fit], cfg, tmp_path / "again")
    assert json.dumps(again, sort_keys=True) == json.dumps(rec, sort_keys=True)


def test_generation_seed_worm_is_configurable_by_dataset():
    import xarray as xr

    from neurodyn.scaling.generation import PAPER_SEED_DATASET, generation_worm

    worms = ["Kato2015_w0", "Uzel2022_w0", "Uzel2022_w1", "Dag2023_w0"]
    ds = xr.Dataset({"dataset": ("worm", ["Kato2015", "Uzel2022", "Uzel2022", "Dag2023"])},
                    coords={"worm": worms})
    assert PAPER_SEED_DATASET == "Uzel2022"
    assert generation_worm(ds, worms, "Uzel2022") == "Uzel2022_w0"  # the paper's choice
    assert generation_worm(ds, worms[2:], "Uzel2022") == "Uzel2022_w1"  # first usable one
    assert generation_worm(ds, worms, "Dag2023") == "Dag2023_w0"
    assert generation_worm(ds, worms, "Yemini2021") == "Kato2015_w0"  # absent: first worm
