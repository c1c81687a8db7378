"""Data: IDX parsing, SHA-256 verification, the fetch chain and both loader paths."""


import pytest
import torch

from lenet_nb import data
from tests.conftest import idx_bytes


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
        data.TensorBatches(torch.zeros(3, 1, 2, 2), torch.zeros(3), batch_size=0)


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
