"""Checkpoints: a save/load round trip, the stored description, and refusals that change nothing."""

import datetime
import errno
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lenet_nb import models, train
from lenet_nb.checkpoint import load_checkpoint, save_checkpoint
from lenet_nb.lenet5 import LeNet5
from lenet_nb.lessons import pitfalls
from lenet_nb.models import LeNet
from tests.conftest import PROPERTY


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


# --- issue 19: whatever save_checkpoint accepts, load_checkpoint loads --------------------------


@pytest.mark.parametrize(("value", "named"), [
    (train.History([{"epoch": 1, "test_acc": 0.5}]), "list(history)"),
    (np.float64(0.93), "float(value)"),
    (np.int64(3), "int(value)"),
    (Path("data"), "str(path)"),
    (datetime.datetime(2026, 12, 5), "plain values"),
])
def test_an_extra_load_would_refuse_is_refused_at_save_naming_its_key(tmp_path, value, named):
    path = tmp_path / "net.pt"
    with pytest.raises(ValueError, match="extra 'info'") as e:
        save_checkpoint(LeNet(), path, epoch=1, info=value)
    assert named in str(e.value) and "Nothing was written" in str(e.value)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_the_architecture_key_is_reserved(tmp_path):
    with pytest.raises(ValueError, match="'architecture' is reserved"):
        save_checkpoint(LeNet(), tmp_path / "net.pt", architecture="my notes")
    assert not (tmp_path / "net.pt").exists()


def test_tilde_is_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    save_checkpoint(LeNet(), "~/ck/net.pt", epoch=2)
    assert (tmp_path / "ck" / "net.pt").is_file() and not (tmp_path / "~").exists()
    assert load_checkpoint(LeNet(), "~/ck/net.pt")["epoch"] == 2


def test_a_learners_own_file_is_never_replaced(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(LeNet(), path)  # the whole module pickled: not a checkpoint of ours
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="model.pt exists and is not a checkpoint"):
        save_checkpoint(LeNet(), path)
    assert path.read_bytes() == before
    save_checkpoint(LeNet(), tmp_path / "ours.pt", epoch=1)  # one of ours is replaced
    save_checkpoint(LeNet(), tmp_path / "ours.pt", epoch=2)
    assert load_checkpoint(LeNet(), tmp_path / "ours.pt")["epoch"] == 2


def test_a_full_disk_says_so_and_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(LeNet(), tmp_path / "net.pt", epoch=1)
    before = path.read_bytes()

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="no space left") as e:
        save_checkpoint(LeNet(), path, epoch=2)
    assert "unexpected pos" not in str(e.value) and path.read_bytes() == before


_plain = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8)
          | st.binary(max_size=8))
_odd = (st.floats(allow_nan=False).map(np.float64) | st.integers(-5, 5).map(np.int64)
        | st.text(max_size=4).map(Path) | st.just(datetime.date(2026, 12, 5))
        | st.frozensets(st.integers(0, 3), max_size=3) | st.sets(st.integers(0, 3), max_size=3)
        | st.just(train.History([{"epoch": 1}]))
        | st.sampled_from([torch.float32, torch.int64, torch.uint8, torch.bool, torch.float64])
        .map(lambda dtype: (torch.arange(4) % 2).to(dtype)))
_extras = st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.recursive(
    _plain | _odd, lambda c: st.lists(c, max_size=3) | st.tuples(c, c)
    | st.dictionaries(st.text(max_size=4), c, max_size=3), max_leaves=8), max_size=4)
_nets = st.sampled_from([lambda: torch.nn.Linear(3, 2), lambda: models.get_model("mlp"),
                         lambda: LeNet5("rbf")])


def _equal(a, b):
    """Same type and value; NaN equals NaN; tensors by dtype and elements (the test's own)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and a.tolist() == b.tolist()
    if isinstance(a, float) and a != a:
        return b != b
    if isinstance(a, dict):
        return list(a) == list(b) and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(_equal, a, b))
    return a == b


@PROPERTY
@given(extra=_extras, build=_nets)
def test_whatever_save_accepts_load_loads_as_saved(tmp_path_factory, extra, build):
    path = tmp_path_factory.mktemp("ck") / "net.pt"
    extra.pop("architecture", None)
    torch.manual_seed(0)
    net = build()
    try:
        save_checkpoint(net, path, **extra)
    except ValueError as e:
        assert re.search(r"extra '(\w+)'", str(e)).group(1) in extra
        assert not path.exists()
        return
    torch.manual_seed(1)
    fresh = build()
    back = load_checkpoint(fresh, path)
    assert back.pop("architecture") == models.describe_model(net)
    assert _equal(back, extra)
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(),
                                                 fresh.state_dict().values()))


@PROPERTY
@given(cut=st.integers(min_value=0))
def test_any_prefix_of_a_checkpoint_is_refused_and_nothing_is_copied(tmp_path_factory, cut):
    folder = tmp_path_factory.mktemp("cut")
    data = save_checkpoint(LeNet(), folder / "net.pt", epoch=1).read_bytes()
    (folder / "cut.pt").write_bytes(data[: cut % len(data)])
    net = LeNet()
    before = _weights(net)
    with pytest.raises(ValueError, match="cut.pt is not a valid checkpoint"):
        load_checkpoint(net, folder / "cut.pt")
    assert _unchanged(net, before)
