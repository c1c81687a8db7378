"""Every exercise checker: passes on the reference solution, says precisely what is wrong on the
stub and on typical wrong answers, and never raises. One section per chapter."""

import pytest
import torch  # noqa: F401  (used by the chapter sections)

from lenet_nb import exercises as ex  # noqa: F401


def test_sections_do_not_redefine_each_others_names():
    """One module, one section per chapter: a second `def _same` would silently replace the
    first for every chapter above it."""
    import ast
    import collections
    import inspect

    tree = ast.parse(inspect.getsource(ex))
    names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    names += [t.id for n in tree.body if isinstance(n, ast.Assign)
              for t in n.targets if isinstance(t, ast.Name)]
    twice = [name for name, k in collections.Counter(names).items() if k > 1]
    assert twice == [], f"defined more than once in lenet_nb/exercises.py: {twice}"

# ---------------------------------------------------------------- Chapter 1: convolutions


def corr2d_solution(X, K):
    h, w = K.shape
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def corr2d_stub(X, K):
    ...


def corr2d_no_plus_one(X, K):
    h, w = K.shape
    Y = torch.zeros(X.shape[0] - h, X.shape[1] - w)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def corr2d_no_sum(X, K):
    h, w = K.shape
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = X[i:i + h, j:j + w] * K
    return Y


def corr2d_flipped(X, K):
    return corr2d_solution(X, K.flip(0, 1))


def corr2d_swapped(X, K):
    w, h = K.shape  # rows and columns mixed up
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def corr2d_swapped_shape(X, K):
    h, w = K.shape
    Y = torch.zeros(X.shape[0] - w + 1, X.shape[1] - h + 1)  # h and w mixed up here only
    for i in range(min(Y.shape[0], X.shape[0] - h + 1)):
        for j in range(min(Y.shape[1], X.shape[1] - w + 1)):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def corr2d_mean(X, K):
    return corr2d_solution(X, K) / K.numel()


def corr2d_short_loop(X, K):
    Y = corr2d_solution(X, K)
    Y[-1] = 0
    return Y


def test_corr2d_passes_on_the_solution_and_the_reference():
    from lenet_nb.conv import corr2d

    for fn in (corr2d_solution, corr2d):
        v = ex.check_corr2d(fn)
        assert v.passed and v.message.startswith("matches"), v


@pytest.mark.parametrize("fn, words", [
    (corr2d_stub, "`corr2d` returned None: replace the `...`"),
    (corr2d_no_plus_one, "did you forget the + 1"),
    (corr2d_no_sum, "each output value is ONE number"),
    (corr2d_flipped, "you flipped the kernel: that is a true convolution"),
    (corr2d_swapped, "Are height and width swapped? h, w = K.shape is (rows, columns)"),
    (corr2d_swapped_shape, "height and width are swapped: K.shape is (rows, columns)"),
    (corr2d_mean, "you averaged the products"),
    (corr2d_short_loop, "the last row or column is still 0"),
])
def test_corr2d_names_the_mistake(fn, words):
    v = ex.check_corr2d(fn)
    assert not v.passed and words in v.message, v
    assert repr(v).startswith("✘ corr2d, not yet: ")


def test_corr2d_names_a_matrix_product():
    def corr2d_matmul(X, K):
        h, w = K.shape
        Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
        for i in range(Y.shape[0]):
            for j in range(Y.shape[1]):
                Y[i, j] = (X[i:i + h, j:j + w] @ K).sum()
        return Y

    v = ex.check_corr2d(corr2d_matmul)
    assert not v.passed and "`@` is a matrix product" in v.message, v


def test_corr2d_reports_nonsense_without_raising():
    assert "`corr2d` is not defined yet" in ex.check_corr2d(...).message
    assert "should be a torch tensor, got list" in ex.check_corr2d(lambda X, K: [[0]]).message


