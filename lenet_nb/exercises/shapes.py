"""Chapter 2's exercise checkers: shapes, parameter counts, the unpadded LeNet, receptive fields.

Each `check_*` takes what the learner wrote (a function, a module, a number) and returns a
`Verdict` ("✔ …" or "✘ …, not yet: <what is wrong and a hint>"); it never raises.
"""

import torch
from torch import nn

from lenet_nb.exercises.checking import (
    STUB_HINT,
    NotStarted,
    NotYet,
    call,
    checker,
    expect_equal,
    expect_tensor,
    require_answer,
    require_number,
    require_shape,
)
from lenet_nb.lessons.anatomy import receptive_field as ref_receptive_field
from lenet_nb.lessons.shapes import leaf_layers, shape_table
from lenet_nb.models import count_parameters, get_model

CHAPTER = 2
EXERCISES = {  # notebook order: exercise 2.n is the n-th name
    "c1_s2_shape": "predict, then run",
    "unpadded_lenet": "complete the code",
    "linear1_params": "predict, then run",
    "receptive_field": "complete the code",
}


C1_S2_SHAPE = (1, 6, 14, 14)  # d2l LeNet, 1×1×28×28 input, after Conv2d(pad 2) + AvgPool2d(2, 2)
LINEAR1_PARAMS = 16 * 5 * 5 * 120 + 120  # the first Linear of the d2l LeNet: weights + biases


@checker("c1_s2_shape", leaks=[
    r"1,\s*6,\s*14,\s*14", r"6\s*[×x]\s*14\s*[×x]\s*14"])
def check_c1_s2_shape(c1_s2_shape):
    """Predict-then-run: the shape after the first convolution and pooling of the d2l LeNet."""
    shape = require_shape(c1_s2_shape, "c1_s2_shape")
    hints = [
        (lambda s: len(s) == 3, "PyTorch keeps the batch dimension: [batch, channels, height, "
                                "width], four numbers"),
        (lambda s: len(s) == 4 and s[-1] in (6, 16) and s[1] == s[2],
         "channels come second in PyTorch ([batch, channels, height, width]), not last"),
        (lambda s: 12 in s or 24 in s, "24 and 12 are what you get without padding; this C1 pads "
                                       "by 2, which keeps 28×28 before the pooling"),
        (lambda s: 28 in s, "28×28 is the map right after the padded convolution; the 2×2 "
                            "pooling with stride 2 comes next"),
        (lambda s: 16 in s, "16 channels come from the second convolution; the first has 6 "
                            "kernels"),
        (lambda s: len(s) == 4 and s[0] != 1, "the batch holds one image"),
    ]
    expect_equal(shape, C1_S2_SHAPE, "your shape", hints=hints, reveal=False)
    return f"{C1_S2_SHAPE}: the padded 5×5 convolution keeps 28×28, the pooling halves it"


@checker("linear1_params", leaks=[r"\b48,?120\b"])
def check_linear1_params(linear1_params):
    """Predict-then-run: the parameter count of the d2l LeNet's first linear layer."""
    linear1_params = require_number(linear1_params, "linear1_params")
    hints = [
        (lambda n: n == 400 * 120, "that is the weights only: did you forget the bias? Each "
                                   "output unit has one"),
        (lambda n: n in (256 * 120, 256 * 120 + 120),
         "16·4·4 = 256 inputs is the unpadded variant; this network hands over 16·5·5"),
        (lambda n: n in (400, 120, 520), "count one weight per (input, output) pair, plus the "
                                         "biases"),
        (lambda n: n == 400 * 121 or n == 401 * 121, "one bias per output unit, not per input"),
        (lambda n: n == 61_706, "that is the whole network; only the first linear layer here"),
    ]
    expect_equal(linear1_params, LINEAR1_PARAMS, "your count", hints=hints, reveal=False)
    return f"{LINEAR1_PARAMS:,} = 400·120 weights + 120 biases"


def _layer_hint(i, got, want, linear_no):
    """A specific message for the first leaf layer that differs from the reference."""
    name, want_name = type(got).__name__, type(want).__name__
    if name != want_name:
        why = {
            ("AvgPool2d", "MaxPool2d"): "this variant pools with the maximum: nn.MaxPool2d",
            ("ReLU", "Sigmoid"): "this variant keeps LeNet's sigmoid: nn.Sigmoid()",
            ("Tanh", "Sigmoid"): "this variant keeps LeNet's sigmoid: nn.Sigmoid()",
        }.get((name, want_name), f"expected nn.{want_name} there")
        return f"layer {i} is {name}: {why}"
    if isinstance(want, nn.Conv2d):
        if got.padding != want.padding:
            return (f"layer {i} (Conv2d) has padding={got.padding[0]}: this variant has no "
                    f"padding at all, drop the padding argument")
        for field in ("in_channels", "out_channels", "kernel_size", "stride"):
            if getattr(got, field) != getattr(want, field):
                return (f"layer {i} (Conv2d) has {field}={getattr(got, field)}, expected "
                        f"{getattr(want, field)}")
    if isinstance(want, nn.MaxPool2d):
        for field in ("kernel_size", "stride"):
            if getattr(got, field) != getattr(want, field):
                return (f"layer {i} (MaxPool2d) has {field}={getattr(got, field)}, expected "
                        f"{getattr(want, field)}: 2×2 windows, stride 2")
    if isinstance(want, nn.Linear):
        if got.in_features == 400 and want.in_features == 256:
            return (f"Linear #{linear_no} (layer {i}) has in_features=400 = 16·5·5, the padded "
                    f"network's size; without padding the conv block hands over 16·4·4 = 256")
        if (got.in_features, got.out_features) != (want.in_features, want.out_features):
            return (f"Linear #{linear_no} (layer {i}) is {got.in_features} -> "
                    f"{got.out_features}, expected {want.in_features} -> {want.out_features}")
    return None


