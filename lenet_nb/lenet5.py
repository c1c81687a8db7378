"""LeNet-5 as in LeCun et al. 1998: Table-I C3, trainable subsampling, fixed RBF, MAP loss."""

import torch
from torch import nn
from torch.nn import functional as F

from lenet_nb.models import removing
from lenet_nb.validate import positive_number

# Table I of the paper: the S2 maps (0-5) each C3 map (0-15) reads.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)  # fmt: skip

# The 7x12 bitmaps of the digits (paper, Fig. 3): "#" is +1 (ink), "." is -1.
DIGIT_BITMAPS = (
    (".#####.", ".......", "..###..", ".##.##.", "##...##", "##...##",
     "##...##", "##...##", ".##.##.", "..###..", ".......", "......."),
    ("...##..", "..###..", ".####..", "...##..", "...##..", "...##..",
     "...##..", "...##..", "...##..", ".######", ".......", "......."),
    (".#####.", ".......", ".#####.", "##...##", "#....##", "....##.",
     "..###..", ".##....", "##.....", "#######", ".......", "......."),
    ("#######", ".....##", "....##.", "...##..", "..####.", ".....##",
     ".....##", ".....##", "##...##", ".#####.", ".......", "......."),
    (".#####.", ".......", ".......", ".##..##", ".##..##", "###..##",
     "##...##", "##...##", "##..###", ".######", ".....##", ".....##"),
    (".#####.", ".......", "#######", "##.....", "##.....", ".####..",
     "..####.", ".....##", "##...##", ".#####.", ".......", "......."),
    ("..####.", ".##....", "##.....", "##.....", "######.", "###..##",
     "##...##", "##...##", "###..##", ".#####.", ".......", "......."),
    ("#######", ".....##", ".....##", "....##.", "...##..", "...##..",
     "..##...", "..##...", "..##...", "..##...", ".......", "......."),
    (".#####.", "##...##", "##...##", "##...##", ".#####.", "##...##",
     "##...##", "##...##", "##...##", ".#####.", ".......", "......."),
    (".#####.", "##..###", "##...##", "##...##", "##..###", ".######",
     ".....##", ".....##", "....##.", ".####..", ".......", "......."),
)  # fmt: skip

# Paper's per-layer trainable parameter counts (Section II.B).
PAPER_PARAMS = {"C1": 156, "S2": 12, "C3": 1516, "S4": 32, "C5": 48120, "F6": 10164}
# the constant j of the MAP loss: the paper only says it is positive; chapter 5 compares j = 1
# and j = 5 on a held-out validation split (experiment lenet5_validation)
MAP_J = 5.0
BACKGROUND, INK = -0.1, 1.175  # paper's input levels: mean input about 0, variance about 1
INPUT_SLACK = 1e-3  # check_input's tolerance around [0, 1]


def rbf_bitmaps():
    """Return the ten 7x12 digit bitmaps as a float tensor [10, 84] of +1 (ink) and -1."""
    rows = ["".join(b) for b in DIGIT_BITMAPS]
    return torch.tensor([[1.0 if c == "#" else -1.0 for c in r] for r in rows])


def c3_connections():
    """Return Table I as a 6x16 bool tensor: entry [i, k] says C3 map k reads S2 map i."""
    table = torch.zeros(6, 16, dtype=torch.bool)
    for k, inputs in enumerate(C3_TABLE):
        table[list(inputs), k] = True
    return table


def scale_input(X):
    """Map pixel intensities in [0, 1] to the paper's levels: background -0.1, ink 1.175."""
    return BACKGROUND + (INK - BACKGROUND) * X


class Squash(nn.Module):
    """The paper's squashing function f(a) = 1.7159 tanh(2a/3) (so f(+-1) = +-1)."""

    def forward(self, X):
        return 1.7159 * torch.tanh(X * (2.0 / 3.0))