def pool2d_solution(X, pool_size, mode="max"):
    p_h, p_w = pool_size
    Y = torch.zeros(X.shape[0] // p_h, X.shape[1] // p_w)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i * p_h:(i + 1) * p_h, j * p_w:(j + 1) * p_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y


def pool2d_stub(X, pool_size, mode="max"):
    ...


def pool2d_stride_one(X, pool_size, mode="max"):
    p_h, p_w = pool_size
    Y = torch.zeros(X.shape[0] - p_h + 1, X.shape[1] - p_w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i:i + p_h, j:j + p_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y


def pool2d_wrong_mode_name(X, pool_size, mode="max"):
    return pool2d_solution(X, pool_size, "avg" if mode == "mean" else "max")


def pool2d_sum(X, pool_size, mode="max"):
    Y = pool2d_solution(X, pool_size, mode)
    return Y * pool_size[0] * pool_size[1] if mode == "avg" else Y


def pool2d_swapped(X, pool_size, mode="max"):
    return pool2d_solution(X, pool_size[::-1], mode)


def pool2d_window_at_i(X, pool_size, mode="max"):
    p_h, p_w = pool_size
    Y = torch.zeros(X.shape[0] // p_h, X.shape[1] // p_w)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i:i + p_h, j:j + p_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y


def test_pool2d_passes_on_the_solution():
    from lenet_nb.conv import pool2d

    for fn in (pool2d_solution, pool2d):
        v = ex.check_pool2d(fn)
        assert v.passed and v.message.startswith("matches"), v


@pytest.mark.parametrize("fn, words", [
    (pool2d_stub, "`pool2d` returned None: replace the `...`"),
    (pool2d_stride_one, "your windows overlap (stride 1)"),
    (pool2d_wrong_mode_name, "you took the max in avg mode"),
    (pool2d_sum, "you summed each window"),
    (pool2d_swapped, "height and width are swapped: pool_size is (p_h, p_w)"),
    (pool2d_window_at_i, "starts at row i * p_h and column j * p_w, not at row i"),
])
def test_pool2d_names_the_mistake(fn, words):
    v = ex.check_pool2d(fn)
    assert not v.passed and words in v.message, v


def test_pool2d_says_when_max_mode_averages():
    v = ex.check_pool2d(lambda X, p, mode="max": pool2d_solution(X, p, "avg"))
    assert not v.passed and "you took the avg in max mode" in v.message, v


def test_conv_pool_shape():
    assert ex.check_conv_pool_shape((1, 8, 14, 14)).passed
    assert ex.check_conv_pool_shape(torch.Size([1, 8, 14, 14])).passed


@pytest.mark.parametrize("answer, words", [
    (..., "`shape` is still `...`"),
    ((1, 8, 28, 28), "that is the shape right after the convolution"),
    ((1, 8, 16, 16), "32 − 5 + 1"),
    ((1, 3, 14, 14), "number of output channels"),
    ((8, 14, 14), "a tuple of 4 numbers"),
    ((1, 8, 12, 12), "which is not right. Hint: one layer at a time"),
])
def test_conv_pool_shape_hints_without_revealing(answer, words):
    v = ex.check_conv_pool_shape(answer)
    assert not v.passed and words in v.message, v
    assert "(1, 8, 14, 14)" not in v.message


def test_horizontal_edges_passes_on_kernels_that_compare_rows():
    for K in ([[1.0], [-1.0]], [[-1.0], [1.0]], [[1.0, 1.0], [-1.0, -1.0]]):
        v = ex.check_horizontal_edges(torch.tensor(K))
        assert v.passed and "responds in output rows [2, 5] only" in v.message, v


@pytest.mark.parametrize("K, words", [
    (..., "`K_horizontal` is still `...`"),
    ([[1.0, -1.0]], "that is the vertical-edge detector from above"),
    ([[1.0], [1.0]], "weights must add up to 0 (yours add up to 2)"),
    ([[1.0, -1.0], [1.0, -1.0]], "also reacts to vertical edges"),
    ([[0.0], [0.0]], "gives 0 on the horizontal edges too"),
    ([[1.0, 0.0, -1.0]], "a kernel with one row never sees two rows"),
    ([[[1.0], [-1.0]]], "a small 2-D kernel"),
])
def test_horizontal_edges_names_the_mistake(K, words):
    v = ex.check_horizontal_edges(K if K is ... else torch.tensor(K))
    assert not v.passed and words in v.message, v


def test_horizontal_edges_refuses_a_list():
    v = ex.check_horizontal_edges([[1.0], [-1.0]])
    assert not v.passed and "should be a torch tensor" in v.message


# ---------------------------------------------------------------- Chapter 2: shapes and sizes

# isort: split
import pytest  # noqa: E402
from torch import nn  # noqa: E402

from lenet_nb.anatomy import receptive_field as ch2_receptive_field  # noqa: E402


def ch2_says(verdict, *parts):
    """The verdict is 'not yet' and its message contains every part."""
    text = repr(verdict)
    assert not verdict and "not yet" in text, text
    for part in parts:
        assert part in text, (part, text)


def test_ch2_c1_s2_shape_passes_on_the_answer_and_a_list_or_size():
    for answer in ((1, 6, 14, 14), [1, 6, 14, 14], torch.Size([1, 6, 14, 14])):
        verdict = ex.check_c1_s2_shape(answer)
        assert verdict and repr(verdict).startswith("✔ c1_s2_shape"), repr(verdict)


@pytest.mark.parametrize("answer, part", [
    (..., "still `...`"),
    ("1x6x14x14", "tuple of whole numbers"),
    ((1, 6, 24, 24), "without padding"),
    ((1, 6, 12, 12), "without padding"),
    ((1, 6, 28, 28), "pooling with stride 2 comes next"),
    ((6, 14, 14), "batch dimension"),
    ((1, 14, 14, 6), "not last"),
    ((1, 16, 14, 14), "first has 6"),
])
def test_ch2_c1_s2_shape_names_the_typical_mistake_without_revealing(answer, part):
    verdict = ex.check_c1_s2_shape(answer)
    ch2_says(verdict, part)
    assert "(1, 6, 14, 14)" not in repr(verdict)


def test_ch2_linear1_params():
    assert ex.check_linear1_params(48_120)
    for answer, part in [(..., "still"), (48_000, "forget the bias"),
                         (30_840, "unpadded variant"), (30_720, "unpadded variant"),
                         (61_706, "whole network"), (48_400, "one bias per output"),
                         ("48120", "one number")]:
        verdict = ex.check_linear1_params(answer)
        ch2_says(verdict, part)
        assert "48,120" not in repr(verdict) and "48120 " not in repr(verdict)


def unpadded(pool=nn.MaxPool2d, act=nn.Sigmoid, padding=0, flat=16 * 4 * 4):
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=padding), act(), pool(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), act(), pool(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(flat, 120), act(), nn.Linear(120, 84), act(), nn.Linear(84, 10))


def test_ch2_unpadded_lenet_passes_on_a_module_and_on_a_builder():
    for answer in (unpadded(), unpadded):
        verdict = ex.check_unpadded_lenet(answer)
        assert verdict, repr(verdict)
        assert "44,426 parameters" in repr(verdict) and "same outputs" in repr(verdict)


def stub_builder():
    ...


@pytest.mark.parametrize("answer, parts", [
    (stub_builder, ["returned None"]),
    (..., ["still `...`"]),
    (unpadded(flat=400), ["Linear #1", "in_features=400", "16·4·4 = 256"]),
    (unpadded(padding=2, flat=400), ["layer 0 (Conv2d) has padding=2", "no padding"]),
    (unpadded(pool=nn.AvgPool2d), ["layer 2 is AvgPool2d", "nn.MaxPool2d"]),
    (unpadded(act=nn.ReLU), ["layer 1 is ReLU", "nn.Sigmoid()"]),
    (nn.Sequential(*list(unpadded())[:-1]), ["11 layers", "12"]),
    (lambda: nn.Sequential(*unpadded()[:7], nn.Linear(256, 120), nn.Sigmoid(),
                           nn.Linear(120, 10)), ["Linear #2", "120 -> 10, expected 120 -> 84"]),
])
def test_ch2_unpadded_lenet_names_the_first_wrong_layer(answer, parts):
    ch2_says(ex.check_unpadded_lenet(answer), *parts)


def test_ch2_unpadded_lenet_reports_a_forward_that_fails():
    class Broken(nn.Sequential):
        def forward(self, X):
            raise RuntimeError("boom")

    ch2_says(ex.check_unpadded_lenet(Broken(*unpadded())), "`net` raised RuntimeError: boom")


def test_ch2_receptive_field_passes_on_the_reference():
    verdict = ex.check_receptive_field(ch2_receptive_field)
    assert verdict and "(16, 4)" in repr(verdict), repr(verdict)


def rf_stub(windows):
    r, j = 1, 1
    for _k, _s in windows:
        r = ...  # your code here
        j = ...  # your code here
    return r, j


def rf_jump_never_grows(windows):
    r = 1
    for k, _ in windows:
        r = r + (k - 1)
    return r, 1


def rf_without_jump(windows):
    r, j = 1, 1
    for k, s in windows:
        r = r + (k - 1)
        j = j * s
    return r, j


def rf_k_times_j(windows):
    r, j = 1, 1
    for k, s in windows:
        r = r + k * j
        j = j * s
    return r, j


def rf_jump_first(windows):
    r, j = 1, 1
    for k, s in windows:
        j = j * s
        r = r + (k - 1) * j
    return r, j


def rf_only_r(windows):
    return ch2_receptive_field(windows)[0]


def rf_function_stub(windows):
    ...


@pytest.mark.parametrize("fn, part", [
    (rf_stub, "still `...`"),
    (rf_function_stub, "returned None"),
    (rf_jump_never_grows, "the jump never grew"),
    (rf_without_jump, "not k − 1"),
    (rf_k_times_j, "not k·j"),
    (rf_jump_first, "before growing r"),
    (rf_only_r, "return the pair (r, j)"),
])
def test_ch2_receptive_field_names_the_slip(fn, part):
    ch2_says(ex.check_receptive_field(fn), part)


# ---------------------------------------------------------------- Chapter 3: training
# isort: split
import pytest  # noqa: E402

from lenet_nb import diagnostics as dg  # noqa: E402


def ch3_evaluate_accuracy(net, data_iter):
    """The notebook's solution."""
    net.eval()
    correct, n = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += int((net(X).argmax(dim=1) == y).sum())
            n += y.numel()
    return correct / n


def ch3_eval_variant(per_batch=False, eval_mode=True, no_grad=True, as_tensor=False,
                     count_only=False, full_batches=False):
    """A typical wrong evaluate_accuracy, one mistake switched on at a time."""

    def evaluate_accuracy(net, data_iter):
        if eval_mode:
            net.eval()
        with torch.set_grad_enabled(not no_grad):
            results = [((net(X).argmax(dim=1) == y).sum(), y.numel()) for X, y in data_iter]
        correct = sum(int(c) for c, _ in results)
        if per_batch:
            return sum(int(c) / n for c, n in results) / len(results)
        if count_only:
            return correct
        if full_batches:
            return correct / (len(results) * data_iter.batch_size)
        if as_tensor:
            return torch.tensor(correct) / sum(n for _, n in results)
        return correct / sum(n for _, n in results)

    return evaluate_accuracy


def test_ch3_evaluate_accuracy_passes_on_the_solution():
    v = ex.check_evaluate_accuracy(ch3_evaluate_accuracy)
    assert v.passed, v.message
    assert "17 of 23 right = 0.7391" in v.message
    assert ex.check_evaluate_accuracy(ch3_eval_variant()).passed


def test_ch3_evaluate_accuracy_reports_the_stub():
    def evaluate_accuracy(net, data_iter):
        ...  # your code here

    v = ex.check_evaluate_accuracy(evaluate_accuracy)
    assert not v.passed and "`evaluate_accuracy` returned None" in v.message


@pytest.mark.parametrize("mistake, message", [
    ({"per_batch": True}, "your accuracy is averaged per batch"),
    ({"eval_mode": False}, "left in training mode: call `net.eval()`"),
    ({"no_grad": False}, "wrap the loop in `with torch.no_grad():`"),
    ({"as_tensor": True}, "returned a tensor"),
    ({"count_only": True}, "that is the number of correct predictions"),
    ({"full_batches": True}, "you divided by batches x batch size"),
])
def test_ch3_evaluate_accuracy_names_the_typical_mistake(mistake, message):
    v = ex.check_evaluate_accuracy(ch3_eval_variant(**mistake))
    assert not v.passed and message in v.message, v.message


def test_ch3_evaluate_accuracy_reports_a_crash_with_its_line():
    def evaluate_accuracy(net, data_iter):
        return correct / total  # noqa: F821

    v = ex.check_evaluate_accuracy(evaluate_accuracy)
    assert not v.passed and "NameError" in v.message and "return correct / total" in v.message


def ch3_train_epoch(net, train_iter, loss, updater):
    """The notebook's solution."""
    net.train()
    loss_sum, correct, n = 0.0, 0, 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)  # noqa: E741
        updater.zero_grad()
        l.backward()
        updater.step()
        loss_sum += l.item() * y.numel()
        correct += int((y_hat.argmax(dim=1) == y).sum())
        n += y.numel()
    return loss_sum / n, correct / n


def ch3_train_variant(order=("zero_grad", "backward", "step"), train_mode=True,
                      per_batch_loss=False, per_batch_acc=False, single=False):
    """A typical wrong train_epoch: the steps in another order or missing, or bad averages."""

    def train_epoch(net, train_iter, loss, updater):
        if train_mode:
            net.train()
        losses, accs, sizes = [], [], []
        for X, y in train_iter:
            y_hat = net(X)
            l = loss(y_hat, y)  # noqa: E741
            for step in order:
                {"zero_grad": updater.zero_grad, "backward": l.backward,
                 "step": updater.step}[step]()
            losses.append(l.item())
            accs.append(int((y_hat.argmax(dim=1) == y).sum()))
            sizes.append(y.numel())
        n = sum(sizes)
        mean_loss = (sum(losses) / len(losses) if per_batch_loss
                     else sum(v * s for v, s in zip(losses, sizes)) / n)
        acc = (sum(c / s for c, s in zip(accs, sizes)) / len(sizes) if per_batch_acc
               else sum(accs) / n)
        return mean_loss if single else (mean_loss, acc)

    return train_epoch


def test_ch3_train_epoch_passes_on_the_solution():
    v = ex.check_train_epoch(ch3_train_epoch)
    assert v.passed, v.message
    assert "(3 steps, 10 samples)" in v.message
    assert ex.check_train_epoch(ch3_train_variant()).passed


def test_ch3_train_epoch_reports_the_stub():
    def train_epoch(net, train_iter, loss, updater):
        ...  # your code here

    v = ex.check_train_epoch(train_epoch)
    assert not v.passed and "`train_epoch` returned None" in v.message


@pytest.mark.parametrize("mistake, message", [
    ({"order": ("backward", "step")}, "the gradients accumulate from batch to batch"),
    ({"order": ("backward", "zero_grad", "step")}, "the gradients were cleared before"),
    ({"order": ("zero_grad", "backward")}, "did you forget `updater.step()`?"),
    ({"train_mode": False}, "call `net.train()` before the loop"),
    ({"per_batch_loss": True}, "your loss is averaged per batch"),
    ({"per_batch_acc": True}, "your accuracy is averaged per batch"),
    ({"single": True}, "should return a pair (mean loss, accuracy)"),
])
def test_ch3_train_epoch_names_the_typical_mistake(mistake, message):
    v = ex.check_train_epoch(ch3_train_variant(**mistake))
    assert not v.passed and message in v.message, v.message


def test_ch3_steps_per_epoch():
    v = ex.check_steps_per_epoch(235)
    assert v.passed and "234 full batches of 256 and a last one of 96" in v.message
    assert "`steps_per_epoch` is still `...`" in ex.check_steps_per_epoch(...).message
    for wrong, message in [(234, "the last, partial batch is also a step"),
                           (234.375, "a number of steps is a whole number"),
                           (60_000, "one step per batch, not per image"),
                           (256, "that is the batch size")]:
        v = ex.check_steps_per_epoch(wrong)
        assert not v.passed and message in v.message and "235" not in v.message, v.message


@pytest.fixture(scope="module")
def ch3_probe():
    """A small fixed batch and the answers the checker will measure on it."""
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(32, 1, 28, 28, generator=g), torch.arange(32) % 10
    table = dg.gradient_norm_table(X, y)
    return X, y, table, ex.gradient_answers(table)


def test_ch3_gradient_layers_passes_on_the_measured_answers(ch3_probe):
    X, y, table, (smallest, grows) = ch3_probe
    assert table["sigmoid"][smallest] == min(table["sigmoid"].values())
    v = ex.check_gradient_layers(smallest, grows.lower(), X=X, y=y)  # case does not matter
    assert v.passed and f"under sigmoid {smallest}'s gradient is the smallest" in v.message


def test_ch3_gradient_layers_reports_stubs_and_wrong_names(ch3_probe):
    X, y, _, (smallest, grows) = ch3_probe
    v = ex.check_gradient_layers(..., ..., X=X, y=y)
    assert "`smallest_under_sigmoid` is still `...`" in v.message
    v = ex.check_gradient_layers(smallest, "conv1", X=X, y=y)
    assert "answer with one of the table's layer names, 'C1', 'C3'" in v.message


def test_ch3_gradient_layers_hints_without_revealing(ch3_probe):
    X, y, table, (smallest, grows) = ch3_probe
    sig, relu = table["sigmoid"], table["relu"]
    largest = max(sig, key=sig.get)
    v = ex.check_gradient_layers(largest, grows, X=X, y=y)
    assert not v.passed and "that is the largest sigmoid gradient" in v.message
    shrinking = next(k for k in sig if relu[k] < sig[k])
    v = ex.check_gradient_layers(smallest, shrinking, X=X, y=y)
    assert not v.passed and "with ReLU that layer's gradient shrinks" in v.message


# ---------------------------------------------------------------- Chapter 4: the paper's LeNet-5


def _stub(*args):
    ...  # your code here


# this section's own imports (below a definition, so merging sections stays conflict-free)
import pytest  # noqa: E402

from lenet_nb import lenet5  # noqa: E402


def _not_yet(verdict, *phrases):
    """The verdict failed and its message holds every phrase."""
    assert not verdict.passed, verdict
    for phrase in phrases:
        assert phrase in verdict.message, (phrase, verdict.message)


# the learner's solutions, as the instructor notebook has them
def squash(a):
    return 1.7159 * torch.tanh(2 * a / 3)


def subsample(X, coeff, bias):
    sums = X[:, :, 0::2, 0::2] + X[:, :, 0::2, 1::2] + X[:, :, 1::2, 0::2] + X[:, :, 1::2, 1::2]
    return sums * coeff.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)


