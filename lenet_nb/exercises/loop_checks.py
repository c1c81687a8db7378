"""The longer of chapter 3's checks, and the probes they run (small fake nets and data).

`lenet_nb/exercises/training_loop.py` registers them as the chapter's checkers; each function
here returns the success message or raises NotYet saying what is wrong.
"""

import numbers

import torch

from lenet_nb.exercises.checking import NotYet, call, expect_equal, require_answer


def _as_number(got, name):
    """A learner's number as a float; tensors, text and non-numbers get their own report."""
    if isinstance(got, torch.Tensor):
        raise NotYet(f"`{name}` is a tensor ({got!r}); give a plain Python number, e.g. with "
                     f"`float(...)` or `.item()`, so it prints and adds like a number")
    if isinstance(got, str):
        raise NotYet(f"`{name}` is the text {got!r}: write the number without quotes")
    if isinstance(got, bool) or not isinstance(got, numbers.Real):  # NumPy numbers are fine
        raise NotYet(f"`{name}` should be a number, got {type(got).__name__}")
    return float(got)


def _choice(value, name, options):
    """A learner's letter answer, lower-cased; anything else gets a clear report."""
    require_answer(value, name)
    letter = str(value).strip().lower().strip("()")
    if letter not in options:
        raise NotYet(f"`{name}` is {value!r}: answer with one of the letters "
                     f"{', '.join(repr(o) for o in options)}")
    return letter



# --- 3.1 evaluate_accuracy (find the bug): accuracy averaged per batch -----------------------
# 23 samples in batches of 10, 10 and 3: sample i holds i in its one pixel, its label is i % 3;
# the eval-mode net gets samples 0-15 and 20 right (batches: 10/10, 6/10, 1/3), 17 of 23.
_EVAL_N, _EVAL_BATCH, _EVAL_CLASSES = 23, 10, 3
_EVAL_RIGHT = set(range(16)) | {20}


class _ProbeNet(torch.nn.Module):
    """Fixed scores per sample; remembers each forward pass's mode and gradient tracking."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))  # one parameter, so .parameters() works
        labels = torch.arange(_EVAL_N) % _EVAL_CLASSES
        right = torch.tensor([i in _EVAL_RIGHT for i in range(_EVAL_N)])
        pred = torch.where(right, labels, (labels + 1) % _EVAL_CLASSES)
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


def _eval_data(batch_size=_EVAL_BATCH):
    from lenet_nb.data import TensorBatches

    idx = torch.arange(_EVAL_N)
    return TensorBatches(idx.float().reshape(-1, 1, 1, 1), idx % _EVAL_CLASSES, batch_size)


def _accuracy_of(evaluate_accuracy, batch_size):
    net, data = _ProbeNet(), _eval_data(batch_size)
    net.train()  # as it would be right after a training epoch
    got = _as_number(call(evaluate_accuracy, net, data, name="evaluate_accuracy"),
                     "what evaluate_accuracy returned")
    fresh = _eval_data(batch_size)
    if not (torch.equal(data.X, fresh.X) and torch.equal(data.y, fresh.y)):
        raise NotYet("your function changed the data it was given (e.g. `X -= ...`): "
                     "evaluation must leave the images and labels as they are")
    return got, net


def evaluate_accuracy(evaluate_accuracy):
    """Per-sample accuracy on 23 samples, eval mode, no gradients, whatever the batch size."""
    from lenet_nb.train import evaluate_accuracy as reference

    got, net = _accuracy_of(evaluate_accuracy, _EVAL_BATCH)
    whole, _ = _accuracy_of(evaluate_accuracy, _EVAL_N)
    expected = reference(_ProbeNet(), _eval_data())  # on the checker's own copy
    if net.seen_training:
        raise NotYet("the net was left in training mode: call `net.eval()` before the loop "
                     "(dropout and batch norm behave differently while training)")
    if net.seen_grad:
        raise NotYet("the forward passes tracked gradients: wrap the loop in "
                     "`with torch.no_grad():` (evaluation needs none; they cost memory and time)")
    correct = round(expected * _EVAL_N)
    if round(got, 6) == round(correct / (3 * _EVAL_BATCH), 6):
        raise NotYet(f"you count {3 * _EVAL_BATCH} samples where there are {_EVAL_N}: the last "
                     f"batch is short; add up y.numel() instead of batches x batch size")
    if round(got, 6) != round(whole, 6):
        raise NotYet(f"your number changes with the batch size: {got:.4f} in batches of 10, 10 "
                     f"and 3, {whole:.4f} in one batch of 23. An accuracy cannot depend on how "
                     f"the data are cut: does the short last batch count as much as a full one?")
    expect_equal(round(got, 6), round(expected, 6), "your accuracy on the checker's 23 samples",
                 hints=[(lambda g: g == correct, "that is the number of correct predictions: "
                                                 "divide it by the number of samples")])
    return (f"{correct} of {_EVAL_N} right = {expected:.4f} in batches of 10, 10 and 3 and in "
            f"one batch alike: counted per sample, in eval mode")


# --- 3.2 train_epoch (complete the code) --------------------------------------------------------
# a linear layer on 2x2 "images", 10 samples in batches of 4, 4 and 2
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


def train_epoch(train_epoch):
    """Parameters, mean loss and accuracy after one epoch equal the reference loop's."""
    from lenet_nb.loop import train_epoch as reference

    net, data, loss, updater = _train_setup()
    got = call(train_epoch, net, data, loss, updater, name="train_epoch")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise NotYet(f"`train_epoch` should return a pair (mean loss, accuracy), got "
                     f"{type(got).__name__}")
    got_loss = _as_number(got[0], "train_epoch's mean loss")
    got_acc = _as_number(got[1], "train_epoch's accuracy")
    if net[0].seen_eval:
        raise NotYet("the net ran in evaluation mode: call `net.train()` before the loop (the "
                     "net may come from evaluate_accuracy, which switched it to eval mode)")
    ref_net, ref_data, ref_loss, ref_updater = _train_setup()
    expected_loss, expected_acc = reference(ref_net, ref_data, ref_loss, ref_updater)
    start, *_ = _train_setup()
    no_zero = _variant_epoch(zero_grad=False)[0]
    _, losses, correct, sizes = _variant_epoch(zero_grad=True)
    if not _same_params(net, ref_net):
        if _same_params(net, start):
            if all(p.grad is None or not p.grad.any() for p in net.parameters()):
                raise NotYet("the parameters did not change: the gradients were cleared before "
                             "`updater.step()` could use them. Order: zero_grad, backward, step")
            raise NotYet("the parameters did not change although gradients were computed: "
                         "did you forget `updater.step()`?")
        if _same_params(net, no_zero):
            raise NotYet("the gradients accumulate from batch to batch: call "
                         "`updater.zero_grad()` before `l.backward()` in every step")
        raise NotYet("after the epoch the parameters differ from the reference loop's: each "
                     "batch needs its scores, its loss, fresh gradients and one step")
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



