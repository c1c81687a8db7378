"""Chapter 3's exercise checkers: evaluation, the training loop, steps per epoch, gradients.

Each `check_*` takes what the learner wrote (a function, a module, a number) and returns a
`Verdict` ("✔ …" or "✘ …, not yet: <what is wrong and a hint>"); it never raises.
"""

import numbers

from lenet_nb.exercises.checking import (
    NotYet,
    call,
    checker,
    expect_equal,
    require_answer,
    require_number,
)

# isort: split
import torch

CHAPTER = 3
EXERCISES = {  # notebook order: exercise 3.n is the n-th name
    "evaluate_accuracy": "complete the code",
    "train_epoch": "complete the code",
    "steps_per_epoch": "predict, then run",
    "gradient_layers": "change and observe",
}


# evaluate_accuracy: 23 samples in batches of 10, 10 and 3, so a per-batch mean is visibly off.
# Sample i holds i in its single pixel; its label is i % 3; the eval-mode net gets samples
# 0-15 and 20 right (batches: 10/10, 6/10, 1/3), i.e. 17 of 23.
_EVAL_N, _EVAL_BATCH, _EVAL_CLASSES = 23, 10, 3
_EVAL_RIGHT = set(range(16)) | {20}


class _ProbeNet(torch.nn.Module):
    """Fixed scores per sample; remembers each forward pass's mode and gradient tracking."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))  # one parameter, so .parameters() works
        idx = torch.arange(_EVAL_N)
        labels = idx % _EVAL_CLASSES
        pred = torch.where(torch.tensor([i in _EVAL_RIGHT for i in range(_EVAL_N)]), labels,
                           (labels + 1) % _EVAL_CLASSES)
        self.eval_scores = torch.nn.functional.one_hot(pred, _EVAL_CLASSES).float()
        # in training mode the net behaves like a badly dropped-out one: always class 0
        self.train_scores = torch.nn.functional.one_hot(torch.zeros_like(pred),
                                                        _EVAL_CLASSES).float()
        self.seen_training, self.seen_grad = False, False

    def forward(self, X):
        self.seen_training |= self.training
        self.seen_grad |= torch.is_grad_enabled()
        scores = self.train_scores if self.training else self.eval_scores
        return self.scale * scores[X.reshape(len(X), -1)[:, 0].long()]


def _eval_data():
    from lenet_nb.data import TensorBatches

    idx = torch.arange(_EVAL_N)
    return TensorBatches(idx.float().reshape(-1, 1, 1, 1), idx % _EVAL_CLASSES, _EVAL_BATCH)


def _as_number(got, name):
    """A learner's returned number as a float; tensors and non-numbers get their own report."""
    if isinstance(got, torch.Tensor):
        raise NotYet(f"`{name}` returned a tensor ({got!r}); return a plain Python float, "
                     f"e.g. with `float(...)` or `.item()`, so it prints and adds like a number")
    if isinstance(got, bool) or not isinstance(got, numbers.Real):  # NumPy floats are fine
        raise NotYet(f"`{name}` should return a number, got {type(got).__name__}")
    return float(got)


@checker("evaluate_accuracy")
def check_evaluate_accuracy(evaluate_accuracy):
    """Per-sample accuracy on 23 samples (batches 10, 10, 3), eval mode, no gradients."""
    from lenet_nb.train import evaluate_accuracy as reference

    net, data = _ProbeNet(), _eval_data()  # the learner's copy: the expected value never
    net.train()  # sees it (as it would be right after a training epoch)
    got = _as_number(call(evaluate_accuracy, net, data, name="evaluate_accuracy"),
                     "evaluate_accuracy")
    fresh = _eval_data()
    if not (torch.equal(data.X, fresh.X) and torch.equal(data.y, fresh.y)):
        raise NotYet("your function changed the data it was given (e.g. X -= ... or "
                     "X.zero_()): evaluation must leave the images and labels as they are")
    if net.seen_training:
        raise NotYet("the net was left in training mode: call `net.eval()` before the loop "
                     "(dropout and batch norm behave differently while training)")
    if net.seen_grad:
        raise NotYet("the forward passes tracked gradients: wrap the loop in "
                     "`with torch.no_grad():` (evaluation needs none; they cost memory and time)")
    expected = reference(_ProbeNet(), _eval_data())  # on the checker's own copy
    per_batch = [(10, 10), (6, 10), (1, 3)]  # (correct, size) of each batch
    correct = sum(c for c, _ in per_batch)
    batch_mean = sum(c / n for c, n in per_batch) / len(per_batch)
    expect_equal(round(got, 6), round(expected, 6), "your accuracy on the checker's 23 samples",
                 hints=[
                     (lambda g: g == round(batch_mean, 6),
                      "your accuracy is averaged per batch: the last batch holds only 3 samples "
                      "but counts as much as a full one. Count correct predictions and divide "
                      "by the number of samples"),
                     (lambda g: g == round(correct / (len(per_batch) * _EVAL_BATCH), 6),
                      "you divided by batches x batch size, which counts samples the short last "
                      "batch does not have: divide by the number of samples (add up y.numel())"),
                     (lambda g: g == correct,
                      "that is the number of correct predictions: divide it by the number of "
                      "samples"),
                     (lambda g: g == round(1 / 3, 6),
                      "that is the last batch's accuracy alone: add up over all batches"),
                 ])
    return f"{correct} of {_EVAL_N} right = {expected:.4f}, counted per sample in eval mode"