def rbf(X, centers):
    return ((X.unsqueeze(1) - centers) ** 2).sum(dim=2)


def map_loss(y_hat, y, j):
    y_D = y_hat[torch.arange(len(y)), y]
    rubbish = torch.full((len(y), 1), -j, dtype=y_hat.dtype)
    return (y_D + torch.logsumexp(torch.cat([-y_hat, rubbish], dim=1), dim=1)).mean()


def _blocks(X, reduce):
    return reduce(X.unfold(2, 2, 2).unfold(3, 2, 2), (-1, -2))


def test_ch4_reference_solutions_pass():
    for verdict in (ex.check_squash(squash), ex.check_subsample(subsample), ex.check_rbf(rbf),
                    ex.check_map_loss(map_loss), ex.check_c3_params(1516)):
        assert verdict.passed, verdict
    assert "f(1) = 1.0000, f(-1) = -1.0000" in ex.check_squash(squash).message
    assert "1,516 = 60 kernels" in ex.check_c3_params(1516).message


def test_ch4_the_package_pieces_pass_too():
    """The checkers accept the package's modules wrapped as functions (same numbers)."""
    assert ex.check_squash(lenet5.Squash()).passed

    def via_module(X, coeff, bias):
        s = lenet5.Subsampling(X.shape[1]).double()
        s.load_state_dict({"weight": coeff, "bias": bias})
        return s(X).detach()

    assert ex.check_subsample(via_module).passed
    assert ex.check_rbf(lambda X, c: lenet5.RBF(c)(X)).passed
    assert ex.check_map_loss(lambda y_hat, y, j: lenet5.MAPLoss(j)(y_hat, y)).passed


