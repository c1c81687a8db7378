"""Checkpoints: a save/load round trip, the stored description, and refusals that change nothing."""

import pytest
import torch

from lenet_nb import models, train
from lenet_nb.checkpoint import load_checkpoint, save_checkpoint
from lenet_nb.lessons import pitfalls
from lenet_nb.models import LeNet


def test_round_trip_restores_the_weights_and_returns_the_extras(tmp_path):
    torch.manual_seed(0)
    net = LeNet()
    path = save_checkpoint(net, tmp_path / "sub" / "net.pt", epoch=3, test_acc=0.5)
    torch.manual_seed(1)
    other = LeNet()
    extra = load_checkpoint(other, path)
    assert extra["epoch"] == 3 and extra["test_acc"] == 0.5 and "architecture" in extra
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(),
                                                 other.state_dict().values()))


def test_another_variant_is_refused_and_nothing_is_loaded(tmp_path):
    path = save_checkpoint(LeNet(activation="relu", pooling="max"), tmp_path / "net.pt")
    net = LeNet()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(ValueError, match="does not fit this network") as info:
        load_checkpoint(net, path)
    assert "Nothing was loaded" in str(info.value)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_a_file_that_is_not_a_checkpoint_is_named(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ValueError, match="notes.txt is not a valid checkpoint") as info:
        load_checkpoint(LeNet(), path)
    assert "weights_only=False" not in str(info.value)


# --- careless and hostile inputs ------------------------------------------------------------


def _weights(net):
    return {k: v.clone() for k, v in net.state_dict().items()}


def _unchanged(net, before):
    return all(torch.equal(v, before[k]) for k, v in net.state_dict().items())


def test_item01_partly_fitting_checkpoint_changes_nothing(tmp_path):
    torch.manual_seed(0)
    src = models.LeNet(num_classes=10)
    path = tmp_path / "old.pt"
    # a checkpoint without a description (as written before issue 11): keys and shapes decide
    torch.save({"state_dict": src.state_dict(), "extra": {}}, path)
    torch.manual_seed(1)
    net = models.LeNet(num_classes=5)  # the last layer's weight and bias differ in shape
    before = _weights(net)
    with pytest.raises(ValueError, match="does not fit") as e:
        train.load_checkpoint(net, path)
    assert "Nothing was loaded" in str(e.value) and "[10, 84] in the file, [5, 84] here" in str(
        e.value)
    assert _unchanged(net, before)  # not a hybrid: the 8 matching tensors were not copied


def test_item01_other_variant_with_equal_shapes_is_refused_naming_both(tmp_path):
    torch.manual_seed(0)
    path = train.save_checkpoint(models.LeNet(activation="relu", pooling="max"),
                                 tmp_path / "relu.pt")
    net = models.LeNet()  # sigmoid/avg: every tensor has the same shape
    before = _weights(net)
    with pytest.raises(ValueError, match="does not fit") as e:
        train.load_checkpoint(net, path)
    msg = str(e.value)
    assert "LeNet(Conv2d, ReLU, MaxPool2d" in msg and "LeNet(Conv2d, Sigmoid, AvgPool2d" in msg
    assert _unchanged(net, before)


def test_item01_description_is_stored_and_old_checkpoints_still_load(tmp_path):
    torch.manual_seed(0)
    src = models.LeNet(activation="relu")
    path = train.save_checkpoint(src, tmp_path / "new.pt", epoch=3)
    assert torch.load(path, weights_only=True)["extra"] == {
        "epoch": 3, "architecture": models.describe_model(src)}
    old = tmp_path / "old.pt"
    torch.save({"state_dict": src.state_dict(), "extra": {"epoch": 1}}, old)
    net = models.LeNet(activation="relu")
    assert train.load_checkpoint(net, old) == {"epoch": 1}
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), src.parameters()))


def _bad_files(tmp_path):
    good = train.save_checkpoint(models.LeNet(), tmp_path / "good.pt")
    files = {"truncated": good.read_bytes()[:len(good.read_bytes()) // 2], "empty": b"",
             "text": b"weights: 1, 2, 3\n"}
    paths = []
    for name, content in files.items():
        (tmp_path / f"{name}.pt").write_bytes(content)
        paths.append(tmp_path / f"{name}.pt")
    (tmp_path / "dir.pt").mkdir()
    pitfalls.write_untrusted_checkpoint(tmp_path / "pickle.pt")
    return paths + [tmp_path / "dir.pt", tmp_path / "pickle.pt"]


def test_item12_invalid_checkpoints_raise_a_value_error_naming_the_file(tmp_path):
    payload_runs = len(pitfalls.CALLS)
    for path in _bad_files(tmp_path):
        net = models.LeNet()
        before = _weights(net)
        with pytest.raises(ValueError, match="not a valid checkpoint") as e:
            train.load_checkpoint(net, path)
        assert str(path) in str(e.value) and _unchanged(net, before)
        err = e.value
        shown = err.__cause__ or (None if err.__suppress_context__ else err.__context__)
        assert "weights_only" not in str(err) + str(shown or ""), path.name  # traceback text
    assert len(pitfalls.CALLS) == payload_runs  # the pickle's payload never ran
    with pytest.raises(ValueError, match="refers to lenet_nb.lessons.pitfalls._record_call"):
        train.load_checkpoint(models.LeNet(), tmp_path / "pickle.pt")


def test_item12_missing_checkpoint_still_says_train_first(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train.load_checkpoint(models.LeNet(), tmp_path / "none.pt")
