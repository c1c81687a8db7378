"""The one writer: atomic, with ordinary modes, never over a file the package did not write."""

import contextlib
import errno
import os
import resource
import signal
import string
import subprocess
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lenet_nb import files
from tests.conftest import PROPERTY


def test_atomic_write_replaces_the_file_with_open_modes(tmp_path):
    dest = tmp_path / "a.bin"
    old_mask = os.umask(0o022)
    try:
        with files.atomic_write(dest) as tmp:
            assert tmp.parent == tmp_path and tmp != dest
            tmp.write_bytes(b"old")
        with files.atomic_write(dest) as tmp:
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


def test_stale_cleanup_removes_only_its_own_temp_names(tmp_path):
    """Issue 19 item 1: a learner's `.net.pt.original` (8 letters, 2 h old) is not a leftover."""
    dest = tmp_path / "net.pt"
    two_hours_ago = time.time() - 2 * 3600
    users = [tmp_path / n for n in (".net.pt.original", ".net.pt.backup-1", ".net.pt.20261205",
                                    ".net.pt.999999999.abcdefgh.tmp")]
    dead = tmp_path / ".net.pt.lenet_nb-999999999-0123abcd.tmp"  # no such process id
    live = tmp_path / f".net.pt.lenet_nb-{os.getpid()}-0123abcd.tmp"  # a live writer: us
    other = tmp_path / ".b.pt.lenet_nb-999999999-0123abcd.tmp"  # another file's temp
    for p in (*users, dead, live, other):
        p.write_bytes(b"x")
        os.utime(p, (two_hours_ago, two_hours_ago)) if p in users else None
    files.write_bytes(dest, b"weights")
    assert all(p.exists() for p in users), "a user's file was deleted"
    assert not dead.exists() and live.exists() and other.exists()


def test_a_file_the_package_did_not_write_is_not_replaced(tmp_path):
    dest = tmp_path / "model.pt"
    dest.write_bytes(b"the learner's own torch.save")

    def is_ours(path):
        return path.read_bytes().startswith(b"OURS")

    is_ours.ours = "a file of ours"
    with pytest.raises(files.NotOurs, match="model.pt exists and is not a file of ours"):
        files.write_bytes(dest, b"OURS new", owner=is_ours)
    assert dest.read_bytes() == b"the learner's own torch.save"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]
    dest.write_bytes(b"OURS old")
    files.write_bytes(dest, b"OURS new", owner=is_ours)
    assert dest.read_bytes() == b"OURS new"


def test_what_this_process_wrote_is_replaced_without_asking_again(tmp_path):
    dest, asked = tmp_path / "r.md", []

    def owner(path):
        asked.append(path)
        return False

    files.write_text(dest, "one", owner=owner)  # absent: nothing to ask
    files.write_text(dest, "two", owner=owner)  # ours: written above, unchanged since
    assert dest.read_text() == "two" and asked == []
    dest.write_text("edited by hand")
    with pytest.raises(files.NotOurs):
        files.write_text(dest, "three", owner=owner)
    assert dest.read_text() == "edited by hand"


def test_an_existing_file_keeps_its_mode(tmp_path):
    dest = tmp_path / "private.pt"
    dest.write_bytes(b"old")
    dest.chmod(0o600)
    files.write_bytes(dest, b"new")
    assert oct(dest.stat().st_mode & 0o777) == oct(0o600)


def test_a_symlink_stays_and_its_target_is_written(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    target, link = shared / "results.csv", tmp_path / "results.csv"
    target.write_text("old")
    link.symlink_to(target)
    files.write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_a_full_disk_says_so_and_keeps_the_old_file(tmp_path, monkeypatch):
    dest = tmp_path / "REPORT.md"
    dest.write_text("the old report")

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="no space left on the disk holding") as info:
        files.write_text(dest, "x" * 10_000)
    assert info.value.errno == errno.ENOSPC and "chmod" not in str(info.value)
    assert dest.read_text() == "the old report"
    assert [p.name for p in tmp_path.iterdir()] == ["REPORT.md"]