@pytest.mark.parametrize("name", ["squash", "subsample", "rbf", "map_loss"])
def test_ch4_stubs_say_not_yet(name):
    check = getattr(ex, f"check_{name}")
    _not_yet(check(_stub), f"`{name}` returned None", "replace the `...`")
    _not_yet(check(...), f"`{name}` is not defined yet")


@pytest.mark.parametrize("wrong, hint", [
    (torch.tanh, "plain tanh(a)"),
    (lambda a: 1.7159 * torch.tanh(a), "the slope S = 2/3 inside the tanh is missing"),
    (lambda a: torch.tanh(2 * a / 3), "without the 1.7159 amplitude"),
    (lambda a: 1.7159 * torch.tanh(1.5 * a), "you multiplied a by 3/2"),
    (lambda a: 2 / 3 * torch.tanh(1.7159 * a), "A and S are swapped"),
    (lambda a: 1.7159 * torch.sigmoid(2 * a / 3), "that is a sigmoid"),
    (lambda a: 1.7159 * torch.tanh(0.667 * a), "close but not exact"),
    (lambda a: 1.716 * torch.tanh(2 * a / 3), "close but not exact"),
    (lambda a: a.tolist(), "should be a torch tensor"),
])
def test_ch4_squash_names_the_mistake(wrong, hint):
    _not_yet(ex.check_squash(wrong), hint)


