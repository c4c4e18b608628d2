"""The synthetic worms must make the studies' questions answerable."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from neurodyn.data.celegans.preprocess import PreprocessParams, preprocess_dataset
from neurodyn.data.celegans.synthetic import synthetic_dataset
from neurodyn.io.calcium import validate_calcium


@pytest.fixture(scope="module")
def kato():
    return preprocess_dataset(synthetic_dataset("Kato2015", 5, seed=3), PreprocessParams())


def _worm(ds, w, neurons):
    n = int(ds["n_timesteps"][w])
    return ds["activity"].sel(neuron=neurons).values[w, :n], ds["behavior"].values[w, :n]


def test_deterministic_and_valid():
    a = synthetic_dataset("Yemini2021", 2, seed=1)
    b = synthetic_dataset("Yemini2021", 2, seed=1)
    c = synthetic_dataset("Yemini2021", 2, seed=2)
    validate_calcium(a, "synthetic")
    assert a.attrs["synthetic"] == "true" and "SYNTHETIC" in a.attrs["references"]
    np.testing.assert_array_equal(a["activity"].values, b["activity"].values)
    assert not np.array_equal(a["labeled"].values, c["labeled"].values)


def test_kato_labels_and_core_neurons(kato):
    assert list(kato["state"].values) == ["dt", "fwd", "nostate", "rev1", "rev2", "revsus",
                                          "slow", "vt"]
    codes = kato["behavior"].values[kato["valid"].values]
    assert set(np.unique(codes)) == set(range(8))
    assert kato["labeled"].sel(neuron=["AVAL", "AVBL", "VB1", "VB2", "RIML"]).all()


def test_behaviour_decodable_from_few_shared_neurons_across_worms(kato):
    neurons = ["AVAL", "AVAR", "AVBL", "RIML", "SMDVR", "SMDDR", "VB2"]
    reverse = {3, 4, 5}
    forward = {1, 6}
    xs, ys = [], []
    for w in range(5):
        x, b = _worm(kato, w, neurons)
        keep = np.isin(b, list(reverse | forward))
        xs.append(x[keep])
        ys.append(np.isin(b[keep], list(reverse)))
    # train on 3 worms, test on the 2 unseen worms
    clf = LogisticRegression(max_iter=1000).fit(np.concatenate(xs[:3]), np.concatenate(ys[:3]))
    acc = clf.score(np.concatenate(xs[3:]), np.concatenate(ys[3:]))
    assert acc > 0.85


@pytest.mark.parametrize("seed", [0, 3])
def test_worms_differ(seed):
    """Functional connectivity among shared neurons differs more between worms than
    between the two halves of one worm's recording."""
    ds = preprocess_dataset(synthetic_dataset("Kato2015", 5, seed=seed), PreprocessParams())
    shared = [str(n) for n in ds["neuron"].values if ds["labeled"].sel(neuron=n).all()]
    halves = []
    for w in range(5):
        x, _ = _worm(ds, w, shared)
        h = x.shape[0] // 2
        halves.append((np.corrcoef(x[:h].T), np.corrcoef(x[h:].T)))
    within = np.mean([np.abs(a - b).mean() for a, b in halves])
    between = np.mean([np.abs(halves[i][0] - halves[j][1]).mean()
                       for i in range(5) for j in range(5) if i != j])
    assert between > 1.5 * within


def test_next_step_beats_naive(kato):
    x, _ = _worm(kato, 0, [n for n in kato["neuron"].values
                           if kato["labeled"].values[0][list(kato["neuron"].values).index(n)]])
    half = x.shape[0] // 2
    naive = np.mean((x[half + 1:] - x[half:-1]) ** 2)
    model = Ridge(1.0).fit(x[: half - 1], x[1:half] - x[: half - 1])
    pred = x[half:-1] + model.predict(x[half:-1])
    mse = np.mean((x[half + 1:] - pred) ** 2)
    assert mse < 0.9 * naive
