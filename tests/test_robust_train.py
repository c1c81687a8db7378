"""Issue 11, training side: checkpoints load all or nothing, fit stops on NaN, clear errors."""

import pytest
import torch
from torch import nn

from lenet_nb import models, pitfalls, train
from lenet_nb.data import TensorBatches


def _toy(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.arange(n) % 10


def _weights(net):
    return {k: v.clone() for k, v in net.state_dict().items()}


def _unchanged(net, before):
    return all(torch.equal(v, before[k]) for k, v in net.state_dict().items())


# --- item 1: all or nothing, and the model's description -----------------------------------


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


def test_item01_description_names_layers_and_input_shape():
    assert models.describe_model(models.MLP()) == (
        "MLP(Flatten, Linear, ReLU, Linear) for inputs [1, 28, 28]")
    assert models.describe_model(nn.Linear(2, 3)) == "Linear"


# --- item 2: lr and the non-finite loss ---------------------------------------------------


@pytest.mark.parametrize("lr", [float("nan"), float("inf"), -0.1, 0, True, "0.1"])
def test_item02_bad_lr_is_refused(lr):
    X, y = _toy(8)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        train.fit(models.LeNet(), [(X, y)], [(X, y)], 1, lr=lr)


def test_item02_nan_loss_stops_returns_history_and_never_checkpoints(tmp_path, capsys):
    X, y = _toy(16)
    calls = []

    def loss(y_hat, y):
        calls.append(1)
        value = nn.functional.cross_entropy(y_hat, y)
        return value * float("nan") if len(calls) == 3 else value  # epoch 2, batch 1

    torch.manual_seed(0)
    net = models.LeNet()
    path = tmp_path / "best.pt"
    h = train.fit(net, TensorBatches(X, y, 8), TensorBatches(X, y, 8), 4, lr=0.1, loss=loss,
                  checkpoint=path, device="cpu")
    assert len(h) == 1 and h.diverged and not h.interrupted and len(calls) == 3
    err = capsys.readouterr().err
    assert "loss became nan in epoch 2, batch 1 of 2" in err and "smaller learning rate" in err
    assert torch.load(path, weights_only=True)["extra"]["epoch"] == 1
    # the step was never taken: the weights are those after epoch 1, all finite
    assert all(torch.isfinite(p).all() for p in net.parameters())
    assert h.summary().startswith("loss ")


def test_item02_a_diverging_learning_rate_stops_in_the_first_epoch(capsys):
    X, y = _toy(32)
    torch.manual_seed(0)
    h = train.fit(models.LeNet(activation="relu", pooling="max"), TensorBatches(X, y, 8),
                  TensorBatches(X, y, 8), 3, lr=1e6, device="cpu")
    assert h.diverged and len(h) == 0
    assert "now 1000000.0" in capsys.readouterr().err


# --- item 3: labels must be 1-D and match the predictions ------------------------------------


def test_item03_column_labels_are_refused_not_broadcast():
    y_hat = torch.eye(4, 10)
    with pytest.raises(ValueError, match=r"shape \[4, 1\].*y.view\(-1\)"):
        train.accuracy(y_hat, torch.arange(4).view(4, 1))
    with pytest.raises(ValueError, match="one per prediction"):
        train.accuracy(y_hat, torch.arange(3))
    net = models.LeNet()
    X, y = _toy(4)
    with pytest.raises(ValueError, match="1-D"):
        train.evaluate_accuracy(net, [(X, y.view(4, 1))])
    assert train.accuracy(y_hat, torch.arange(4)) == 4


# --- item 12: files that are no checkpoint ---------------------------------------------------


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
    with pytest.raises(ValueError, match="refers to lenet_nb.pitfalls._record_call"):
        train.load_checkpoint(models.LeNet(), tmp_path / "pickle.pt")


def test_item12_missing_checkpoint_still_says_train_first(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train.load_checkpoint(models.LeNet(), tmp_path / "none.pt")


# --- item 15: fit's arguments, Ctrl-C during evaluation, empty history -----------------------


@pytest.mark.parametrize("train_iter", [[], iter([])])
def test_item15_empty_train_iterator_is_a_clear_error(train_iter):
    X, y = _toy(4)
    with pytest.raises(ValueError, match="no (batches|samples)"):
        train.fit(models.LeNet(), train_iter, [(X, y)], 1, lr=0.1, device="cpu")


def test_item15_a_used_up_generator_is_named_in_epoch_2():
    X, y = _toy(4)
    with pytest.raises(ValueError, match="no samples in epoch 2.*generator"):
        train.fit(models.LeNet(), (b for b in [(X, y)]), [(X, y)], 2, lr=0.1, device="cpu")


@pytest.mark.parametrize("num_epochs", ["2", 1.5, True, None, 0])
def test_item15_num_epochs_must_be_a_whole_number(num_epochs):
    X, y = _toy(4)
    with pytest.raises(ValueError, match="num_epochs must be an integer >= 1"):
        train.fit(models.LeNet(), [(X, y)], [(X, y)], num_epochs, lr=0.1)


class _StopInEval(nn.Module):
    """Trains normally; pressing Ctrl-C is simulated by its first forward in eval mode."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 10)

    def forward(self, X):
        if not self.training:
            raise KeyboardInterrupt
        return self.lin(X)


def test_item15_ctrl_c_during_evaluation_restores_training_mode(capsys):
    X, y = torch.rand(8, 4), torch.arange(8)
    net = _StopInEval()
    h = train.fit(net, [(X, y)], [(X, y)], 2, lr=0.1, device="cpu")
    assert h.interrupted and len(h) == 0 and net.training
    net.eval()
    with pytest.raises(KeyboardInterrupt):
        train.evaluate_accuracy(net, [(X, y)])
    assert not net.training  # the mode it had before


def test_item15_empty_history_summary():
    assert train.History().summary() == "no finished epochs"