@pytest.mark.parametrize("wrong, hint", [
    (lambda X, c, b: _blocks(X, torch.mean) * c.view(1, -1, 1, 1) + b.view(1, -1, 1, 1),
     "you averaged the 2x2 block; the paper sums it"),
    (lambda X, c, b: lenet5.Squash()(subsample(X, c, b)), "you applied the squashing function"),
    (lambda X, c, b: _blocks(X, torch.sum) * c + b, "broadcast along the last axis"),
    (lambda X, c, b: _blocks(X, torch.sum) * c.view(1, -1, 1, 1), "forget the bias"),
    (lambda X, c, b: _blocks(X, torch.sum) + b.view(1, -1, 1, 1), "trainable coefficient"),
    (lambda X, c, b: (_blocks(X, torch.sum) + b.view(1, -1, 1, 1)) * c.view(1, -1, 1, 1),
     "the bias is added after multiplying"),
    (lambda X, c, b: _blocks(X, torch.amax) * c.view(1, -1, 1, 1) + b.view(1, -1, 1, 1),
     "the maximum of each block"),
    (lambda X, c, b: torch.nn.functional.avg_pool2d(X, 2, stride=1) * 4,
     "has shape (1, 2, 3, 3), expected (1, 2, 2, 2). Hint: your 2x2 windows overlap"),
    (lambda X, c, b: X * c.view(1, -1, 1, 1), "one value per 2x2 block"),
])
def test_ch4_subsample_names_the_mistake(wrong, hint):
    _not_yet(ex.check_subsample(wrong), hint)