class Subsampling(nn.Module):
    """S2/S4: each map's 2x2 sums times one trainable coefficient plus one trainable bias."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.fan_in = 4

    def forward(self, X):
        # avg_pool x 4 is the paper's sum; one broadcast handles every map at once
        coef = (4.0 * self.weight).view(1, -1, 1, 1)
        return torch.addcmul(self.bias.view(1, -1, 1, 1), F.avg_pool2d(X, 2), coef)


class TableConv2d(nn.Module):
    """C3: output map k convolves only the input maps table[k] (Table I), in one conv call."""

    def __init__(self, table=C3_TABLE, kernel_size=5):
        super().__init__()
        self.table, self.kernel_size = tuple(map(tuple, table)), kernel_size
        self.in_channels = max(i for t in self.table for i in t) + 1
        self.out_channels = len(self.table)
        # one trainable kernel per Table-I connection (60 for C3), stored in table order
        self.weight = nn.Parameter(torch.zeros(sum(map(len, self.table)), kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(self.out_channels))
        rows = [k for k, t in enumerate(self.table) for _ in t]
        cols = [i for t in self.table for i in t]
        self.register_buffer("rows", torch.tensor(rows), persistent=False)
        self.register_buffer("cols", torch.tensor(cols), persistent=False)
        starts = [0]
        for t in self.table:
            starts.append(starts[-1] + len(t))
        self.starts = starts

    def kernel(self, k):
        """Return (a view of) output map k's kernel, shape [len(table[k]), ks, ks]."""
        return self.weight[self.starts[k] : self.starts[k + 1]]

    def kernel_grad(self, k):
        """Return the gradient of output map k's kernel after backward()."""
        return self.weight.grad[self.starts[k] : self.starts[k + 1]]

    def dense_weight(self):
        """Scatter the connection kernels into a [out, in, ks, ks] weight; absent ones are 0."""
        ks = self.kernel_size
        W = self.weight.new_zeros(self.out_channels, self.in_channels, ks, ks)
        # the zeros are constants, not parameters: gradients reach only the 60 kernels
        return W.index_put((self.rows, self.cols), self.weight)

    def forward(self, X):
        # one dense conv beats 16 small ones or a gathered input stack on a CPU:
        # the 36 absent connections cost a few multiply-adds, never a parameter
        return F.conv2d(X, self.dense_weight(), self.bias)


class RBF(nn.Module):
    """Euclidean RBF output: y_i = sum_j (x_j - w_ij)^2 with fixed centres (a buffer)."""

    def __init__(self, centers):
        super().__init__()
        # a buffer: saved and moved with the model, never handed to the optimizer
        self.register_buffer("centers", centers.clone())

    def forward(self, X):
        return (X.unsqueeze(1) - self.centers).pow(2).sum(-1)


def rbf_predict(y_hat):
    """Class ids from RBF penalties: the smallest penalty wins."""
    return y_hat.argmin(dim=1)


def logit_predict(y_hat):
    """Class ids from logits: the largest wins."""
    return y_hat.argmax(dim=1)


class MAPLoss(nn.Module):
    """Paper eq. (9): mean over the batch of y_D + log(exp(-j) + sum_i exp(-y_i))."""

    def __init__(self, j=MAP_J):
        super().__init__()
        self.j = positive_number("MAPLoss: j", j)

    def forward(self, y_hat, y):
        y_D = y_hat.gather(1, y.view(-1, 1)).squeeze(1)
        rubbish = y_hat.new_full((y_hat.shape[0], 1), -self.j)  # the e^(-j) "rubbish" term
        return (y_D + torch.logsumexp(torch.cat([-y_hat, rubbish], dim=1), dim=1)).mean()


class LeNet5(nn.Module):
    """LeNet-5 of the 1998 paper: 60,000 trainable parameters, 840 fixed RBF values."""

    def __init__(self, head="rbf"):
        super().__init__()
        if head not in ("rbf", "softmax"):
            raise ValueError(f"head must be 'rbf' or 'softmax', got {head!r}")
        self.head = head
        self.C1 = nn.Conv2d(1, 6, 5)
        self.S2 = Subsampling(6)
        self.C3 = TableConv2d(C3_TABLE, 5)
        self.S4 = Subsampling(16)
        self.C5 = nn.Conv2d(16, 120, 5)
        self.F6 = nn.Linear(120, 84)
        # head="softmax": a trained 84->10 linear layer for softmax + cross-entropy instead
        self.output = RBF(rbf_bitmaps()) if head == "rbf" else nn.Linear(84, 10)
        self.act = Squash()
        self.predict = rbf_predict if head == "rbf" else logit_predict
        init_paper(self)

    def features(self, X):
        """Return the F6 outputs [N, 84] (the code the RBF units compare with the bitmaps)."""
        check_input(X)
        X = self.act(self.S2(self.act(self.C1(scale_input(X)))))
        X = self.act(self.S4(self.act(self.C3(X))))
        X = self.act(self.C5(X)).flatten(1)  # flatten, not squeeze: batch size 1 stays a batch
        return self.act(self.F6(X))

    def forward(self, X):
        return self.output(self.features(X))


