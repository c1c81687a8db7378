"""Chapter 2's exercise checkers: shapes, parameter counts, the unpadded LeNet, receptive fields.

Each `check_*` takes what the learner wrote (a function, a module, a number) and returns a
`Verdict` ("✔ …" or "✘ …, not yet: <what is wrong and a hint>"); it never raises.
"""

import torch
from torch import nn

from lenet_nb.exercises import challenge
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
from lenet_nb.lessons import anatomy
from lenet_nb.lessons import shapes as lessons_shapes
from lenet_nb.lessons.anatomy import receptive_field as ref_receptive_field
from lenet_nb.lessons.shapes import leaf_layers, shape_table
from lenet_nb.models import count_parameters, get_model

CHAPTER = 2
EXERCISES = {  # notebook order: exercise 2.n is the n-th name
    "c1_s2_shape": "predict, then run",
    "unpadded_lenet": "complete the code",
    "linear1_params_32": "predict, then run",
    "receptive_field": "complete the code",
    "c1_stride": "change and observe",
    "macs_challenge": "challenge",
}


C1_S2_SHAPE = (1, 6, 14, 14)  # d2l LeNet, 1×1×28×28 input, after Conv2d(pad 2) + AvgPool2d(2, 2)
# LeNet(in_size=32), C1 still padded by 2: 32 -> C1 32 -> S2 16 -> C3 12 -> S4 6, so the first
# Linear reads 16·6·6 = 576 inputs: weights + biases
LINEAR1_PARAMS_32 = 16 * 6 * 6 * 120 + 120


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


@checker("linear1_params_32", leaks=[r"\b69,?240\b", r"\b576\b"])
def check_linear1_params_32(linear1_params_32):
    """Predict-then-run: the first linear layer's parameters of LeNet(in_size=32)."""
    n = require_number(linear1_params_32, "linear1_params_32")  # NumPy/torch numbers too
    hints = [
        (lambda n: n == 16 * 5 * 5 * 120 + 120, "that is the 28×28 network's count: follow a "
                                                 "32×32 image through C1, S2, C3 and S4 first"),
        (lambda n: n == LINEAR1_PARAMS_32 - 120, "each of the 120 outputs also has a bias"),
        (lambda n: n == 16 * 4 * 4 * 120 + 120, "that is the unpadded 28×28 variant's count"),
        (lambda n: n == 16 * 8 * 8 * 120 + 120, "C3 has no padding: a 5×5 window shrinks its "
                                                 "input"),
        (lambda n: n == 16 * 7 * 7 * 120 + 120, "after C3, the 2×2 pooling halves the side "
                                                 "(rounding down if it is odd)"),
        (lambda n: n < 1000, "one weight per (input, output) pair, plus the biases"),
        (lambda n: True, "count the inputs first: the first linear layer reads S4's 16 maps, "
                         "flattened"),
    ]
    expect_equal(n, LINEAR1_PARAMS_32, "your count", hints=hints, reveal=False)
    return (f"{LINEAR1_PARAMS_32:,}: a 32×32 image leaves S4 as 16 maps of 6×6, so Linear(576, "
            f"120) holds 576·120 weights and 120 biases")


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
    return {(r_no_jump, 1): "your j never changes: after a layer of stride s, how many input "
                            "pixels apart are two neighbouring units?",
            (r_no_mult, j): "your r grows the same whatever j is: C3's taps sit on S2 units "
                            "that are 2 pixels apart; check S2 -> C3 by hand",
            (r_k_times_j, j): "for a single 5×5 layer on the image your r would be 6, but a "
                              "5-wide window covers 5 pixels",
            (r_late, j): "C3 reads S2's units: which jump applies to its window, S2's or "
                         "C3's own?"}


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


C1_STRIDE_WHY = {"b": "the kernel stays 5×5 in both runs; what changes is how far apart "
                      "its outputs sit",
                 "c": "the padding is 2 in both runs"}


@checker("c1_stride")
def check_c1_stride(observed_stride, c3_width_stride_2, why):
    """Change and observe: C3's field with a stride-2 C1, graded against the learner's run."""
    if not isinstance(observed_stride, dict) or not {1, 2} <= set(observed_stride):
        held = sorted(observed_stride) if isinstance(observed_stride, dict) else observed_stride
        raise NotStarted(f"`observed_stride` holds the strides {held!r}: the question compares "
                         f"1 and 2, so put both in `c1_strides` and run that cell again")
    for stride, box in observed_stride.items():
        if not isinstance(box, tuple) or box != anatomy.c3_field(stride):
            raise NotYet(f"`observed_stride[{stride!r}]` is not what a C1 of stride {stride} "
                         f"gives: change only `c1_strides` and run that cell again")
    width, width_1 = observed_stride[2][1], observed_stride[1][1]
    answer = require_number(c3_width_stride_2, "c3_width_stride_2")
    expect_equal(answer, width, "your width", reveal=False, hints=[
        (lambda g: g == width_1, "that is the width with stride 1: read your run's line for "
                                 "stride 2"),
        (lambda g: True, "read it from the line your run printed for stride 2")])
    choice = str(require_answer(why, "why")).strip().lower()
    if choice not in ("a", "b", "c"):
        raise NotYet(f"`why` is one of 'a', 'b' or 'c', got {why!r}")
    if choice != "a":
        raise NotYet(f"not ({choice}): {C1_STRIDE_WHY[choice]}")
    r, j = ref_receptive_field([(5, 2), (2, 2), (5, 1)])
    return (f"with a stride-2 C1 a C3 unit sees {width}×{width} pixels, against {width_1}×"
            f"{width_1}: every later tap sits twice as far apart, and the recurrence of "
            f"Exercise 2.4 gives r = {r} (jump {j}) too")


# --- 2.6 challenge: a quarter of the multiply-adds ---------------------------------------------

CHALLENGE = challenge.ChallengeSpec(
    "macs_challenge", "shapes", "FashionMNIST", target=0.87, budget=60.0,
    solution=lessons_shapes.challenge_train, max_params=61_706, max_macs=100_000)


@checker("macs_challenge")
def check_macs_challenge(train):
    """Challenge: the learner's train(X, y, seconds) under a cap of 100,000 multiply-adds."""
    return challenge.score(CHALLENGE, train)