def test_ch4_subsample_reports_the_learners_error():
    def broken(X, coeff, bias):
        return X.sum(5)

    _not_yet(ex.check_subsample(broken), "`subsample` raised IndexError", "return X.sum(5)")


@pytest.mark.parametrize("wrong, hint", [
    (lambda X, c: ((X.unsqueeze(1) - c) ** 2).sum(2).T, "one row per image, [N, 10]"),
    (lambda X, c: (X.unsqueeze(1) - c) ** 2, "sum them over the 84 F6 values"),
    (lambda X, c: torch.cdist(X, c), "that is the Euclidean distance"),
    (lambda X, c: (X.unsqueeze(1) - c).sum(2), "without squaring them"),
    (lambda X, c: (X.unsqueeze(1) - c).abs().sum(2), "absolute differences"),
    (lambda X, c: X @ c.T, "that is a dot product"),
    (lambda X, c: ((X.unsqueeze(1) - c) ** 2).mean(2), "you averaged over the 84 values"),
])
def test_ch4_rbf_names_the_mistake(wrong, hint):
    _not_yet(ex.check_rbf(wrong), hint)


def _y_D(y_hat, y):
    return y_hat[torch.arange(len(y)), y]


def _lse(y_hat, j):
    return torch.log(torch.exp(torch.tensor(-j, dtype=y_hat.dtype)) + torch.exp(-y_hat).sum(1))