@contextlib.contextmanager
def _small_disk(tmp_path, size="64k"):
    """A tiny tmpfs (as root); skipped elsewhere, the fsync test above covers the message."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}",
                                            "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_really_full_disk_says_so_and_keeps_the_old_file(tmp_path):
    with _small_disk(tmp_path) as disk:
        dest = disk / "net.pt"
        files.write_bytes(dest, b"old")
        with pytest.raises(OSError, match="no space left on the disk holding"):
            files.write_bytes(dest, b"x" * 200_000)
        assert dest.read_bytes() == b"old"
        assert [p.name for p in disk.iterdir()] == ["net.pt"]


def test_check_writable_refuses_before_any_work(tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="empty"):
        files.check_writable("")
    with pytest.raises(OSError, match="is a folder, not a file"):
        files.check_writable(tmp_path)
    with pytest.raises(OSError, match="a file stands where a folder"):
        files.check_writable(tmp_path / "notes.txt" / "net.pt")
    with pytest.raises(files.NotOurs):
        files.check_writable(tmp_path / "notes.txt", owner=lambda p: False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert files.check_writable("~/new/net.pt") == tmp_path / "new" / "net.pt"
    assert (tmp_path / "new").is_dir() and not (tmp_path / "new" / "net.pt").exists()
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == []


def test_os_errors_are_explained_by_their_number(tmp_path):
    loop = tmp_path / "a"
    loop.symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(loop)
    with pytest.raises(OSError, match=r"symbolic link points back to itself \(.*a -> .*b -> "):
        files.write_text(loop / "x.txt", "hi")
    texts = {code: str(files.explain_os_error(OSError(code, os.strerror(code)),
                                              tmp_path / "f", "writing"))
             for code in (errno.EACCES, errno.EROFS, errno.ENOSPC)}
    assert "chmod" in texts[errno.EACCES] and "read-only" in texts[errno.EROFS]
    assert "chmod" not in texts[errno.ENOSPC] and "free" in texts[errno.ENOSPC]


@contextlib.contextmanager
def _file_size_limit(n):
    """Writes beyond `n` bytes fail (EFBIG) inside the block, as on a disk that fills up."""
    old_limit, old_handler = resource.getrlimit(resource.RLIMIT_FSIZE), signal.getsignal(
        signal.SIGXFSZ)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (n, old_limit[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)


@PROPERTY
@given(old=st.binary(max_size=3000), new=st.binary(max_size=3000),
       fail=st.one_of(st.none(), st.just("raise"), st.integers(0, 3000)))
def test_the_destination_is_old_or_new_never_anything_else(tmp_path_factory, old, new, fail):
    folder = tmp_path_factory.mktemp("w")
    dest = folder / "out.bin"
    dest.write_bytes(old)
    try:
        if fail == "raise":
            with files.atomic_write(dest) as tmp:
                tmp.write_bytes(new[: len(new) // 2])
                raise KeyboardInterrupt
        elif fail is None:
            files.write_bytes(dest, new)
        else:
            with _file_size_limit(fail):
                files.write_bytes(dest, new)
    except (KeyboardInterrupt, OSError):
        pass
    assert dest.read_bytes() in (old, new)
    assert [p.name for p in folder.iterdir()] == ["out.bin"]


@PROPERTY
@given(names=st.lists(st.text(string.ascii_letters + string.digits + "-_", min_size=8,
                              max_size=8), min_size=1, max_size=5, unique=True))
def test_dotfiles_that_look_like_temps_are_never_removed(tmp_path_factory, names):
    folder = tmp_path_factory.mktemp("d")
    hour_ago = time.time() - 2 * files.STALE_SECONDS
    kept = [folder / f".net.pt.{n}" for n in names]
    for p in kept:
        p.write_bytes(b"mine")
        os.utime(p, (hour_ago, hour_ago))
    files.write_bytes(folder / "net.pt", b"w")
    assert all(p.read_bytes() == b"mine" for p in kept)


def test_remove_deletes_only_what_the_package_wrote(tmp_path):
    ours, mine = tmp_path / "runs.partial.csv", tmp_path / "notes.csv"
    files.write_text(ours, "x")
    mine.write_text("my notes")
    assert files.remove(ours, owner=lambda p: False)  # written by this process, unchanged
    assert files.remove(ours) is False  # gone already: nothing to do
    with pytest.raises(files.NotOurs):
        files.remove(mine, owner=lambda p: False)
    assert mine.read_text() == "my notes"


def test_a_generated_folder_is_emptied_only_when_the_package_made_it(tmp_path):
    out = files.generated_folder(tmp_path / "build", "the book")
    (out / "src").mkdir()
    (out / "src" / "page.html").write_text("old page")
    files.empty_generated(out / "src")
    assert not (out / "src").exists() and out.is_dir()
    files.generated_folder(out, "the book")  # again: it holds only what the package made
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(files.NotOurs, match="holds files lenet_nb did not write"):
        files.generated_folder(mine, "the book")
    with pytest.raises(files.NotOurs, match="nothing was removed"):
        files.empty_generated(mine)
    assert (mine / "notes.txt").read_text() == "mine"
    old_build = tmp_path / "old"  # a build made before markers, recognised by the caller
    (old_build / "src").mkdir(parents=True)
    assert files.generated_folder(old_build, "the book", made_before=lambda f: True) == old_build