def check_input(X):
    """Raise a clear ValueError unless X is a float batch [N, 1, 32, 32] with pixels in [0, 1]."""
    if not torch.is_tensor(X) or X.dim() != 4 or tuple(X.shape[1:]) != (1, 32, 32):
        shape = tuple(X.shape) if torch.is_tensor(X) else type(X).__name__
        raise ValueError(
            f"LeNet-5 expects a batch of shape [N, 1, 32, 32] with pixels in [0, 1], got {shape}; "
            "pad MNIST's 28x28 digits by 2 (load_data_mnist(..., pad=2)) and keep the batch "
            "dimension (X.unsqueeze(0) for a single image)"
        )
    if not X.is_floating_point():
        raise ValueError(f"LeNet-5 expects float pixels in [0, 1], got dtype {X.dtype}; convert "
                         f"0-255 images with X.float() / 255 (load_data_mnist gives floats)")
    if X.numel():
        lo, hi = (float(v) for v in torch.aminmax(X.detach()))
        # not (...) also refuses NaN; the slack admits rounding of resampled images
        if not (lo >= -INPUT_SLACK and hi <= 1 + INPUT_SLACK):
            raise ValueError(
                f"LeNet-5 expects pixels in [0, 1] (background 0, ink 1), got values from "
                f"{lo:.4g} to {hi:.4g}; divide 0-255 images by 255 and leave out any "
                f"Normalize(mean, std): scale_input maps [0, 1] to the paper's levels")


def fan_in(module):
    """Number of inputs of one unit of `module` (the paper's F_i)."""
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        return module.weight[0].numel()
    return module.fan_in


def init_paper(net):
    """Paper's init: every weight and bias uniform in +-2.4 / F_i, F_i the unit's fan-in."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, TableConv2d):
                for k in range(len(m.table)):
                    bound = 2.4 / m.kernel(k).numel()
                    m.kernel(k).uniform_(-bound, bound)
                    m.bias[k].uniform_(-bound, bound)
            elif isinstance(m, (nn.Conv2d, nn.Linear, Subsampling)):
                bound = 2.4 / fan_in(m)
                m.weight.uniform_(-bound, bound)
                m.bias.uniform_(-bound, bound)
    return net


def parameter_table(net):
    """Rows (layer, output shape, trainable, fixed, paper) for one 1x1x32x32 input."""
    shapes, hooks = {}, []
    names = ["C1", "S2", "C3", "S4", "C5", "F6", "output"]
    for name in names:
        mod = getattr(net, name)
        hooks.append(mod.register_forward_hook(lambda m, i, o, n=name: shapes.update({n: o})))
    with removing(hooks), torch.no_grad():
        net(torch.zeros(1, 1, 32, 32))
    rows = []
    for name in names:
        mod = getattr(net, name)
        trainable = sum(p.numel() for p in mod.parameters() if p.requires_grad)
        fixed = sum(b.numel() for b in mod.buffers(recurse=False) if b.is_floating_point())
        label = "RBF" if isinstance(mod, RBF) else name
        shape = "x".join(map(str, shapes[name].shape[1:]))
        rows.append((label, shape, trainable, fixed, PAPER_PARAMS.get(name, 0 if fixed else None)))
    return rows


def format_parameter_table(rows):
    """Render parameter_table rows (plus a total line) as fixed-width text."""
    lines = [f"{'layer':<7}{'output':>10}{'trainable':>11}{'fixed':>7}{'paper':>8}"]
    for name, shape, trainable, fixed, paper in rows:
        paper = "-" if paper is None else f"{paper:,}"
        lines.append(f"{name:<7}{shape:>10}{trainable:>11,}{fixed:>7,}{paper:>8}")
    total = sum(r[2] for r in rows), sum(r[3] for r in rows)
    lines.append(f"{'total':<7}{'':>10}{total[0]:>11,}{total[1]:>7,}{60000:>8,}")
    return "\n".join(lines)



def c3_activity(net, X):
    """Per C3 map: (spread of its squashed output over images X and positions, kernel norm).

    A map whose output hardly changes from image to image carries no information: "dead".
    """
    net.eval()
    with torch.inference_mode():
        S2 = net.act(net.S2(net.act(net.C1(scale_input(X)))))
        C3 = net.act(net.C3(S2))  # [N, 16, 10, 10]
        spread = C3.transpose(0, 1).flatten(1).std(dim=1)
        norms = torch.stack([net.C3.kernel(k).norm() for k in range(C3.shape[1])])
    return spread, norms
