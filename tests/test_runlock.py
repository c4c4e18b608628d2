"""The run lock: one holder per results folder, dropped by the kernel when the holder dies."""

import os
import signal
import subprocess
import sys

import pytest

from neurodyn import runlock

HOLD = (
    "import sys, time; from neurodyn import runlock; "
    "runlock.acquire(sys.argv[1]); print('locked', flush=True); time.sleep(60)"
)


@pytest.fixture
def holder(tmp_path):
    """A separate process holding the lock of ``tmp_path/results``."""
    results = tmp_path / "results"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(results)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    yield results, proc
    proc.kill()
    proc.wait()


def test_second_holder_is_refused_with_file_and_pid(holder):
    results, proc = holder
    with pytest.raises(runlock.RunLockedError) as err:
        runlock.acquire(results)
    message = str(err.value)
    assert str(results / ".neurodyn.lock") in message
    assert f"PID {proc.pid}" in message
    assert err.value.pid == proc.pid


def test_kill_9_drops_the_lock(holder):
    results, proc = holder
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    try:
        assert runlock.acquire(results) == results / ".neurodyn.lock"
        assert runlock.holder_pid(results / ".neurodyn.lock") == os.getpid()
    finally:
        runlock.release(results)


def test_acquire_is_idempotent_and_release_frees(tmp_path):
    results = tmp_path / "results"
    runlock.acquire(results)
    runlock.acquire(results)  # the same process may ask again
    probe = [sys.executable, "-c",
             "import sys; from neurodyn import runlock; runlock.acquire(sys.argv[1])",
             str(results)]
    try:
        busy = subprocess.run(probe, capture_output=True, text=True, timeout=60)
        assert busy.returncode != 0 and "RunLockedError" in busy.stderr
    finally:
        runlock.release(results)
    free = subprocess.run(probe, capture_output=True, text=True, timeout=60)
    assert free.returncode == 0, free.stderr
