"""AutoLFADS data: NLB layout of the synthetic stand-in, NLB "val" phase of real files,
clear errors, and real MC_Maze entering the DAG when its folder exists."""

import numpy as np
import pytest

from neurodyn.autolfads.data import nlb_split, nlb_val_phase, real_nlb_dataset, synthetic_reaching
from neurodyn.autolfads.evaluate import nlb_targets
from neurodyn.errors import InputError

from conftest import REPO
from workflow_helpers import run_snakemake

CFG = {"n_neurons": 20, "n_heldout": 5, "n_conditions": 4, "trials_per_condition": 10,
       "bin_width_s": 0.02, "window_s": [-0.25, 0.35], "n_forward_bins": 5}
EVAL = {"lag_ms": 100, "psth_sd_ms": 50}


def test_synthetic_reaching_in_nlb_layout():
    ds = synthetic_reaching(CFG, 0)
    split = nlb_split(ds, "mem", EVAL)
    assert split.n_heldin == 15 and split.n_obs == 30 - 5 and split.lag_ms == 100
    assert split.train["encod_data"].shape[1:] == (25, 15)
    assert split.train["recon_data"].shape[1:] == (30, 20)
    assert split.elements_per_trial == 30 * 20 and split.synthetic
    t = nlb_targets(split)
    n_eval = split.test["recon_data"].shape[0]
    assert t.eval_spikes_heldout.shape == (n_eval, 25, 5)
    assert t.eval_spikes_heldin_forward.shape == (n_eval, 5, 15)
    assert t.psth.shape == (4, 25, 20) and sum(len(i) for i in t.eval_cond_idx) == n_eval
    assert np.isnan(t.eval_behavior[:, -5:]).all()  # 100 ms lag = 5 bins at 20 ms
    no_heldout = ds.assign(heldout=("neuron", np.zeros(20, bool)))
    with pytest.raises(InputError, match="heldout"):
        nlb_split(no_heldout, "f.nc", EVAL)


def test_val_phase_relabels_nlb_splits():
    ds = synthetic_reaching(CFG, 0)  # read its splits as NLB's: train / valid (= NLB val) / test
    before = ds["split"].values.astype(str)
    out = nlb_val_phase(ds, 0.25, seed=0)
    after = out["split"].values.astype(str)
    assert out.sizes["trial"] == (before != "test").sum()
    assert (after == "test").sum() == (before == "valid").sum()
    n_train = (before == "train").sum()
    assert (after == "valid").sum() == round(0.25 * n_train)
    assert list(after) == list(nlb_val_phase(ds, 0.25, seed=0)["split"].values.astype(str))


def test_real_file_errors_name_the_file():
    ds = synthetic_reaching(CFG, 0)
    out = real_nlb_dataset(ds, "x.nc", {"valid_fraction": 0.2}, 0)
    assert out.attrs["study"] == "autolfads" and "test" in set(out["split"].values.astype(str))
    with pytest.raises(InputError, match=r"x\.nc.*split"):
        real_nlb_dataset(ds.drop_vars("split"), "x.nc", {"valid_fraction": 0.2}, 0)


@pytest.mark.workflow
def test_real_mc_maze_enters_the_dag_when_present(tmp_path):
    (tmp_path / "sub-Jenkins_ses-full_desc-train_behavior+ecephys.nwb").write_bytes(b"")
    res = run_snakemake(REPO, "-n", "--config",
                        f'autolfads={{"real": {{"dirs": {{"MC_Maze": "{tmp_path}"}}}}}}',
                        "--", "results/autolfads/tables/table2.csv")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert "autolfads_real_data" in out and "results/autolfads/MC_Maze/data.nc" in out
    assert "results/data/nlb/MC_Maze_20ms.nc" in out  # the shared NWB conversion