def _leaves(net):
    return [m for _, m in leaf_layers(net)]


@checker("unpadded_lenet")
def check_unpadded_lenet(net):
    """Complete the code: the LeNet variant without padding and with max pooling."""
    if callable(net) and not isinstance(net, nn.Module):
        net = call(net, name=getattr(net, "__name__", "your function"))
    require_answer(net, "net")
    if not isinstance(net, nn.Module):
        raise NotYet(f"expected a network (an nn.Sequential), got {type(net).__name__}")
    ref, X = get_model("learn14"), torch.rand(2, 1, 28, 28, generator=torch.Generator()
                                                 .manual_seed(0))
    got, want = _leaves(net), _leaves(ref)
    for i, (g, w) in enumerate(zip(got, want)):
        linear_no = sum(isinstance(m, nn.Linear) for m in want[: i + 1])
        problem = _layer_hint(i, g, w, linear_no)
        if problem:
            raise NotYet(problem)
    if len(got) != len(want):
        names = " ".join(type(m).__name__ for m in want)
        raise NotYet(f"your network has {len(got)} layers, the variant has {len(want)}: {names}")
    rows = call(shape_table, net, X, name="net")
    for i, ((kind, shape), (_, ref_shape)) in enumerate(zip(rows, shape_table(ref, X))):
        expect_equal(shape, ref_shape, f"the output shape of layer {i} ({kind})")
    n, n_ref = count_parameters(net), count_parameters(ref)
    expect_equal(n, n_ref, "your parameter count")
    # same weights, same outputs: copy the learner's parameters into the reference, in order
    with torch.no_grad():
        for p_ref, p in zip(ref.parameters(), net.parameters()):
            p_ref.copy_(p)
        expect_tensor(net(X), ref(X), "your network's output for the same weights")
    return (f"{len(got)} layers, shapes match down to {list(rows[-1][1])}, {n:,} parameters, "
            f"same outputs as the reference for the same weights")


def _rf_variants(windows):
    """What the typical slips compute on a stack of (k, s) windows."""
    r_no_jump = r_no_mult = r_k_times_j = r_late = 1
    j = j_late = 1
    for k, s in windows:
        r_no_jump += k - 1  # the jump never grows
        r_no_mult += k - 1  # j tracked but not used in r
        r_k_times_j += k * j
        j_late *= s  # j updated before r uses it
        r_late += (k - 1) * j_late
        j *= s
    return {(r_no_jump, 1): "the jump never grew: after a layer of stride s, neighbouring units "
                            "are s times further apart, so multiply j by s",
            (r_no_mult, j): "r grows by (k − 1)·j, not k − 1: a window's taps are j input "
                            "pixels apart",
            (r_k_times_j, j): "a window of k taps spans (k − 1) gaps, so r grows by (k − 1)·j, "
                              "not k·j",
            (r_late, j): "you multiplied j by s before growing r: use the jump of the layer's "
                         "input (j_in), then update it"}


RF_CASES = ([(5, 1), (2, 2), (5, 1), (2, 2)], [(3, 1), (3, 1)], [(2, 2), (3, 1)],
            [(3, 2), (3, 2), (3, 1)], [])


@checker("receptive_field")
def check_receptive_field(receptive_field):
    """Complete the code: (r, j) after a stack of (kernel size, stride) windows."""
    for windows in RF_CASES:
        got = call(receptive_field, list(windows), name="receptive_field")
        if isinstance(got, (tuple, list)) and any(v is Ellipsis for v in got):
            raise NotStarted(f"`r` or `j` is still `...`: {STUB_HINT}")
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            raise NotYet(f"return the pair (r, j); for {windows} you returned {got!r}")
        wrong = _rf_variants(windows)
        expect_equal(tuple(got), ref_receptive_field(windows),
                     f"(r, j) for the windows {windows}",
                     hints=[(lambda g, v=v: tuple(g) == v, msg) for v, msg in wrong.items()])
    return "(16, 4) for LeNet's C1, S2, C3, S4: an S4 unit sees 16×16 input pixels"
