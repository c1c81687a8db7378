"""Training: per-sample accounting, seeded determinism, checkpoints, schedulers, interruption."""

import pytest
import torch
from torch import nn

from lenet_nb import models, train
from lenet_nb.data import TensorBatches


class Fixed(nn.Module):
    """A 'network' whose predictions are given: scores are one-hot of preds[sample id]."""

    def __init__(self, preds):
        super().__init__()
        self.preds = preds
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, X):
        return nn.functional.one_hot(self.preds[X.flatten().long()], 10).float()


def _toy(n=40, seed=0):
    """A tiny learnable problem: the class is which quadrant of a 28x28 image is bright."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 4, (n,), generator=g)
    X = torch.rand(n, 1, 28, 28, generator=g) * 0.1
    for i, c in enumerate(y.tolist()):
        r, q = divmod(c, 2)
        X[i, 0, r * 14:(r + 1) * 14, q * 14:(q + 1) * 14] += 0.9
    return X, y


def test_accuracy_is_counted_per_sample_not_per_batch():
    y = torch.arange(10) % 10
    preds = y.clone()
    preds[9] = 0  # only the last sample, alone in the last batch, is wrong
    X = torch.arange(10).float().reshape(10, 1, 1, 1)
    it = TensorBatches(X, y, batch_size=3)
    assert train.evaluate_accuracy(Fixed(preds), it) == 0.9
    per_batch = [float((preds[i:i + 3] == y[i:i + 3]).float().mean()) for i in range(0, 10, 3)]
    assert sum(per_batch) / len(per_batch) == 0.75  # the tutorials' way would report 0.75


def test_accuracy_counts_with_a_custom_predict():
    y_hat = torch.tensor([[0.1, 5.0], [3.0, 0.2], [0.0, 0.5]])
    y = torch.tensor([0, 1, 0])
    assert train.accuracy(y_hat, y) == 0
    assert train.accuracy(y_hat, y, predict=lambda s: s.argmin(dim=1)) == 3


def test_evaluate_accuracy_restores_training_mode():
    net = models.LeNet()
    net.train()
    X, y = _toy(8)
    train.evaluate_accuracy(net, [(X, y)])
    assert net.training
    with pytest.raises(ValueError, match="empty"):
        train.evaluate_accuracy(net, [])


def test_train_loss_is_the_sample_weighted_mean():
    X, y = _toy(10)
    torch.manual_seed(0)
    net = models.LeNet(activation="relu")
    with torch.no_grad():  # lr 0: the weights never move
        expected = float(nn.functional.cross_entropy(net(X), y))
    opt = torch.optim.SGD(net.parameters(), lr=0.0)  # fit's own lr must be > 0
    h = train.fit(net, TensorBatches(X, y, 4, shuffle=True), TensorBatches(X, y, 4), 1,
                  optimizer=opt, device="cpu")
    assert h.train_loss[0] == pytest.approx(expected, rel=1e-6)
    assert set(h[0]) == {"epoch", "train_loss", "train_acc", "test_acc", "seconds",
                         "images_per_s"}


def _run(seed):
    X, y = _toy(40)
    torch.manual_seed(seed)
    net = models.LeNet(activation="relu", pooling="max")
    it = TensorBatches(X, y, 8, shuffle=True, seed=123)
    return train.fit(net, it, TensorBatches(X, y, 16), 3, lr=0.05, seed=seed, device="cpu"), net


def test_seeded_runs_are_identical_on_cpu():
    (h1, n1), (h2, n2) = _run(7), _run(7)
    for a, b in zip(h1, h2):
        assert (a["train_loss"], a["train_acc"], a["test_acc"]) == (
            b["train_loss"], b["train_acc"], b["test_acc"])
    assert all(torch.equal(p, q) for p, q in zip(n1.parameters(), n2.parameters()))
    h3, _ = _run(8)
    assert h3.train_loss != h1.train_loss


def test_channels_last_trains_like_the_default_layout():
    X, y = _toy(32)
    nets = []
    for channels_last in (False, True):
        torch.manual_seed(3)
        net = models.LeNet(activation="relu", pooling="max")
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)  # made before fit
        train.fit(net, TensorBatches(X, y, 8, shuffle=True), TensorBatches(X, y, 8), 2,
                  optimizer=opt, device="cpu", channels_last=channels_last)
        nets.append(net)
    plain, fast = nets
    conv = fast[3].weight  # C3: with 6 input channels the two layouts differ
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    assert plain[3].weight.is_contiguous()
    for p, q in zip(plain.parameters(), fast.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)  # same maths, other summation order


def test_fit_learns_a_simple_task():
    X, y = _toy(64)
    torch.manual_seed(0)
    net = models.LeNet(activation="relu", pooling="max")
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    h = train.fit(net, TensorBatches(X, y, 16, shuffle=True), TensorBatches(X, y, 16), 8,
                  optimizer=opt, device="cpu")
    assert h.test_acc[-1] == 1.0 and h.train_loss[-1] < h.train_loss[0]


def test_best_checkpoint_is_kept_atomically_and_reloads_safely(tmp_path, monkeypatch):
    X, y = _toy(32)
    torch.manual_seed(0)
    net = models.LeNet(activation="relu")
    path = tmp_path / "ckpt" / "best.pt"
    saved = []
    real_save = train.save_checkpoint
    monkeypatch.setattr(train, "save_checkpoint",
                        lambda n, p, **kw: saved.append(kw) or real_save(n, p, **kw))
    h = train.fit(net, TensorBatches(X, y, 8, shuffle=True), TensorBatches(X, y, 8), 4,
                  lr=0.1, checkpoint=path, device="cpu")
    best = max(range(4), key=lambda i: (h.test_acc[i], -i))
    accs = [kw["test_acc"] for kw in saved]
    assert accs == sorted(set(accs)) and accs[-1] == h.best_test_acc  # saved only on improvement
    assert [p.name for p in path.parent.iterdir()] == ["best.pt"]  # no temp file left behind
    fresh = models.LeNet(activation="relu")
    extra = train.load_checkpoint(fresh, path)
    assert extra == {"epoch": best + 1, "test_acc": h.best_test_acc,
                     "architecture": models.describe_model(fresh)}
    assert train.evaluate_accuracy(fresh, [(X, y)]) == h.best_test_acc


def test_val_iter_selects_the_checkpoint_on_validation_not_test(tmp_path):
    X, y = _toy(32)
    Xv, yv = _toy(24)
    yv = (yv + 1) % 10  # validation labels the net cannot learn: its best epoch differs
    torch.manual_seed(0)
    net = models.LeNet(activation="relu")
    path = tmp_path / "best.pt"
    h = train.fit(net, TensorBatches(X, y, 8, shuffle=True), TensorBatches(X, y, 8), 4, lr=0.1,
                  checkpoint=path, device="cpu", val_iter=TensorBatches(Xv, yv, 8))
    assert len(h.val_acc) == 4 and all("val_acc" in r for r in h)
    best = h.best_epoch("val_acc")
    assert h.val_acc[best - 1] == max(h.val_acc) and best == h.val_acc.index(max(h.val_acc)) + 1
    fresh = models.LeNet(activation="relu")
    extra = train.load_checkpoint(fresh, path)
    assert extra["epoch"] == best and extra["val_acc"] == max(h.val_acc)
    assert "test_acc" not in extra  # the test set took no part in the choice
    assert train.evaluate_accuracy(fresh, [(X, y)]) == h.test_acc[best - 1]
    with pytest.raises(ValueError, match="no finished epochs"):
        train.History().best_epoch()


def test_checkpoint_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train.load_checkpoint(models.LeNet(), tmp_path / "none.pt")
    path = train.save_checkpoint(models.LeNet(), tmp_path / "a.pt")
    with pytest.raises(ValueError, match="does not fit"):
        train.load_checkpoint(models.get_model("learn14"), path)
    torch.save({"x": 1}, tmp_path / "b.pt")
    with pytest.raises(ValueError, match="not a checkpoint"):
        train.load_checkpoint(models.LeNet(), tmp_path / "b.pt")


def test_schedulers_step_per_epoch_or_per_batch():
    X, y = _toy(16)
    net = models.LeNet()
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    train.fit(net, TensorBatches(X, y, 8), TensorBatches(X, y, 8), 3, optimizer=opt,
              scheduler=sched, device="cpu")
    assert opt.param_groups[0]["lr"] == 0.125
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    train.fit(net, TensorBatches(X, y, 8), TensorBatches(X, y, 8), 3, optimizer=opt,
              scheduler=sched, scheduler_per_batch=True, device="cpu")
    assert opt.param_groups[0]["lr"] == 0.5 ** 6  # 2 batches x 3 epochs


def test_an_interrupted_run_raises_with_the_finished_epochs():
    """Issue 19 item 2: an unfinished run is never returned as a finished one."""
    X, y = _toy(16)
    calls = []

    def loss(y_hat, y):
        calls.append(1)
        if len(calls) > 2:  # the first batch of epoch 2
            raise KeyboardInterrupt
        return nn.functional.cross_entropy(y_hat, y)

    with pytest.raises(train.TrainingInterrupted, match="interrupted in epoch 2 of 5") as e:
        train.fit(models.LeNet(), TensorBatches(X, y, 8), TensorBatches(X, y, 8), 5, lr=0.1,
                  loss=loss, device="cpu")
    h = e.value.history
    assert isinstance(e.value, KeyboardInterrupt) and not isinstance(e.value, Exception)
    assert len(h) == 1 and h.interrupted and not h.finished and h.planned_epochs == 5
    assert h.status() == "stopped after 1 of 5 epochs: interrupted"
    assert h.summary().startswith("stopped after 1 of 5 epochs: interrupted; last finished")


def test_any_error_in_training_keeps_the_finished_epochs():
    X, y = _toy(16)
    calls = []

    def loss(y_hat, y):
        calls.append(1)
        if len(calls) > 4:  # epoch 3
            raise OSError(28, "No space left on device")
        return nn.functional.cross_entropy(y_hat, y)

    with pytest.raises(OSError) as e:
        train.fit(models.LeNet(), TensorBatches(X, y, 8), TensorBatches(X, y, 8), 3, lr=0.1,
                  loss=loss, device="cpu")
    assert len(e.value.history) == 2 and e.value.history.stopped == "OSError"
    assert "fit stopped after 2 of 3 epoch(s)" in "".join(e.value.__notes__)


def test_bad_arguments():
    X, y = _toy(8)
    with pytest.raises(ValueError, match="lr"):
        train.fit(models.LeNet(), [(X, y)], [(X, y)], 1)
    with pytest.raises(ValueError, match="num_epochs"):
        train.fit(models.LeNet(), [(X, y)], [(X, y)], 0, lr=0.1)


def test_try_gpu_returns_a_device():
    assert train.try_gpu().type in {"cpu", "cuda"}


# --- careless and hostile inputs ------------------------------------------------------------


def _noise(n=16, seed=0):
    """Random images labelled by index: for shape and error checks, not for learning."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.arange(n) % 10


