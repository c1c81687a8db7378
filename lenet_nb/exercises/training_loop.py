"""Chapter 3's exercise checkers: evaluation, the loop, two checks before a long run, gradients,
the validation split, the steps of a run, SGD by hand, a rate of one's own, the challenge.

Each `check_*` takes what the learner wrote (a function, a number, the records of their own
runs) and returns a `Verdict` ("✔ …" or "✘ …, not yet: <what is wrong and a hint>"); it never
raises. A *change and observe* checker grades the learner's recorded runs, never a stored number.
"""

import math
import numbers

from lenet_nb.exercises import challenge, loop_checks
from lenet_nb.exercises.checking import (
    STUB_HINT,
    NotStarted,
    NotYet,
    call,
    checker,
    expect_equal,
    holds_stub,
    require_answer,
    require_number,
)
from lenet_nb.exercises.loop_checks import _as_number, _choice
from lenet_nb.lessons.lr_sweep import challenge_train

# isort: split
import torch

CHAPTER = 3
EXERCISES = {  # notebook order: exercise 3.n is the n-th name
    "evaluate_accuracy": "find the bug",
    "train_epoch": "complete the code",
    "initial_loss": "predict, then run",
    "init_scale": "change and observe",
    "overfit_one_batch": "complete the code",
    "gradient_layers": "change and observe",
    "split_train_val": "find the bug",
    "sweep_steps": "predict, then run",
    "sgd_step": "complete the code",
    "lr_change": "change and observe",
    "d2l_challenge": "challenge",
}


# --- 3.1, 3.2: the loop (their probes and checks are in loop_checks.py) -------------------------


@checker("evaluate_accuracy")
def check_evaluate_accuracy(evaluate_accuracy):
    """Find the bug: per-sample accuracy, eval mode, no gradients, whatever the batch size."""
    return loop_checks.evaluate_accuracy(evaluate_accuracy)


@checker("train_epoch")
def check_train_epoch(train_epoch):
    """Parameters, mean loss and accuracy after one epoch equal the reference loop's."""
    return loop_checks.train_epoch(train_epoch)


# --- 3.3 initial_loss (predict, then run) --------------------------------------------------------

_WHY_LOSS = {
    "a": "to the untrained network every class looks about equally likely",
    "b": "the weights are random, so the loss is random",
    "c": "the network always predicts the same class",
}


def _probe(n=256):
    """The checker's own copy of the chapter's probe batch (the first n training images)."""
    from lenet_nb.lessons.diagnostics import probe_batch

    return probe_batch(n)


@checker("initial_loss", leaks=[r"\b2\.3[01]\d", r"\bln\s*\(?\s*10\b", r"\blog\s*\(?\s*10\b",
                                r"\blog\(10\)"])
def check_initial_loss(initial_loss, why):
    """Predict then run: the cross-entropy of an untrained 10-class net, and why (not revealed)."""
    from lenet_nb.lessons.diagnostics import init_scale_record

    require_answer(initial_loss, "initial_loss")
    got = _as_number(initial_loss, "initial_loss")
    letter = _choice(why, "why", _WHY_LOSS)
    measured = init_scale_record(1.0, *_probe())["loss"]
    if abs(got - measured) > 0.05:
        hint = ("0.1 is a probability: what does cross-entropy do with the probability the "
                "network gives the correct class?" if abs(got - 0.1) < 0.02 else
                "the loss is not one over the probability: it is a logarithm of it"
                if abs(got - 10) < 0.5 else
                "which logarithm does PyTorch's cross-entropy use, base 10 or base e?"
                if abs(got - 1) < 0.05 else
                "if every one of the 10 classes gets the same probability, what is that "
                "probability, and what does cross-entropy make of it?")
        raise NotYet(f"{got:g} is not what an untrained 10-class network gives. Hint: {hint}")
    if letter != "a":
        raise NotYet(f"your number is right, your reason ({letter}: {_WHY_LOSS[letter]}) is not. "
                     f"Hint: run the network on the same images with other labels, or from "
                     f"another seed: does the loss change much? What does the network's output "
                     f"look like?")
    return (f"{got:g} is right: the untrained network measures {measured:.3f}, close to "
            f"ln 10 = {math.log(10):.3f}, because it gives each of the 10 classes about 1/10")


