"""Data: IDX parsing, SHA-256 verification, the fetch chain and both loader paths."""


import math
import os
import tempfile
import time

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lenet_nb import data, fetch
from tests.conftest import PROPERTY, idx_bytes


def test_read_idx_round_trip(tmp_path):
    X = torch.arange(2 * 3 * 4, dtype=torch.uint8).reshape(2, 3, 4)
    p = tmp_path / "x-idx3-ubyte"
    p.write_bytes(idx_bytes(X))
    assert torch.equal(data.read_idx(p), X)


def test_read_idx_rejects_truncated_and_foreign_files(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(idx_bytes(torch.zeros(4, 5, 5, dtype=torch.uint8))[:-3])
    with pytest.raises(data.DataError, match="truncated"):
        data.read_idx(p)
    p.write_bytes(b"PK\x03\x04 not an idx file")
    with pytest.raises(data.DataError, match="bad header"):
        data.read_idx(p)


def test_load_split_shapes_and_labels(tiny_root):
    X, y = data.load_split("FashionMNIST", train=True, root=tiny_root)
    assert X.shape == (50, 28, 28) and X.dtype == torch.uint8
    assert y.dtype == torch.int64 and y.tolist() == [i % 10 for i in range(50)]
    X, y = data.load_split("MNIST", train=False, root=tiny_root)
    assert X.shape == (20, 28, 28) and len(y) == 20


def test_corrupted_file_is_refused_with_a_fix(tiny_root):
    path = tiny_root / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    raw = bytearray(path.read_bytes())
    raw[100] ^= 0xFF  # one flipped byte: same size, different content
    path.write_bytes(bytes(raw))
    with pytest.raises(data.DataError) as e:
        data.load_split("MNIST", train=False, root=tiny_root)
    msg = str(e.value)
    assert "t10k-images-idx3-ubyte" in msg
    assert data.SHA256["MNIST"]["t10k-images-idx3-ubyte"] in msg
    assert "python -m lenet_nb.fetch fetch" in msg


def test_truncated_file_is_refused_even_after_a_good_read(tiny_root):
    data.load_split("MNIST", train=True, root=tiny_root)
    path = tiny_root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(data.DataError, match="corrupted"):
        data.load_split("MNIST", train=True, root=tiny_root)


def test_missing_file_and_unknown_name(tmp_path, fake_official):
    with pytest.raises(data.DataError, match="missing"):
        data.load_split("FashionMNIST", root=tmp_path)
    with pytest.raises(ValueError, match="FashionMNIST"):
        data.load_split("CIFAR10", root=tmp_path)


def test_tensor_batches_cover_every_sample_once_and_repeat_with_a_seed():
    X, y = torch.arange(10).float().reshape(10, 1, 1, 1), torch.arange(10)
    it = data.TensorBatches(X, y, batch_size=4, shuffle=True, seed=3)
    assert len(it) == 3
    epoch1 = [b for _, b in it]
    assert [len(b) for b in epoch1] == [4, 4, 2]  # the last batch is smaller
    assert sorted(torch.cat(epoch1).tolist()) == list(range(10))
    epoch2 = torch.cat([b for _, b in it])
    assert not torch.equal(torch.cat(epoch1), epoch2)  # reshuffled every epoch
    again = data.TensorBatches(X, y, batch_size=4, shuffle=True, seed=3)
    assert torch.equal(torch.cat([b for _, b in again]), torch.cat(epoch1))
    for Xb, yb in data.TensorBatches(X, y, batch_size=4, shuffle=True):
        assert torch.equal(Xb.flatten().long(), yb)  # images stay with their labels


def test_tensor_batches_reject_mismatched_inputs():
    with pytest.raises(ValueError, match="samples"):
        data.TensorBatches(torch.zeros(3, 1, 2, 2), torch.zeros(4), batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        data.TensorBatches(torch.zeros(3, 1, 2, 2), torch.zeros(3, dtype=torch.long), batch_size=0)


def test_fast_loader_shapes_padding_resize_and_subset(tiny_root):
    train_iter, test_iter = data.load_data_fashion_mnist(8, root=tiny_root)
    assert train_iter.X.shape == (50, 1, 28, 28) and test_iter.X.shape == (20, 1, 28, 28)
    assert 0 <= float(train_iter.X.min()) and float(train_iter.X.max()) <= 1
    train_iter, _ = data.load_data_mnist(8, pad=2, root=tiny_root)
    assert train_iter.X.shape[-2:] == (32, 32)
    assert float(train_iter.X[:, :, :2].abs().sum()) == 0  # the border is background
    train_iter, _ = data.load_data_mnist(8, resize=32, root=tiny_root)
    assert train_iter.X.shape[-2:] == (32, 32)
    train_iter, test_iter = data.load_data_mnist(8, subset=(12, 5), root=tiny_root)
    assert train_iter.num_samples == 12 and test_iter.num_samples == 5
    train_iter, test_iter = data.load_data_mnist(8, subset=12, root=tiny_root)
    assert (train_iter.num_samples, test_iter.num_samples) == (12, 2)


def test_fast_path_equals_the_classic_torchvision_path(tiny_root):
    for pad in (0, 2):
        _, fast = data.load_data_fashion_mnist(7, pad=pad, root=tiny_root)
        _, classic = data.load_data_fashion_mnist(7, pad=pad, root=tiny_root, fast=False,
                                                  num_workers=0)
        Xf, yf = map(torch.cat, zip(*fast))
        Xc, yc = map(torch.cat, zip(*classic))
        assert torch.equal(Xf, Xc) and torch.equal(yf, yc)


def test_num_workers_never_exceed_the_cores(monkeypatch):
    monkeypatch.setattr(data.os, "cpu_count", lambda: 2)
    assert data.default_num_workers() == 2
    assert data.default_num_workers(8) == 2
    assert data.default_num_workers(0) == 0


def test_text_labels():
    assert data.get_fashion_mnist_labels(torch.tensor([0, 9, 7])) == [
        "t-shirt", "ankle boot", "sneaker"]


@pytest.mark.skipif(data.problems("FashionMNIST") + data.problems("MNIST") != [],
                    reason="official data not fetched: run `make data`")
def test_official_data_loads():
    for name in ("FashionMNIST", "MNIST"):
        X, y = data.load_split(name, train=True)
        assert X.shape == (60000, 28, 28)
        X, y = data.load_split(name, train=False)
        assert X.shape == (10000, 28, 28) and sorted(y.unique().tolist()) == list(range(10))
    assert data.load_split("FashionMNIST")[1].bincount().tolist() == [6000] * 10
    assert data.load_split("FashionMNIST")[1][0] == 9  # the first image is an ankle boot
    assert data.load_split("MNIST")[1][:3].tolist() == [5, 0, 4]  # the well-known first digits


# --- careless and hostile inputs ------------------------------------------------------------


@pytest.mark.parametrize("pad, resize", [(2, 32), (0, 20), (1, 28)])
def test_item06_fast_and_classic_paths_resize_then_pad_alike(tiny_root, pad, resize):
    _, fast = data.load_data_mnist(7, pad=pad, resize=resize, root=tiny_root)
    _, classic = data.load_data_mnist(7, pad=pad, resize=resize, root=tiny_root, fast=False,
                                      num_workers=0)
    Xf, yf = map(torch.cat, zip(*fast))
    Xc, yc = map(torch.cat, zip(*classic))
    assert Xf.shape == (20, 1, resize + 2 * pad, resize + 2 * pad)
    assert torch.equal(Xf, Xc) and torch.equal(yf, yc)


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


@pytest.mark.parametrize("bad", [2.7, True, "4", 0, None])
def test_item16_tensor_batches_refuse_non_integer_batch_sizes(bad):
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        data.TensorBatches(torch.zeros(5, 1, 2, 2), torch.zeros(5, dtype=torch.long),
                           batch_size=bad)


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


# --- issue 19: shared data cannot change by accident; the environment is read truthfully -----


def test_unshuffled_batches_are_copies_the_stored_split_never_changes():
    X, y = torch.rand(10, 1, 2, 2), torch.arange(10)
    before = X.clone()
    test_iter = data.TensorBatches(X, y, 4)
    for Xb, yb in test_iter:
        Xb -= 0.5  # a learner's in-place normalisation inside an evaluation loop
        yb.zero_()
    assert torch.equal(test_iter.X, before) and torch.equal(test_iter.y, torch.arange(10))
    shuffled = data.TensorBatches(X, y, 4, shuffle=True)
    for Xb, _ in shuffled:
        Xb.zero_()
    assert torch.equal(shuffled.X, before)


@pytest.mark.parametrize(("y", "match"), [
    (torch.arange(6).view(6, 1), r"1-D tensor of class ids.*y.view\(-1\)"),
    (torch.arange(6).float(), r"integer class ids, got torch.float32.*y.long\(\)"),
    ([0, 1, 2, 3, 4, 5], "must be tensors"),
])
def test_labels_are_checked_when_the_batches_are_built(y, match):
    with pytest.raises(ValueError, match=match):
        data.TensorBatches(torch.rand(6, 1, 2, 2), y, 2)


def test_a_subset_larger_than_the_split_says_so(tiny_root):
    with pytest.raises(ValueError, match="subset .train. asks for 1,000,000 images but the "
                                         "split has 50"):
        data.load_data("MNIST", 8, subset=(10**6, 10), root=tiny_root)
    train_iter, test_iter = data.load_data("MNIST", 8, subset=(50, None), root=tiny_root)
    assert (train_iter.num_samples, test_iter.num_samples) == (50, 20)


def test_label_names_take_whole_numbers_only():
    import numpy as np

    assert data.get_fashion_mnist_labels(np.array([1, 9])) == ["trouser", "ankle boot"]
    assert data.get_fashion_mnist_labels(torch.tensor(3)) == ["dress"]
    assert data.get_fashion_mnist_labels(np.int64(0)) == ["t-shirt"]
    with pytest.raises(ValueError, match=r"float.*argmax"):
        data.get_fashion_mnist_labels(torch.tensor([1.7]))
    with pytest.raises(ValueError, match=r"shape \(1, 2\)"):
        data.get_fashion_mnist_labels(torch.tensor([[1, 2]]))
    with pytest.raises(ValueError, match="0..9"):
        data.get_fashion_mnist_labels([10])


def test_a_relative_data_root_is_taken_from_the_repository_root(tmp_path, monkeypatch):
    monkeypatch.setenv("LENET_NB_DATA", "mydata")
    for folder in (data.REPO_ROOT, data.REPO_ROOT / "notebooks", tmp_path):
        monkeypatch.chdir(folder)  # fetch runs at the root, a kernel in notebooks/
        assert data.data_root() == data.REPO_ROOT / "mydata"
    monkeypatch.setenv("LENET_NB_DATA", "~/r3data")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.data_root() == tmp_path / "r3data"
    monkeypatch.setenv("LENET_NB_DATA", "  ")
    assert data.data_root() == data.REPO_ROOT / "data"


def _missing_message(root, monkeypatch):
    monkeypatch.setenv("LENET_NB_DATA", str(root))
    with pytest.raises(data.DataError) as e:
        data.load_split("MNIST")
    return str(e.value)


def test_a_data_root_at_the_wrong_level_is_named_before_missing(tiny_root, monkeypatch):
    raw = data.raw_dir("MNIST", tiny_root)
    for too_deep in (raw, raw.parent):
        text = _missing_message(too_deep, monkeypatch)
        assert "one level too deep" in text and f"use {tiny_root}," in text
    (tiny_root / "notes.txt").write_text("x")
    assert "is a file, not a folder" in _missing_message(tiny_root / "notes.txt", monkeypatch)
    assert "does not exist" in _missing_message(tiny_root / "nowhere", monkeypatch)
    loop = tiny_root / "loop"
    loop.symlink_to(tiny_root / "loop2")
    (tiny_root / "loop2").symlink_to(loop)
    text = _missing_message(loop, monkeypatch)
    assert "symbolic link points back to itself" in text and "chmod" not in text
