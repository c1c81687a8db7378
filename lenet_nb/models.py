"""The LeNet variants the source tutorials train, plus a small MLP, with shape checks."""

import contextlib
from collections import OrderedDict

from torch import nn

from lenet_nb.validate import whole_number

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
POOLINGS = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}


def _choose(kind, name, table):
    if name not in table:
        raise ValueError(f"unknown {kind} {name!r}: choose one of {sorted(table)}")
    return table[name]


def conv_out(n, kernel_size, padding=0, stride=1):
    """Output side of a conv/pool layer: floor((n + 2p - k) / s) + 1."""
    for name, value, low in (("n", n, 1), ("kernel_size", kernel_size, 1),
                             ("padding", padding, 0), ("stride", stride, 1)):
        whole_number(name, value, low)
    return (n + 2 * padding - kernel_size) // stride + 1


class ShapeChecked(nn.Sequential):
    """A Sequential that rejects inputs other than [batch, C, H, W] with a clear message."""

    in_shape = (1, 28, 28)

    def forward(self, X):
        if X.dim() != 4 or tuple(X.shape[1:]) != tuple(self.in_shape):
            c, h, w = self.in_shape
            raise ValueError(
                f"{type(self).__name__} expects input of shape [batch, {c}, {h}, {w}], got "
                f"{list(X.shape)}; add a batch dimension with X.unsqueeze(0) or a channel "
                f"dimension with X.unsqueeze(1) if one is missing")
        return super().forward(X)

    def __getitem__(self, idx):
        # a slice (e.g. net[:3] for feature maps) is a plain Sequential without the shape check
        if isinstance(idx, slice):
            return nn.Sequential(OrderedDict(list(self._modules.items())[idx]))
        return super().__getitem__(idx)


class LeNet(ShapeChecked):
    """LeNet as d2l writes it; the defaults give its 61,706-parameter sigmoid/avg-pool network."""

    def __init__(self, activation="sigmoid", pooling="avg", padding=2, in_size=28,
                 num_classes=10, kernel_size=5):
        act = _choose("activation", activation, ACTIVATIONS)
        pool = _choose("pooling", pooling, POOLINGS)
        for name, value, low in (("padding", padding, 0), ("in_size", in_size, 1),
                                 ("num_classes", num_classes, 1),
                                 ("kernel_size", kernel_size, 1)):
            whole_number(name, value, low)
        k = kernel_size
        side = conv_out(in_size, k, padding) // 2  # C1 then 2x2 pooling
        side = conv_out(side, k) // 2  # C3 then 2x2 pooling
        if side < 1:
            raise ValueError(f"input side {in_size} with padding {padding} is too small for "
                             f"two {k}x{k} convolutions and two 2x2 poolings; use a larger "
                             f"input, more padding or a smaller kernel (28 with padding 2 or "
                             f"32 without fit 5x5 kernels)")
        super().__init__(
            nn.Conv2d(1, 6, kernel_size=k, padding=padding), act(),
            pool(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=k), act(),
            pool(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.Linear(16 * side * side, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes))
        self.in_shape = (1, in_size, in_size)
        self.activation, self.pooling = activation, pooling


class MyLeNet5(ShapeChecked):
    """MyLeNet5 (the MNIST intro's): C5 is a 16->120 5x5 convolution instead of a linear layer."""

    def __init__(self, activation="sigmoid", num_classes=10):
        act = _choose("activation", activation, ACTIVATIONS)
        whole_number("num_classes", num_classes)
        super().__init__(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), act(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5), act(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(16, 120, kernel_size=5),  # C5: 5x5 -> 1x1, no activation (as the MNIST intro)
            nn.Flatten(),
            nn.Linear(120, 84),  # F6: no activation either; the MNIST intro's forward has none
            nn.Linear(84, num_classes))


class MLP(ShapeChecked):
    """A one-hidden-layer perceptron on the flattened 28x28 image."""

    def __init__(self, hidden=256, num_classes=10, in_size=28):
        for name, value in (("hidden", hidden), ("num_classes", num_classes),
                            ("in_size", in_size)):
            whole_number(name, value)
        super().__init__(nn.Flatten(), nn.Linear(in_size * in_size, hidden), nn.ReLU(),
                         nn.Linear(hidden, num_classes))
        self.in_shape = (1, in_size, in_size)


MODELS = {
    "d2l": lambda **kw: LeNet(**kw),
    "learn14": lambda **kw: LeNet(**{"activation": "sigmoid", "pooling": "max", "padding": 0,
                                     **kw}),
    "mylenet5": lambda **kw: MyLeNet5(**kw),
    "mlp": lambda **kw: MLP(**kw),
}


def get_model(name, **kw):
    """Build a model by name: d2l, learn14 (no pad, max pool), mylenet5 (MNIST intro), mlp."""
    return _choose("model", name, MODELS)(**kw)


def leaf_layers(net):
    """Return (name, module) for every module of net that has no children, in registration order."""
    return [(name, m) for name, m in net.named_modules() if not list(m.children())]


@contextlib.contextmanager
def removing(hooks):
    """Yield, then remove the given hook handles, also when the body raises."""
    try:
        yield
    finally:
        for h in hooks:
            h.remove()


def describe_model(net):
    """One line naming a network's class, its layers in order and its input shape if known."""
    layers = ", ".join(type(m).__name__ for name, m in leaf_layers(net) if name)
    text = type(net).__name__ + (f"({layers})" if layers else "")
    in_shape = getattr(net, "in_shape", None)
    return text + (f" for inputs {list(in_shape)}" if in_shape is not None else "")


def init_xavier(net):
    """Xavier-uniform weights for every Linear and Conv2d (the d2l recipe); returns net."""
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
    return net


def count_parameters(net, trainable_only=True):
    """Number of (trainable) parameters of a network."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad or not trainable_only)