# --- 3.4 init_scale (change and observe) -------------------------------------------------------

_WHY_SCALE = {
    "a": "for positive inputs a ReLU layer is linear, so scaling every layer scales the scores "
         "by about the scale once per layer: huge scores make the softmax confidently wrong",
    "b": "large weights saturate ReLU, so the gradients vanish",
    "c": "the loss adds the size of the weights",
}
_FAR = 0.5  # "far above": more than this above ln 10


@checker("init_scale")
def check_init_scale(observed_scale, far_above, why):
    """Change and observe: the scales whose loss is far above ln 10, from the learner's runs."""
    from lenet_nb.lessons.diagnostics import init_scale_record

    if not isinstance(observed_scale, dict):
        raise NotYet(f"`observed_scale` should be the dict the run cell fills, got "
                     f"{type(observed_scale).__name__}")
    scales = sorted(observed_scale)
    if not (scales and min(scales) < 1 < max(scales)):
        raise NotStarted(f"observed_scale holds the scales {scales}: try at least one below 1 "
                         f"and one above 1, run the cell again, then answer")
    X, y = _probe()
    for s in scales:
        record = observed_scale[s]
        mine = init_scale_record(s, X, y)
        if not isinstance(record, dict) or abs(record.get("loss", math.nan) - mine["loss"]) > 1e-3:
            raise NotYet(f"observed_scale[{s}] is not what scale {s} gives for the seeded ReLU "
                         f"LeNet on the probe batch: change only the scale, then run again")
    require_answer(far_above, "far_above")
    if isinstance(far_above, numbers.Real):
        far_above = [far_above]
    try:
        got = {float(s) for s in far_above}
    except (TypeError, ValueError):
        raise NotYet(f"`far_above` should be a list of scales, e.g. [20.0], got "
                     f"{far_above!r}") from None
    limit = math.log(10) + _FAR
    want = {float(s) for s in scales if observed_scale[s]["loss"] > limit}
    if got - set(map(float, scales)):
        raise NotYet(f"far_above lists {sorted(got - set(map(float, scales)))}, which you did "
                     f"not run: list only scales you tried")
    if got != want:
        wrong = sorted(got ^ want)[0]
        loss = observed_scale[[s for s in scales if float(s) == wrong][0]]["loss"]
        raise NotYet(f"look again at scale {wrong:g}: its loss is {loss:.4g}. far_above lists "
                     f"the scales whose loss is more than {_FAR} above that of a network that "
                     f"gives every class the same probability")
    letter = _choice(why, "why", _WHY_SCALE)
    if letter != "a":
        hint = ("ReLU never saturates for positive inputs (its slope stays 1): look at how "
                "logit_std grows with the scale" if letter == "b" else
                "the loss here is cross-entropy alone: nothing in it measures the weights")
        raise NotYet(f"far_above is right, the reason ({letter}) is not. Hint: {hint}")
    big = max(scales)
    return (f"scale {big:g} gives scores spread {observed_scale[big]['logit_std']:.3g} wide and "
            f"a loss of {observed_scale[big]['loss']:.4g}: a start far above ln 10 means the "
            f"initialisation is off, before any training")


# --- 3.5 overfit_one_batch (complete the code) ---------------------------------------------------
_OVERFIT_N, _OVERFIT_LOSS = 32, 0.1


