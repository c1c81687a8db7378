"""Checkpoints: a save/load round trip, the stored description, and refusals that change nothing."""

import pytest
import torch

from lenet_nb.checkpoint import load_checkpoint, save_checkpoint
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