@pytest.mark.parametrize("wrong, hint", [
    (lambda y_hat, y, j: _y_D(y_hat, y) + _lse(y_hat, j), "one loss per image"),
    (lambda y_hat, y, j: (_y_D(y_hat, y) + _lse(y_hat, j)).sum(), "a sum over the batch"),
    (lambda y_hat, y, j: map_loss(y_hat, y, 5.0), "the one for j = 5"),
    (lambda y_hat, y, j: (_y_D(y_hat, y) + torch.logsumexp(-y_hat, 1)).mean(),
     "e^(−j) is missing"),
    (lambda y_hat, y, j: (_y_D(y_hat, y) + _lse(y_hat, -j)).mean(), "not e^(+j)"),
    (lambda y_hat, y, j: (_y_D(y_hat, y) + _lse(-y_hat, j)).mean(), "a minus sign"),
    (lambda y_hat, y, j: _lse(y_hat, j).mean(), "y_D (the penalty of the correct class)"),
    (lambda y_hat, y, j: (_lse(y_hat, j) - _y_D(y_hat, y)).mean(), "y_D is added"),
    (lambda y_hat, y, j: (y_hat.min(1).values + _lse(y_hat, j)).mean(),
     "not the smallest penalty"),
])
def test_ch4_map_loss_names_the_mistake(wrong, hint):
    _not_yet(ex.check_map_loss(wrong), hint)


