"""The shared runner and trainer: fit keys, reuse, retraining, resume, progress, device."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from neurodyn.digest import code_digest, file_digest, inputs_digest
from neurodyn.train import device as device_mod
from neurodyn.train.callbacks import format_progress
from neurodyn.train.device import NoGPUError, TrainSettings, resolve_device
from neurodyn.train.runner import FitRunner, PlannedFit
from neurodyn.train.runtime import checkpoint_digest
from neurodyn.train.trainer import LAST, fit_resumable, make_trainer


class Regression(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(3, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = ((self.lin(x) - y) ** 2).mean()
        self.log("train_loss", loss, on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", ((self.lin(x) - y) ** 2).mean())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05)


def _loader() -> DataLoader:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=gen)
    return DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=16)


def _train(fit: PlannedFit) -> dict:
    torch.manual_seed(int(fit.spec.get("seed", 0)))
    trainer, ckpts = make_trainer(TrainSettings(), max_epochs=int(fit.spec["epochs"]),
                                  workdir=fit.dir, monitor="val_loss", label=fit.fit_id)
    module = Regression()
    fit_resumable(trainer, module, fit.dir, _loader(), _loader())
    return {"val_loss": float(trainer.callback_metrics["val_loss"]),
            "epochs": trainer.current_epoch, "best": ckpts.best_path().name}


def test_same_key_reuses_and_changed_config_code_or_input_retrains(tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"abc")
    calls: list[str] = []

    def train(fit: PlannedFit) -> dict:
        calls.append(fit.fit_id)
        return _train(fit)

    def runner(**kw) -> FitRunner:
        args = {"config": {"lr": 1}, "code": "c1", "inputs": [data], **kw}
        return FitRunner(tmp_path / "work", **args)

    first = runner().run([("a", {"epochs": 2}), ("b", {"epochs": 3})], train)
    assert calls == ["a", "b"]
    again = runner().run([("a", {"epochs": 2}), ("b", {"epochs": 3})], train)
    assert calls == ["a", "b"] and again == first
    runner(config={"lr": 2}).run([("a", {"epochs": 2})], train)
    runner(code="c2").run([("a", {"epochs": 2})], train)
    data.write_bytes(b"abd")
    runner().run([("a", {"epochs": 2})], train)
    assert calls == ["a", "b", "a", "a", "a"]
    longer = runner().run([("a", {"epochs": 4})], train)[0]
    assert longer["epochs"] == 4 and longer["val_loss"] < first[0]["val_loss"]
    # only the current key's folder is kept
    assert [p.name for p in (tmp_path / "work" / "a").iterdir()] == [longer["fit_key"]]


def test_result_with_foreign_key_is_not_reused(tmp_path):
    runner = FitRunner(tmp_path, config={}, code="c")
    [fit] = runner.plan([("a", {"epochs": 1})])
    fit.dir.mkdir(parents=True)
    (fit.dir / "result.json").write_text(json.dumps({"fit_key": "other"}))
    assert not runner.plan([("a", {"epochs": 1})])[0].done


def test_run_batched_trains_only_missing_fits_together(tmp_path):
    seen: list[list[str]] = []

    def train_all(fits: list[PlannedFit]) -> list[dict]:
        seen.append([f.fit_id for f in fits])
        return [{"value": f.spec["v"] * 2} for f in fits]

    runner = FitRunner(tmp_path, config={}, code="c")
    runner.run_batched([("a", {"v": 1})], train_all)
    out = runner.run_batched([("a", {"v": 1}), ("b", {"v": 5})], train_all)
    assert seen == [["a"], ["b"]]
    assert [r["value"] for r in out] == [2, 10]

    def wrong(fits: list[PlannedFit]) -> list[dict]:
        return []

    with pytest.raises(RuntimeError, match="0 records for 1 fits"):
        runner.run_batched([("c", {"v": 1})], wrong)


def test_killed_fit_resumes_from_last_checkpoint(tmp_path):
    runner = FitRunner(tmp_path, config={}, code="c")
    [fit] = runner.plan([("a", {"epochs": 5})])
    fit.dir.mkdir(parents=True)
    # a "killed" run: 2 of 5 epochs trained, last.ckpt left behind, no result.json
    trainer, _ = make_trainer(TrainSettings(), max_epochs=2, workdir=fit.dir)
    fit_resumable(trainer, Regression(), fit.dir, _loader(), _loader())
    rows_before = list(csv.DictReader((fit.dir / "metrics.csv").open()))
    assert len(rows_before) == 2
    record = runner.run([("a", {"epochs": 5})], _train)[0]
    rows = list(csv.DictReader((fit.dir / "metrics.csv").open()))
    assert record["epochs"] == 5
    assert [float(r["epoch"]) for r in rows] == [1, 2, 3, 4, 5]  # continued, not restarted
    assert rows[:2] == rows_before
    losses = [float(r["val_loss"]) for r in rows]
    assert losses[-1] < losses[0]  # the fit learns


def test_truncated_checkpoint_starts_over(tmp_path, caplog):
    (tmp_path / LAST).write_bytes(b"not a checkpoint")
    trainer, _ = make_trainer(TrainSettings(progress=False), max_epochs=1, workdir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="neurodyn"):
        fit_resumable(trainer, Regression(), tmp_path, _loader(), _loader())
    assert "ignoring unreadable checkpoint" in caplog.text
    assert trainer.current_epoch == 1


def test_progress_line_per_epoch(tmp_path, caplog):
    trainer, _ = make_trainer(TrainSettings(), max_epochs=3, workdir=None, label="fitX")
    with caplog.at_level(logging.INFO, logger="neurodyn"):
        fit_resumable(trainer, Regression(), None, _loader(), _loader())
    lines = [r.getMessage() for r in caplog.records if "fitX epoch" in r.getMessage()]
    assert [line.split()[2] for line in lines] == ["1/3", "2/3", "3/3"]
    for key in ("train_loss", "val_loss", "lr", "elapsed", "eta"):
        assert key in lines[-1]


def test_format_progress_eta():
    line = format_progress("f", 2, 10, {"train_loss": 0.5, "val_loss": 0.25}, 1e-3,
                           elapsed=20.0, epochs_this_run=2)
    assert line == ("f epoch 2/10 train_loss 0.5 val_loss 0.25 lr 1.00e-03 elapsed 20s "
                    "eta 1m20s")


def test_device_resolution(monkeypatch):
    monkeypatch.setattr(device_mod, "cuda_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(NoGPUError, match="asked for a GPU"):
        resolve_device("cuda")
    with pytest.raises(NoGPUError, match="asked for a GPU"):
        resolve_device("auto", gpus=1)
    with pytest.raises(NoGPUError, match="train.device is 'cpu'"):
        resolve_device("cpu", gpus=1)
    with pytest.raises(ValueError, match="train.device"):
        resolve_device("tpu")
    monkeypatch.setattr(device_mod, "cuda_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cpu") == "cpu"
    gpu = TrainSettings.from_config({"device": "auto", "precision": "bf16-mixed"}, gpus=1)
    assert (gpu.accelerator, gpu.effective_precision) == ("gpu", "bf16-mixed")
    cpu = TrainSettings.from_config({"device": "cpu", "precision": "bf16-mixed"})
    assert (cpu.accelerator, cpu.effective_precision) == ("cpu", "32-true")


def test_digests_follow_content(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    before = code_digest("a.py", "sub", root=pkg)
    (pkg / "sub" / "b.py").write_text("y = 3\n")
    assert code_digest("a.py", "sub", root=pkg) != before
    # a module's digest covers the neurodyn modules it imports, also inside functions
    (pkg / "c.py").write_text("def f():\n    from neurodyn.sub.b import y\n    return y\n")
    (pkg / "d.py").write_text("z = 0\n")
    before_c = code_digest("c.py", root=pkg)
    (pkg / "d.py").write_text("z = 1\n")
    assert code_digest("c.py", root=pkg) == before_c
    (pkg / "sub" / "b.py").write_text("y = 4\n")
    assert code_digest("c.py", root=pkg) != before_c
    with pytest.raises(FileNotFoundError, match="missing"):
        code_digest("missing", root=pkg)
    store = tmp_path / "store"
    (store / "c").mkdir(parents=True)
    (store / "c" / "0").write_bytes(b"1")
    d1 = file_digest(store)
    (store / "c" / "0").write_bytes(b"2")
    assert file_digest(store) != d1
    assert inputs_digest([pkg / "a.py"]) != inputs_digest([pkg / "sub" / "b.py"])
    single = tmp_path / "input.nc"
    single.write_bytes(b"abc")
    first = file_digest(single)
    assert file_digest(single) == first  # cached: same size and modification time
    single.write_bytes(b"abcd")
    assert file_digest(single) != first


def test_no_study_imports_in_shared_packages():
    root = Path(__file__).resolve().parents[1] / "src" / "neurodyn"
    studies = ("scaling", "wang2021", "lfads", "autolfads", "zapbench")
    shared = ("io", "data", "train", "eval", "hpo", "plots", "models")
    offenders = []
    for pkg in shared:
        for file in (root / pkg).rglob("*.py"):
            text = file.read_text()
            offenders += [f"{file.relative_to(root)} imports neurodyn.{s}" for s in studies
                          if f"neurodyn.{s}" in text]
    assert not offenders, offenders


def test_checkpoint_digest_follows_training_state_not_file_bytes(tmp_path):
    state = {"state_dict": {"w": torch.arange(4.0), "step": torch.tensor(2.0)}, "epoch": 3,
             "callbacks": {"MetricsCSV": {"rows": [{"elapsed_s": 1.0}]}}}
    torch.save(state, tmp_path / "a.ckpt")
    state["callbacks"]["MetricsCSV"]["rows"][0]["elapsed_s"] = 2.0  # wall time: ignored
    torch.save(state, tmp_path / "b.ckpt")
    assert checkpoint_digest(tmp_path / "a.ckpt") == checkpoint_digest(tmp_path / "b.ckpt")
    state["state_dict"]["w"][0] = 1.0
    torch.save(state, tmp_path / "c.ckpt")
    assert checkpoint_digest(tmp_path / "c.ckpt") != checkpoint_digest(tmp_path / "a.ckpt")
    state["state_dict"]["w"][0] = 0.0
    state["epoch"] = 4
    torch.save(state, tmp_path / "d.ckpt")
    assert checkpoint_digest(tmp_path / "d.ckpt") != checkpoint_digest(tmp_path / "a.ckpt")


def test_relative_early_stopping_ignores_creeping_improvements():
    import torch

    from neurodyn.train.callbacks import RelativeEarlyStopping

    def epochs_until_stop(losses, rel):
        stop = RelativeEarlyStopping("val_loss", patience=3, min_rel_delta=rel)
        for epoch, loss in enumerate(losses):
            should_stop, _ = stop._evaluate_stopping_criteria(torch.tensor(loss))
            if should_stop:
                return epoch
        return None

    creeping = [1.0 * (1 - 1e-4) ** k for k in range(20)]  # 0.01 % per epoch
    assert epochs_until_stop(creeping, 0.0) is None  # Lightning's default never stops
    assert epochs_until_stop(creeping, 1e-3) == 3
    learning = [1.0 * 0.9 ** k for k in range(20)]  # 10 % per epoch: keeps going
    assert epochs_until_stop(learning, 1e-3) is None