@pytest.mark.parametrize("lr", [float("nan"), float("inf"), -0.1, 0, True, "0.1"])
def test_item02_bad_lr_is_refused(lr):
    X, y = _noise(8)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        train.fit(models.LeNet(), [(X, y)], [(X, y)], 1, lr=lr)


def test_item02_nan_loss_raises_with_the_history_and_never_checkpoints(tmp_path):
    X, y = _noise(16)
    calls = []

    def loss(y_hat, y):
        calls.append(1)
        value = nn.functional.cross_entropy(y_hat, y)
        return value * float("nan") if len(calls) == 3 else value  # epoch 2, batch 1

    torch.manual_seed(0)
    net = models.LeNet()
    path = tmp_path / "best.pt"
    with pytest.raises(train.TrainingDiverged) as e:
        train.fit(net, TensorBatches(X, y, 8), TensorBatches(X, y, 8), 4, lr=0.1, loss=loss,
                  checkpoint=path, device="cpu")
    h, err = e.value.history, str(e.value)
    assert len(h) == 1 and h.diverged and not h.interrupted and len(calls) == 3
    assert "loss became nan in epoch 2, batch 1 of 2" in err and "smaller learning rate" in err
    assert (e.value.epoch, e.value.batch, e.value.lr) == (2, 1, 0.1)
    assert torch.load(path, weights_only=True)["extra"]["epoch"] == 1
    # the step was never taken: the weights are those after epoch 1, all finite
    assert all(torch.isfinite(p).all() for p in net.parameters())
    assert h.summary().startswith("stopped after 1 of 4 epochs: diverged")


