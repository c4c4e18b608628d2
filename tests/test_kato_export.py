"""Reader for the Kato 2015 npz/csv export, on fixtures written in that format."""

from pathlib import Path

import numpy as np
import pytest

from neurodyn.data.celegans.readers.kato_export import KATO_STATES, read_kato_export
from neurodyn.errors import InputError


def write_export(root: Path, worms: list[tuple[int, list[str]]]) -> None:
    """Write worms (T, names) as raw_full_data_worm_{k+1}.npz + worm_{k}_*.csv files."""
    (root / "traces_nc-mcm").mkdir(parents=True)
    (root / "labels_nc-mcm-visualizer").mkdir()
    rng = np.random.default_rng(0)
    for k, (t, names) in enumerate(worms):
        np.savez(root / "traces_nc-mcm" / f"raw_full_data_worm_{k + 1}.npz",
                 rng.normal(size=(t, len(names))))
        labels = root / "labels_nc-mcm-visualizer"
        (labels / f"worm_{k}_neurons.csv").write_text(",".join(names) + "\n")
        (labels / f"worm_{k}_states.csv").write_text(",".join(KATO_STATES))
        (labels / f"worm_{k}_y.csv").write_text(",".join(str(i % 8) for i in range(t)))


def test_reads_export(tmp_path):
    write_export(tmp_path, [(30, ["AVAL", "1", "VB01"]), (25, ["2", "RIML"])])
    records, states = read_kato_export(tmp_path)
    assert states == KATO_STATES
    assert [r.traces.shape for r in records] == [(30, 3), (25, 2)]
    assert records[0].ids == ["AVAL", "1", "VB01"]
    assert records[0].time_s[-1] == pytest.approx(29 * 1080 / 30)
    assert records[1].behavior.tolist()[:9] == [0, 1, 2, 3, 4, 5, 6, 7, 0]


def test_wrong_label_length(tmp_path):
    write_export(tmp_path, [(30, ["AVAL"])])
    (tmp_path / "labels_nc-mcm-visualizer" / "worm_0_y.csv").write_text("1,2,3")
    with pytest.raises(InputError, match=r"worm_0_y\.csv: field 'labels': 3 labels for 30"):
        read_kato_export(tmp_path)


def test_truncated_npz(tmp_path):
    write_export(tmp_path, [(30, ["AVAL"])])
    f = tmp_path / "traces_nc-mcm" / "raw_full_data_worm_1.npz"
    f.write_bytes(f.read_bytes()[:100])
    with pytest.raises(InputError, match=r"raw_full_data_worm_1\.npz: field '\(file\)'"):
        read_kato_export(tmp_path)


def test_missing_names_file(tmp_path):
    write_export(tmp_path, [(30, ["AVAL"])])
    (tmp_path / "labels_nc-mcm-visualizer" / "worm_0_neurons.csv").unlink()
    with pytest.raises(InputError, match="worm_0_neurons.csv"):
        read_kato_export(tmp_path)