# --- 3.7 split_train_val (find the bug): labels shuffled apart from their images ----------------
_SPLIT_N, _SPLIT_VAL = 200, 50


def _tagged(n=_SPLIT_N):
    """n 'images' of 2x2 pixels holding their own index, labelled index % 10."""
    idx = torch.arange(n)
    return idx.float().reshape(-1, 1, 1, 1).expand(-1, 1, 2, 2).clone(), idx % 10


def _parts(got):
    """((X_train, y_train), (X_val, y_val)) of a learner's split, each an index tensor pair."""
    try:
        (X_train, y_train), (X_val, y_val) = got
    except (TypeError, ValueError):
        raise NotYet("`split_train_val` should return ((X_train, y_train), (X_val, y_val))") \
            from None
    if not all(isinstance(t, torch.Tensor) for t in (X_train, y_train, X_val, y_val)):
        raise NotYet("`split_train_val` should return tensors: ((X_train, y_train), (X_val, "
                     "y_val))")
    return [(X[:, 0, 0, 0].long(), labels) for X, labels in ((X_train, y_train), (X_val, y_val))]


def split_train_val(split_train_val):
    """Every image keeps its label; the parts are disjoint, complete, random and repeatable."""
    X, y = _tagged()
    got = call(split_train_val, X, y, _SPLIT_VAL, seed=0, name="split_train_val")
    if not (torch.equal(X, _tagged()[0]) and torch.equal(y, _tagged()[1])):
        raise NotYet("your function changed the X or y it was given: split copies, and leaves "
                     "the caller's tensors as they are")
    (train_ids, train_y), (val_ids, val_y) = _parts(got)
    for ids, labels in ((train_ids, train_y), (val_ids, val_y)):
        broken = (ids % 10 != labels).nonzero()
        if len(broken):
            k = int(broken[0])
            raise NotYet(f"image {int(ids[k])} of the checker's data (label {int(ids[k]) % 10}) "
                         f"came back with the label {int(labels[k])}: after your split, is each "
                         f"image still next to its own label?")
    if (len(train_ids), len(val_ids)) != (_SPLIT_N - _SPLIT_VAL, _SPLIT_VAL):
        raise NotYet(f"the parts hold {len(train_ids)} and {len(val_ids)} images: with "
                     f"num_val={_SPLIT_VAL} of {_SPLIT_N}, validation gets {_SPLIT_VAL} and "
                     f"training the rest")
    both = set(train_ids.tolist()) & set(val_ids.tolist())
    if both or len(set(train_ids.tolist()) | set(val_ids.tolist())) != _SPLIT_N:
        raise NotYet(f"{len(both)} images are in both parts, or some in neither: every image "
                     f"belongs to exactly one part")
    if val_ids.tolist() == list(range(_SPLIT_VAL)) or val_ids.tolist() == list(
            range(_SPLIT_N - _SPLIT_VAL, _SPLIT_N)):
        raise NotYet("your validation images are the first (or last) num_val of the file: is "
                     "that a random sample?")
    again = _parts(call(split_train_val, *_tagged(), _SPLIT_VAL, seed=0, name="split_train_val"))
    if not torch.equal(again[1][0], val_ids):
        raise NotYet("the same seed gave another split: draw the permutation from a generator "
                     "seeded with `seed`, so the held-out images are the same every time")
    return (f"{_SPLIT_N - _SPLIT_VAL} + {_SPLIT_VAL} images, disjoint, random, the same for the "
            f"same seed, and every image still carries its own label")