def test_item02_a_diverging_learning_rate_stops_in_the_first_epoch():
    X, y = _noise(32)
    torch.manual_seed(0)
    with pytest.raises(train.TrainingDiverged, match="now 1000000.0") as e:
        train.fit(models.LeNet(activation="relu", pooling="max"), TensorBatches(X, y, 8),
                  TensorBatches(X, y, 8), 3, lr=1e6, device="cpu")
    assert e.value.history.diverged and len(e.value.history) == 0


def test_item03_column_labels_are_refused_not_broadcast():
    y_hat = torch.eye(4, 10)
    with pytest.raises(ValueError, match=r"shape \[4, 1\].*y.view\(-1\)"):
        train.accuracy(y_hat, torch.arange(4).view(4, 1))
    with pytest.raises(ValueError, match="one per prediction"):
        train.accuracy(y_hat, torch.arange(3))
    net = models.LeNet()
    X, y = _noise(4)
    with pytest.raises(ValueError, match="1-D"):
        train.evaluate_accuracy(net, [(X, y.view(4, 1))])
    assert train.accuracy(y_hat, torch.arange(4)) == 4


def test_item15_empty_train_iterator_is_a_clear_error():
    X, y = _noise(4)
    with pytest.raises(ValueError, match="no batches"):
        train.fit(models.LeNet(), [], [(X, y)], 1, lr=0.1, device="cpu")