@checker("overfit_one_batch")
def check_overfit_one_batch(overfit_one_batch):
    """The learner's function trains the checker's fresh ReLU LeNet to 100 % on 32 images."""
    from lenet_nb.lessons.diagnostics import lenet_at_init

    X, y = _probe(_OVERFIT_N)
    net = lenet_at_init("relu", 0, xavier=False)
    start = [p.detach().clone() for p in net.parameters()]
    with torch.no_grad():
        loss_before = float(torch.nn.functional.cross_entropy(net(X), y))
    got = call(overfit_one_batch, net, X.clone(), y.clone(), name="overfit_one_batch")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise NotYet(f"`overfit_one_batch` should return a pair (accuracy, loss), got "
                     f"{type(got).__name__}")
    acc = _as_number(got[0], "the accuracy overfit_one_batch returned")
    loss = _as_number(got[1], "the loss overfit_one_batch returned")
    if all(torch.equal(p, q) for p, q in zip(net.parameters(), start)):
        raise NotYet("the network you were given did not change: train that very network, and "
                     "end each step with the optimiser's step")
    net.eval()
    with torch.no_grad():
        scores = net(X)
    own_acc = float((scores.argmax(1) == y).float().mean())
    own_loss = float(torch.nn.functional.cross_entropy(scores, y))
    if not math.isfinite(own_loss):
        raise NotYet("the network's loss became NaN or infinite: lower the learning rate")
    if abs(acc - own_acc) > 1e-6 or abs(loss - own_loss) > 1e-3:
        raise NotYet(f"your function says accuracy {acc:.4g} and loss {loss:.4g}, the network "
                     f"gets {own_acc:.4g} and {own_loss:.4g} on the batch: measure after the "
                     f"last step, on the whole batch")
    if own_acc < 1 or own_loss >= _OVERFIT_LOSS:
        raise NotYet(f"the loss went from {loss_before:.3f} to {own_loss:.3f} and the accuracy "
                     f"reached {own_acc:.3f}: not yet 100 %. Compare your step with the loop you "
                     f"wrote in Exercise 3.2: every step needs fresh gradients")
    return (f"100 % of {_OVERFIT_N} images, loss {loss_before:.3f} → {own_loss:.4f}: the loop "
            f"can learn, so a long run is worth starting")


# --- 3.6 gradient_layers (change and observe) ----------------------------------------------------


def _layer_answer(value, name, layers):
    require_answer(value, name)
    by_lower = {layer.lower(): layer for layer in layers}
    answer = by_lower.get(str(value).strip().lower())
    if answer is None:
        raise NotYet(f"`{name}` is {value!r}: answer with one of the layer names "
                     f"{', '.join(repr(k) for k in layers)}")
    return answer


def gradient_answers(table):
    """(layer with the smallest sigmoid gradient, layer whose gradient grows most with ReLU)."""
    sig, relu = table["sigmoid"], table["relu"]
    return min(sig, key=sig.get), max(sig, key=lambda k: relu[k] / sig[k])


@checker("gradient_layers")
def check_gradient_layers(observed_grad, smallest_under_sigmoid, grows_most_with_relu):
    """Change and observe: grades the answers against the learner's recorded gradient norms."""
    from lenet_nb.lessons import diagnostics as dg

    if not isinstance(observed_grad, dict):
        raise NotYet(f"`observed_grad` should be the dict the run cell fills, got "
                     f"{type(observed_grad).__name__}")
    missing = [a for a in ("sigmoid", "relu") if a not in observed_grad]
    if missing:
        raise NotStarted(f"observed_grad holds {sorted(observed_grad)}: add "
                         f"{' and '.join(repr(a) for a in missing)} to `activations`, run the "
                         f"cell again, then answer")
    X, y = _probe()
    table = dg.gradient_norm_table(X, y)
    for a in ("sigmoid", "relu"):
        record = observed_grad[a]
        if not isinstance(record, dict) or set(record) != set(table[a]) or any(
                not math.isclose(record[k], table[a][k], rel_tol=1e-5) for k in record):
            raise NotYet(f"observed_grad[{a!r}] is not what the d2l LeNet with {a} gives from "
                         f"seed 0 on the probe batch: change only the activation")
    layers = list(table["sigmoid"])
    smallest = _layer_answer(smallest_under_sigmoid, "smallest_under_sigmoid", layers)
    grows = _layer_answer(grows_most_with_relu, "grows_most_with_relu", layers)
    want_smallest, want_grows = gradient_answers(observed_grad)
    sig, relu = observed_grad["sigmoid"], observed_grad["relu"]
    if smallest != want_smallest:
        hint = ("that is the largest sigmoid gradient; look for the smallest number"
                if smallest == max(sig, key=sig.get) else
                "another layer's sigmoid gradient is smaller still")
        raise NotYet(f"{smallest} is not the layer with the smallest gradient under sigmoid: "
                     f"{hint}")
    if grows != want_grows:
        hint = ("with ReLU that layer's gradient shrinks (ReLU / sigmoid < 1)"
                if relu[grows] < sig[grows] else
                "it grows, but another layer's gradient grows by a larger factor")
        raise NotYet(f"{grows} is not the layer whose gradient grows most: {hint}. Divide "
                     f"the ReLU norm by the sigmoid norm for every layer")
    return (f"under sigmoid {smallest}'s gradient is the smallest "
            f"({sig[smallest]:.2g}, {sig[layers[-1]] / sig[smallest]:.0f}x below the output "
            f"layer's); ReLU multiplies {grows}'s by {relu[grows] / sig[grows]:.0f}")