# train_epoch: a linear layer on 2x2 "images", 10 samples in batches of 4, 4 and 2.
_TRAIN_N, _TRAIN_BATCH, _TRAIN_LR = 10, 4, 0.5


class _ModeProbe(torch.nn.Module):
    """Passes its input through; remembers whether any forward pass ran in eval mode."""

    def __init__(self):
        super().__init__()
        self.seen_eval = False

    def forward(self, X):
        self.seen_eval |= not self.training
        return X


def _train_setup():
    """(net, train_iter, loss, updater): the same fresh net and data on every call."""
    from lenet_nb.data import TensorBatches

    g = torch.Generator().manual_seed(0)
    X = torch.randn(_TRAIN_N, 1, 2, 2, generator=g)
    y = torch.randint(0, 3, (_TRAIN_N,), generator=g)
    torch.manual_seed(0)
    net = torch.nn.Sequential(_ModeProbe(), torch.nn.Flatten(), torch.nn.Linear(4, 3))
    net.eval()  # as it would be right after evaluate_accuracy: train_epoch must switch back
    updater = torch.optim.SGD(net.parameters(), lr=_TRAIN_LR)
    return net, TensorBatches(X, y, _TRAIN_BATCH), torch.nn.CrossEntropyLoss(), updater


def _variant_epoch(zero_grad):
    """The reference steps with or without zero_grad; (net, batch losses, correct, sizes)."""
    net, data, loss, updater = _train_setup()
    losses, correct, sizes = [], [], []
    for X, y in data:
        y_hat = net(X)
        batch_loss = loss(y_hat, y)
        if zero_grad:
            updater.zero_grad()
        batch_loss.backward()
        updater.step()
        losses.append(batch_loss.item())
        correct.append(int((y_hat.argmax(dim=1) == y).sum()))
        sizes.append(y.numel())
    return net, losses, correct, sizes


def _same_params(a, b):
    return all(torch.allclose(p, q, atol=1e-6) for p, q in zip(a.parameters(), b.parameters()))


@checker("train_epoch")
def check_train_epoch(train_epoch):
    """Parameters, mean loss and accuracy after one epoch equal the reference loop's."""
    from lenet_nb.loop import train_epoch as reference

    net, data, loss, updater = _train_setup()
    got = call(train_epoch, net, data, loss, updater, name="train_epoch")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise NotYet(f"`train_epoch` should return a pair (mean loss, accuracy), got "
                     f"{type(got).__name__}")
    got_loss = _as_number(got[0], "train_epoch (its mean loss)")
    got_acc = _as_number(got[1], "train_epoch (its accuracy)")
    if net[0].seen_eval:
        raise NotYet("the net ran in evaluation mode: call `net.train()` before the loop (the "
                     "net may come from evaluate_accuracy, which switched it to eval mode)")
    ref_net, ref_data, ref_loss, ref_updater = _train_setup()
    expected_loss, expected_acc = reference(ref_net, ref_data, ref_loss, ref_updater)
    start, *_ = _train_setup()
    no_zero = _variant_epoch(zero_grad=False)[0]
    _, losses, correct, sizes = _variant_epoch(zero_grad=True)
    if not _same_params(net, ref_net):
        grads = [p.grad for p in net.parameters()]
        if _same_params(net, start):
            if all(g is None or not g.any() for g in grads):
                raise NotYet("the parameters did not change: the gradients were cleared before "
                             "`updater.step()` could use them. Order: zero_grad, backward, step")
            raise NotYet("the parameters did not change although gradients were computed: "
                         "did you forget `updater.step()`?")
        if _same_params(net, no_zero):
            raise NotYet("the gradients accumulate from batch to batch: call "
                         "`updater.zero_grad()` before `l.backward()` in every step")
        raise NotYet("after the epoch the parameters differ from the reference loop's: each "
                     "batch needs y_hat = net(X), l = loss(y_hat, y), zero_grad, backward, step")
    n = sum(sizes)
    expect_equal(round(got_loss, 5), round(expected_loss, 5), "your mean training loss", hints=[
        (lambda g: g == round(sum(losses) / len(losses), 5),
         "your loss is averaged per batch: the loss is a batch mean, so weight each by its "
         "batch size (`l.item() * y.numel()`) and divide the sum by the number of samples"),
        (lambda g: g == round(sum(v * s for v, s in zip(losses, sizes)), 5),
         "that is the sum over samples: divide it by the number of samples"),
        (lambda g: g == round(losses[-1], 5), "that is the last batch's loss alone: add up "
                                              "every batch's loss times its size"),
    ])
    expect_equal(round(got_acc, 6), round(expected_acc, 6), "your training accuracy", hints=[
        (lambda g: g == round(sum(c / s for c, s in zip(correct, sizes)) / len(sizes), 6),
         "your accuracy is averaged per batch: count correct predictions and divide by the "
         "number of samples"),
        (lambda g: g == sum(correct), "that is the number of correct predictions: divide it "
                                      "by the number of samples"),
    ])
    return (f"same parameters, mean loss {expected_loss:.4f} and accuracy {expected_acc:.4f} as "
            f"the reference loop after one epoch ({len(sizes)} steps, {n} samples)")