# --- 3.9 sgd_step (complete the code) ----------------------------------------------------------
_SGD = {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.05}
_SGD_STEPS = 4


def _quadratic():
    """Two parameters and a fixed quadratic loss of them, the same on every call."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(3, generator=g), torch.randn(2, 2, generator=g)
    params = [torch.nn.Parameter(torch.randn(3, generator=g)),
              torch.nn.Parameter(torch.randn(2, 2, generator=g))]
    return params, lambda: ((params[0] - a) ** 2).sum() + 2 * ((params[1] @ b) ** 2).sum()


def _trajectory(step, **settings):
    """Parameters after each of the steps `step(params, bufs, **settings)` makes."""
    params, loss = _quadratic()
    bufs = [torch.zeros_like(p) for p in params]
    path = []
    for _ in range(_SGD_STEPS):
        for p in params:
            p.grad = None
        loss().backward()
        step(params, bufs, **settings)
        path.append([p.detach().clone() for p in params])
    return path


def _torch_path(**settings):
    """The parameters after each step of PyTorch's own SGD."""
    params, loss = _quadratic()
    optimizer = torch.optim.SGD(params, **settings)
    path = []
    for _ in range(_SGD_STEPS):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
        path.append([p.detach().clone() for p in params])
    return path


def _learner_step(sgd_step):
    """The learner's step as a step function: errors become NotYet, returning None is right."""
    def step(*args, **kwargs):
        try:
            call(sgd_step, *args, name="sgd_step", **kwargs)
        except NotYet as problem:
            if not str(problem).startswith("`sgd_step` returned None"):  # it works in place
                if "leaf Variable" in str(problem):
                    raise NotYet(f"{str(problem).rstrip('.')}. Hint: change the parameters in "
                                 f"place inside `with torch.no_grad():`") from None
                raise
    return step


def _variant(decay_after=False, no_carry=False, up=False, no_decay=False):
    """A typical wrong SGD step: decay added after the momentum or not at all, velocity not
    kept, the wrong sign."""
    def step(params, bufs, lr, momentum=0.0, weight_decay=0.0):
        with torch.no_grad():
            for p, buf in zip(params, bufs):
                g = p.grad if decay_after or no_decay else p.grad + weight_decay * p
                new = momentum * buf + g
                if not no_carry:
                    buf.copy_(new)
                move = new + weight_decay * p if decay_after else new
                p.add_(move, alpha=lr if up else -lr)
    return step


def _close(a, b):
    return all(torch.allclose(p, q, atol=1e-6) for p, q in zip(a, b))


def sgd_step(sgd_step):
    """Four steps with momentum and weight decay, and plain SGD, equal torch.optim.SGD's."""
    for settings in ({"lr": 0.1}, _SGD):
        want = _torch_path(**settings)
        got = _trajectory(_learner_step(sgd_step), **settings)
        name = "plain SGD (momentum 0, weight_decay 0)" if len(settings) == 1 else (
            f"momentum {_SGD['momentum']}, weight_decay {_SGD['weight_decay']}")
        start, _ = _quadratic()
        if _close(got[0], [p.detach() for p in start]):
            raise NotYet(f"with {name} the parameters did not change: `p = p - ...` binds a "
                         f"new tensor to the name p; the parameter itself must change (in "
                         f"place, e.g. `p -= ...`, under `torch.no_grad()`)")
        for k, (mine, theirs) in enumerate(zip(got, want), 1):
            if _close(mine, theirs):
                continue
            if _close(got[-1], _trajectory(_variant(up=True), **settings)[-1]):
                hint = "your step goes up the slope: move against the gradient"
            elif _close(got[-1], _trajectory(_variant(no_carry=True), **settings)[-1]):
                hint = ("your velocity does not carry over from one call to the next: update "
                        "the tensors in `bufs` in place (buf.mul_(...).add_(...))")
            elif _close(got[-1], _trajectory(_variant(no_decay=True), **settings)[-1]):
                hint = ("weight decay is missing: PyTorch adds weight_decay x p to each "
                        "gradient first")
            elif _close(got[-1], _trajectory(_variant(decay_after=True), **settings)[-1]):
                hint = ("the decay term must enter the velocity: add weight_decay x p to the "
                        "gradient before the momentum update")
            elif k > 1:
                hint = f"your first {k - 1} step(s) are right: work out step {k} by hand"
            else:
                hint = "compare your first step with PyTorch's by hand"
            raise NotYet(f"with {name}, after step {k} the parameters differ from "
                         f"torch.optim.SGD's. Hint: {hint}")
    return (f"{_SGD_STEPS} steps equal torch.optim.SGD's to 1e-6, plain and with momentum "
            f"{_SGD['momentum']} and weight decay {_SGD['weight_decay']}")