def _count_epochs(monkeypatch):
    calls = []
    real = train._train_epoch
    monkeypatch.setattr(train, "_train_epoch", lambda *a: calls.append(1) or real(*a))
    return calls


@pytest.mark.parametrize("where", ["train_iter", "test_iter", "val_iter"])
def test_a_generator_is_refused_before_epoch_1(monkeypatch, where):
    """Issue 19 item 4: used up after one pass, found out in epoch 2, History lost."""
    X, y = _noise(4)
    iters = {"train_iter": [(X, y)], "test_iter": [(X, y)], "val_iter": [(X, y)],
             where: (b for b in [(X, y)])}
    calls = _count_epochs(monkeypatch)
    with pytest.raises(ValueError, match=f"{where} is a generator, used up after one pass"):
        train.fit(models.LeNet(), iters["train_iter"], iters["test_iter"], 2, lr=0.1,
                  val_iter=iters["val_iter"], device="cpu")
    assert calls == []


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: d, "is a folder, not a file"),
    (lambda d: d / "notes.txt" / "net.pt", "a file stands where a folder"),
    (lambda d: "", "empty"),
    (lambda d: d / "model.pt", "model.pt exists and is not a checkpoint"),
])
def test_a_bad_checkpoint_path_is_refused_before_epoch_1(tmp_path, monkeypatch, make, message):
    (tmp_path / "notes.txt").write_text("notes")
    torch.save(models.LeNet(), tmp_path / "model.pt")  # the learner's own file
    before = (tmp_path / "model.pt").read_bytes()
    X, y = _noise(4)
    calls = _count_epochs(monkeypatch)
    with pytest.raises((ValueError, OSError), match=message):
        train.fit(models.LeNet(), [(X, y)], [(X, y)], 2, lr=0.1, checkpoint=make(tmp_path),
                  device="cpu")
    assert calls == [] and (tmp_path / "model.pt").read_bytes() == before


def test_lr_together_with_an_optimizer_is_refused():
    X, y = _noise(4)
    net = models.LeNet()
    with pytest.raises(ValueError, match="either lr .* or an optimizer"):
        train.fit(net, [(X, y)], [(X, y)], 1, lr=0.5,
                  optimizer=torch.optim.SGD(net.parameters(), lr=1e-6))


def test_seed_works_with_a_dataloader():
    X, y = _noise(16)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=4,
                                         shuffle=True)
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        runs.append(train.fit(models.LeNet(), loader, [(X, y)], 1, lr=0.1, seed=0,
                              device="cpu"))  # today: AttributeError (loader.generator is None)
    assert runs[0][0]["train_loss"] == runs[1][0]["train_loss"]


@pytest.mark.parametrize(("device", "message"), [("gpu", "device must be 'cpu' or 'cuda'"),
                                                 ("meta", "fit trains on 'cpu' or 'cuda'")])
def test_device_names_are_checked(device, message):
    X, y = _noise(4)
    with pytest.raises(ValueError, match=message):
        train.fit(models.LeNet(), [(X, y)], [(X, y)], 1, lr=0.1, device=device)



