"""The bare training loop of chapter 3: one epoch of forward, loss, backward and step.

`lenet_nb.train.fit` runs the same steps per batch and adds history, progress bars, live
curves, schedulers and checkpoints; `evaluate_accuracy` lives in `lenet_nb.train`.
"""


def train_epoch(net, train_iter, loss, updater):
    """One pass over train_iter; returns (mean loss, accuracy), both counted per sample."""
    net.train()
    loss_sum, correct, n = 0.0, 0, 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)  # noqa: E741  (d2l's name for the batch loss)
        updater.zero_grad()  # otherwise backward() adds to the previous batch's gradients
        l.backward()
        updater.step()
        loss_sum += l.item() * y.numel()  # l is a batch mean: weight it by the batch size
        correct += int((y_hat.argmax(dim=1) == y).sum())
        n += y.numel()
    return loss_sum / n, correct / n