def test_ch4_map_loss_must_be_stable_for_large_penalties():
    def naive(y_hat, y, j):
        return (_y_D(y_hat, y) + _lse(y_hat, j)).mean()

    assert torch.isinf(naive(torch.full((1, 10), 800.0, dtype=torch.float64),
                             torch.tensor([0]), 800.0))  # the case the checker feeds
    _not_yet(ex.check_map_loss(naive), "your loss is -inf", "torch.logsumexp")


def test_ch4_map_loss_accepts_a_one_element_tensor():
    assert ex.check_map_loss(lambda y_hat, y, j: map_loss(y_hat, y, j).view(1, 1)).passed


@pytest.mark.parametrize("wrong, hint", [
    (1500, "each C3 map also has one bias"),
    (1560, "one bias per C3 map, not one per connection"),
    (2416, "a full 6→16 convolution"),
    (2400, "a full 6→16 convolution"),
    (416, "one per map it reads"),
    (60, "the number of connections"),
    (1234, "which is not right"),
    ("1516", "without quotes"),
])
def test_ch4_c3_params_names_the_mistake_without_revealing(wrong, hint):
    verdict = ex.check_c3_params(wrong)
    _not_yet(verdict, hint)
    assert "1,516" not in verdict.message
    assert "1516" not in verdict.message.replace(f"is {wrong!r}", "")


def test_ch4_c3_params_stub():
    _not_yet(ex.check_c3_params(...), "`c3_params` is still `...`")
    assert ex.check_c3_params(1516.0).passed


# ---------------------------------------------------------------- Chapter 6: draw and look inside

def bounding_box_reference(ink, level=0.1):
    import numpy as np

    rows, cols = np.flatnonzero((ink > level).any(1)), np.flatnonzero((ink > level).any(0))
    return rows[0], cols[0], rows[-1] + 1, cols[-1] + 1


def test_bounding_box_passes_on_the_reference():
    v = ex.check_bounding_box(bounding_box_reference)
    assert v.passed, v.message
    assert repr(v).startswith("✔ bounding_box: the box (top, left, bottom, right)")


def test_bounding_box_stub_and_typical_mistakes():
    def bounding_box(ink, level=0.1):
        ...  # your code here

    assert "`bounding_box` returned None" in ex.check_bounding_box(bounding_box).message

    def inclusive(ink, level=0.1):
        top, left, bottom, right = bounding_box_reference(ink, level)
        return top, left, bottom - 1, right - 1

    assert "bottom and right are exclusive" in ex.check_bounding_box(inclusive).message

    def no_level(ink, level=0.1):
        return bounding_box_reference(ink, 0.0)

    assert "faint 0.05 pixels are not ink" in ex.check_bounding_box(no_level).message

    def swapped(ink, level=0.1):
        top, left, bottom, right = bounding_box_reference(ink, level)
        return left, top, right, bottom

    assert "rows and columns are swapped" in ex.check_bounding_box(swapped).message

    def crashes(ink, level=0.1):
        return (ink > level).nonzero()[0][10]

    v = ex.check_bounding_box(crashes)
    assert not v.passed and "IndexError" in v.message
    assert "four integers" in ex.check_bounding_box(lambda ink, level: 3).message


def test_occluded_copies():
    assert ex.check_occluded_copies(196).passed
    assert "still `...`" in ex.check_occluded_copies(...).message
    assert "stride 1" in ex.check_occluded_copies(729).message
    assert "off by one" in ex.check_occluded_copies(169).message
    assert "forgets that the patch must fit" in ex.check_occluded_copies(256).message
    v = ex.check_occluded_copies(200)
    assert not v.passed and "196" not in v.message  # predict-then-run: the answer stays hidden


def test_c3_field():
    assert ex.check_c3_field(14).passed
    assert "still `...`" in ex.check_c3_field(...).message
    assert "C1 unit" in ex.check_c3_field(5).message
    assert "side of a C3 map" in ex.check_c3_field(10).message
    assert "2 pixels apart" in ex.check_c3_field(25).message
    assert "count the pixels" in ex.check_c3_field(13).message
    assert "that is C5" in ex.check_c3_field(32).message
    assert "14" not in ex.check_c3_field(12).message