@pytest.mark.parametrize("num_epochs", ["2", 1.5, True, None, 0])
def test_item15_num_epochs_must_be_a_whole_number(num_epochs):
    X, y = _noise(4)
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


def test_item15_ctrl_c_during_evaluation_restores_training_mode():
    X, y = torch.rand(8, 4), torch.arange(8)
    net = _StopInEval()
    with pytest.raises(train.TrainingInterrupted) as e:
        train.fit(net, [(X, y)], [(X, y)], 2, lr=0.1, device="cpu")
    assert e.value.history.interrupted and len(e.value.history) == 0 and net.training
    net.eval()
    with pytest.raises(KeyboardInterrupt):
        train.evaluate_accuracy(net, [(X, y)])
    assert not net.training  # the mode it had before


def test_one_batch_where_an_iterable_is_meant_is_named():
    X, y = _noise(4)
    with pytest.raises(ValueError, match=r"data_iter is one \(X, y\) batch.*\[\(X, y\)\]"):
        train.evaluate_accuracy(models.LeNet(), (X, y))
    with pytest.raises(ValueError, match=r"test_iter is one \(X, y\) batch"):
        train.fit(models.LeNet(), [(X, y)], (X, y), 1, lr=0.1, device="cpu")
    assert 0 <= train.evaluate_accuracy(models.LeNet(), [(X, y)]) <= 1


def test_parts_that_do_not_fit_together_are_refused_before_epoch_1(monkeypatch):
    X, y = _noise(8)
    net = models.LeNet()
    calls = _count_epochs(monkeypatch)
    other = torch.optim.SGD(models.LeNet().parameters(), lr=0.1)
    with pytest.raises(ValueError, match="scheduler was built for another optimizer"):
        train.fit(net, [(X, y)], [(X, y)], 2, lr=0.1,
                  scheduler=torch.optim.lr_scheduler.StepLR(other, 1))
    with pytest.raises(ValueError, match="batch mean, got reduction='sum'"):
        train.fit(net, [(X, y)], [(X, y)], 2, lr=0.1, loss=nn.CrossEntropyLoss(reduction="sum"))
    with pytest.raises(ValueError, match="seed must be an integer >= 0, got the text '0'"):
        train.fit(net, [(X, y)], [(X, y)], 2, lr=0.1, seed="0")
    with pytest.raises(ValueError, match="names a folder"):
        train.fit(net, [(X, y)], [(X, y)], 2, lr=0.1, checkpoint="checkpoints/")
    assert calls == []


def _one_cycle_written_out(net, X, y, num_epochs, optimizer, max_lr, batch_size, loss):
    """The challenges' loop, step by step: the reference for train_one_cycle."""
    batches = -(-len(y) // batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr,
                                                    total_steps=num_epochs * batches)
    for _ in range(num_epochs):
        order = torch.randperm(len(y))
        for b in range(batches):
            idx = order[b * batch_size:(b + 1) * batch_size]
            optimizer.zero_grad()
            loss(net(X[idx]), y[idx]).backward()
            optimizer.step()
            scheduler.step()
    return net


@pytest.mark.parametrize("make_optimizer, loss", [
    (None, None),  # the defaults: AdamW at max_lr, cross-entropy
    (lambda net: torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True),
     nn.MultiMarginLoss()),
])
def test_train_one_cycle_equals_the_loop_written_out(make_optimizer, loss):
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(37, 1, 4, 4, generator=g), torch.randint(0, 3, (37,), generator=g)
    nets = []
    for run in ("ours", "reference"):
        torch.manual_seed(0)
        net = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
        optimizer = make_optimizer(net) if make_optimizer else None
        if run == "ours":
            nets.append(train.train_one_cycle(net, X, y, 3, optimizer, max_lr=0.05,
                                              batch_size=10, loss=loss))
        else:
            optimizer = optimizer or torch.optim.AdamW(net.parameters(), lr=0.05)
            nets.append(_one_cycle_written_out(net, X, y, 3, optimizer, 0.05, 10,
                                               loss or nn.CrossEntropyLoss()))
    torch.manual_seed(0)
    start = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        assert torch.equal(a, b)
    assert not torch.equal(nets[0][1].weight, start[1].weight)  # it trained
