"""Pinned downloads are verified by sha256 before the file appears."""

import hashlib

import pytest

from neurodyn.download import fetch_verified
from neurodyn.errors import InputError


@pytest.fixture
def served(tmp_path):
    src = tmp_path / "remote.bin"
    src.write_bytes(b"calcium" * 1000)
    return src.as_uri(), hashlib.sha256(src.read_bytes()).hexdigest()


def test_verified_download(served, tmp_path):
    url, sha = served
    out = tmp_path / "raw" / "file.bin"
    fetch_verified(url, sha, out)
    assert out.read_bytes() == b"calcium" * 1000


def test_wrong_hash_leaves_nothing(served, tmp_path):
    url, _ = served
    out = tmp_path / "raw" / "file.bin"
    with pytest.raises(InputError, match="sha256.*mismatch"):
        fetch_verified(url, "0" * 64, out)
    assert list(out.parent.iterdir()) == []


def test_unpinned_hash_is_refused_with_the_hash_to_pin(served, tmp_path):
    url, sha = served
    with pytest.raises(InputError, match=sha):
        fetch_verified(url, None, tmp_path / "file.bin")
    assert not (tmp_path / "file.bin").exists()


def test_offline_fails_fast_and_says_where_to_put_the_file(tmp_path):
    out = tmp_path / "raw" / "file.bin"
    with pytest.raises(InputError, match=r"cannot fetch.*put it at .*file\.bin"):
        fetch_verified((tmp_path / "missing.bin").as_uri(), "0" * 64, out)