# --- 3.7 split_train_val, 3.9 sgd_step (checked in loop_checks.py) ------------------------------


@checker("split_train_val")
def check_split_train_val(split_train_val):
    """Find the bug: every image keeps its label; the parts are disjoint, complete, random and
    the same for the same seed."""
    return loop_checks.split_train_val(split_train_val)


@checker("sgd_step")
def check_sgd_step(sgd_step):
    """Four steps with momentum and weight decay, and plain SGD, equal torch.optim.SGD's."""
    return loop_checks.sgd_step(sgd_step)


# --- 3.8 sweep_steps (predict, then run) -------------------------------------------------------
_SWEEP_IMAGES, _SWEEP_BATCH, _SWEEP_EPOCHS = 50_000, 256, 12


@checker("sweep_steps", leaks=[r"(?<![\d.,])2,?352\b", r"(?<![\d.,])19[6]\b"])
def check_sweep_steps(sweep_steps):
    """Predict then run: optimizer steps of one sweep run (not revealed)."""
    got = require_number(sweep_steps, "sweep_steps")  # NumPy and torch integers too
    per_epoch = -(-_SWEEP_IMAGES // _SWEEP_BATCH)  # the last, partial batch is a step too
    expected = _SWEEP_EPOCHS * per_epoch
    expect_equal(got, expected, "your number of steps", reveal=False, hints=[
        (lambda g: g == _SWEEP_EPOCHS * (_SWEEP_IMAGES // _SWEEP_BATCH),
         "the last, partial batch of every epoch is a step too"),
        (lambda g: g != int(g), "a number of steps is a whole number: every batch, full or "
                                "not, is one step"),
        (lambda g: g == per_epoch, "that is one epoch; the run has twelve"),
        (lambda g: g == _SWEEP_EPOCHS * -(-60_000 // _SWEEP_BATCH),
         "the 10,000 validation images are not trained on"),
        (lambda g: g == 10 * -(-60_000 // _SWEEP_BATCH),
         "that is the d2l recipe's count (10 epochs of all 60,000 images): this run differs"),
        (lambda g: g in (_SWEEP_EPOCHS * _SWEEP_IMAGES, _SWEEP_IMAGES),
         "one step per batch, not per image"),
    ])
    return (f"{expected:,} steps: {_SWEEP_EPOCHS} epochs of {per_epoch} batches, the last one "
            f"of each holding {_SWEEP_IMAGES - (per_epoch - 1) * _SWEEP_BATCH} images")


# --- 3.10 lr_change (change and observe) -------------------------------------------------------
_AMBIGUOUS = 0.02  # a validation accuracy this close to chance level counts either way
_TIE = 0.005


@checker("lr_change")
def check_lr_change(observed_lr, best_lr, did_not_learn):
    """Change and observe: the best rate and the rates that did not learn, in the learner's runs."""
    from lenet_nb.lessons.lr_sweep import CHANCE

    if not isinstance(observed_lr, dict):
        raise NotYet(f"`observed_lr` should be the dict the run cell fills, got "
                     f"{type(observed_lr).__name__}")
    if len(observed_lr) < 3:
        raise NotStarted(f"observed_lr holds the rates {sorted(observed_lr)}: try at least three, "
                         f"far apart, run the cell again, then answer")
    settings = None
    for lr, record in observed_lr.items():
        mine = record.get("settings", {}) if isinstance(record, dict) else {}
        others = {k: v for k, v in mine.items() if k != "lr"}
        if mine.get("lr") != lr or (settings is not None and others != settings):
            raise NotYet(f"observed_lr[{lr}] was not made with lr {lr} and the same other "
                         f"settings as the rest: change only the rate")
        settings = others
    accs = {lr: r["val_acc"] for lr, r in observed_lr.items()}
    failed = {lr for lr, r in observed_lr.items() if r["diverged"] or accs[lr] <= CHANCE}
    unsure = {lr for lr in accs if abs(accs[lr] - CHANCE) <= _AMBIGUOUS}
    require_answer(best_lr, "best_lr")
    best = max(accs.values())
    tied = sorted(lr for lr in accs if best - accs[lr] <= _TIE and lr not in failed)
    if best_lr not in accs:
        raise NotYet(f"best_lr is {best_lr!r}, not one of the rates you ran: "
                     f"{sorted(accs)}")
    if best_lr not in tied:
        raise NotYet(f"at lr {best_lr:g} your run reached validation accuracy "
                     f"{accs[best_lr]:.3f}: another of your rates did better")
    require_answer(did_not_learn, "did_not_learn")
    got = set(did_not_learn) if isinstance(did_not_learn, (list, tuple, set)) else None
    if got is None:
        raise NotYet(f"`did_not_learn` should be a list of rates, e.g. [10.0], got "
                     f"{did_not_learn!r}")
    wrong = (got ^ failed) - unsure
    if wrong:
        lr = sorted(wrong)[0]
        state = ("its loss became NaN or infinite" if lr in accs and observed_lr[lr]["diverged"]
                 else f"it reached validation accuracy {accs[lr]:.3f}" if lr in accs
                 else "you did not run it")
        raise NotYet(f"look again at lr {lr:g}: {state}; a rate did not learn when its loss blew "
                     f"up or its accuracy stayed at chance level (at most {CHANCE})")
    tie = f" (tied within {_TIE} with {', '.join(f'{t:g}' for t in tied if t != best_lr)})" \
        if len(tied) > 1 else ""
    return (f"in your runs lr {best_lr:g} did best{tie}; "
            f"{', '.join(f'{lr:g}' for lr in sorted(failed)) or 'none'} did not learn")


# --- 3.11 d2l_challenge: d2l's LeNet as it is, trained another way ------------------------------


def _d2l_as_is(net):
    """The challenge's network is fixed: the same layers as LeNet(), in the same order."""
    from lenet_nb.models import LeNet, leaf_layers

    got = [repr(m) for name, m in leaf_layers(net) if name]
    want = [repr(m) for name, m in leaf_layers(LeNet()) if name]
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            raise NotYet(f"layer {i} of your network is {g}, d2l's LeNet has {w} there: the "
                         f"network is fixed, only how it is trained is yours to change")
    if len(got) != len(want):
        raise NotYet(f"your network has {len(got)} layers, d2l's LeNet {len(want)}: return "
                     f"LeNet() (lenet_nb.models), trained")


CHALLENGE = challenge.ChallengeSpec(
    "d2l_challenge", "training_loop", "FashionMNIST", target=0.875, budget=75.0,
    solution=challenge_train, constraints=_d2l_as_is)


@checker("d2l_challenge")
def check_d2l_challenge(train):
    """Challenge: the learner's train(X, y, seconds) returns d2l's LeNet, trained, scored on
    10,000 held-out images."""
    if callable(train) and holds_stub(train):  # nothing to train yet: ○, not a failed run
        raise NotStarted(f"`train` still holds the stub: {STUB_HINT}")
    return challenge.score(CHALLENGE, train)
