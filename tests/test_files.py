"""Atomic writes with ordinary modes; stale temp files of a killed writer are removed."""

import os
import time

import pytest

from lenet_nb import files


def test_atomic_write_replaces_the_file_with_open_modes(tmp_path):
    dest = tmp_path / "a.bin"
    dest.write_bytes(b"old")
    old_mask = os.umask(0o022)
    try:
        with files.atomic_write(dest) as tmp:
            assert tmp.parent == tmp_path and tmp != dest
            tmp.write_bytes(b"new")
            assert dest.read_bytes() == b"old"  # readers see the old file until the rename
    finally:
        os.umask(old_mask)
    assert dest.read_bytes() == b"new"
    assert oct(dest.stat().st_mode & 0o777) == oct(0o644)
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    dest = tmp_path / "a.bin"
    dest.write_bytes(b"old")
    with pytest.raises(RuntimeError), files.atomic_write(dest) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert dest.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_remove_stale_temps_removes_only_dead_writers_files(tmp_path):
    dest = tmp_path / "a.bin"
    dead = tmp_path / ".a.bin.999999999.x1.tmp"  # no such process id
    live = tmp_path / f".a.bin.{os.getpid()}.x2.tmp"  # this process: a live writer
    old = tmp_path / ".a.bin.abcd1234"  # the older naming, without a process id
    other = tmp_path / ".b.bin.999999999.x3.tmp"  # another file's temp
    for p in (dead, live, old, other):
        p.write_bytes(b"x")
    hour_ago = time.time() - files.STALE_SECONDS - 10
    os.utime(old, (hour_ago, hour_ago))
    removed = files.remove_stale_temps(dest)
    assert sorted(removed) == sorted([dead, old])
    assert live.exists() and other.exists()