# steps per epoch: 60,000 Fashion-MNIST training images, batch size 256
_FASHION_TRAIN, _STEPS_BATCH = 60_000, 256


@checker("steps_per_epoch", leaks=[r"\b235\b"])
def check_steps_per_epoch(steps_per_epoch):
    """Predict then run: optimizer steps in one epoch at batch size 256 (not revealed)."""
    steps_per_epoch = require_number(steps_per_epoch, "steps_per_epoch")
    expected = -(-_FASHION_TRAIN // _STEPS_BATCH)  # one step per batch, the last one partial
    expect_equal(steps_per_epoch, expected, "your number of steps", reveal=False, hints=[
        (lambda g: g == expected - 1, "the last, partial batch is also a step"),
        (lambda g: isinstance(g, float) and g != int(g),
         "a number of steps is a whole number: every batch, full or not, is one step"),
        (lambda g: g == _FASHION_TRAIN, "one step per batch, not per image"),
        (lambda g: g == _STEPS_BATCH, "that is the batch size: how many batches does one "
                                      "pass over 60,000 images take?"),
    ])
    return (f"{expected} steps: {expected - 1} full batches of {_STEPS_BATCH} and a last one of "
            f"{_FASHION_TRAIN - (expected - 1) * _STEPS_BATCH}")


def _layer_answer(value, name, layers):
    require_answer(value, name)
    by_lower = {layer.lower(): layer for layer in layers}
    answer = by_lower.get(str(value).strip().lower())
    if answer is None:
        raise NotYet(f"`{name}` is {value!r}: answer with one of the table's layer names, "
                     f"{', '.join(repr(k) for k in layers)}")
    return answer


def gradient_answers(table):
    """(layer with the smallest sigmoid gradient, layer whose gradient grows most with ReLU)."""
    sig, relu = table["sigmoid"], table["relu"]
    return min(sig, key=sig.get), max(sig, key=lambda k: relu[k] / sig[k])


@checker("gradient_layers")
def check_gradient_layers(smallest_under_sigmoid, grows_most_with_relu, X=None, y=None):
    """Change and observe: compares with the gradient table it measures itself."""
    from lenet_nb.lessons import diagnostics as dg

    if X is None:
        X, y = dg.probe_batch()
    table = dg.gradient_norm_table(X, y)
    layers = list(table["sigmoid"])
    smallest = _layer_answer(smallest_under_sigmoid, "smallest_under_sigmoid", layers)
    grows = _layer_answer(grows_most_with_relu, "grows_most_with_relu", layers)
    want_smallest, want_grows = gradient_answers(table)
    sig, relu = table["sigmoid"], table["relu"]
    if smallest != want_smallest:
        hint = ("that is the largest sigmoid gradient; look for the smallest number"
                if smallest == max(sig, key=sig.get) else
                "another layer's sigmoid gradient is smaller still")
        raise NotYet(f"{smallest} is not the layer with the smallest gradient under sigmoid: "
                     f"{hint} in the sigmoid column")
    if grows != want_grows:
        hint = ("with ReLU that layer's gradient shrinks (ReLU / sigmoid < 1)"
                if relu[grows] < sig[grows] else
                "it grows, but another layer's gradient grows by a larger factor")
        raise NotYet(f"{grows} is not the layer whose gradient grows most: {hint}. Divide "
                     f"the ReLU norm by the sigmoid norm for every layer")
    return (f"under sigmoid {smallest}'s gradient is the smallest "
            f"({sig[smallest]:.2g}, {sig[layers[-1]] / sig[smallest]:.0f}x below the output "
            f"layer's); ReLU multiplies {grows}'s by {relu[grows] / sig[grows]:.0f}")
