"""Looking inside LeNet: confident mistakes, C1 filters, feature maps after C1 and C3; gradients
and activations per layer; chapter 3's checks at initialisation and a short run of one's own."""

import torch
from torch import nn

from lenet_nb.models import removing
from lenet_nb.plot import show_images
from lenet_nb.validate import whole_number


def predict_proba(net, X, batch_size=1000):
    """Softmax probabilities of `net` for images X [N,1,H,W], computed in batches."""
    batch_size = whole_number("batch_size", batch_size)
    net.eval()
    with torch.inference_mode():
        return torch.cat([torch.softmax(net(X[i:i + batch_size]), dim=1)
                          for i in range(0, len(X), batch_size)])


def most_confident_mistakes(net, X, y, k=10):
    """Return (indices, predictions, confidences) of the k wrong predictions made most surely."""
    k = whole_number("k", k, low=0)  # a negative k would slice from the end
    conf, y_hat = predict_proba(net, X).max(dim=1)
    wrong = (y_hat != y).nonzero().flatten()
    order = conf[wrong].argsort(descending=True, stable=True)[:k]
    idx = wrong[order]
    return idx, y_hat[idx], conf[idx]


def plot_mistakes(X, y, idx, y_hat, conf, labels=None, num_cols=5, scale=2.0):
    """Show wrong predictions titled "label / Pred: pred (confidence)"; returns axes."""
    name = (lambda c: labels[c]) if labels is not None else str
    titles = [f"{name(int(y[i]))}\nPred: {name(int(p))} ({c:.2f})"
              for i, p, c in zip(idx.tolist(), y_hat.tolist(), conf.tolist())]
    num_rows = max(1, -(-len(idx) // num_cols))
    return show_images(X[idx].squeeze(1), num_rows, num_cols, titles=titles, scale=scale,
                       colors=["red"] * len(idx))


def conv_layers(net):
    """The Conv2d layers of `net` in order (C1, C3, ...)."""
    return [m for m in net.modules() if isinstance(m, nn.Conv2d)]


def feature_maps(net, x):
    """Activations of one image x [1,H,W] after C1 and after C3 (each conv's activation).

    Hooks the module that follows each of the first two convolutions in a Sequential net,
    so the maps are what the next layer sees: after the non-linearity, before pooling.
    """
    children = list(net.children())
    convs = [i for i, m in enumerate(children) if isinstance(m, nn.Conv2d)][:2]
    if len(convs) < 2:
        raise ValueError("feature_maps expects a Sequential LeNet with at least two Conv2d layers")
    maps, hooks = {}, []
    for name, i in zip(("C1", "C3"), convs):
        layer = children[i + 1] if i + 1 < len(children) else children[i]
        hooks.append(layer.register_forward_hook(
            lambda _m, _inp, out, name=name: maps.__setitem__(name, out[0].detach().clone())))
    net.eval()
    with removing(hooks), torch.inference_mode():
        net(x.unsqueeze(0))
    return maps


def plot_filters(net, scale=1.2):
    """Show the C1 kernels (6 of 5x5 for LeNet) as images; returns axes."""
    w = conv_layers(net)[0].weight.detach()[:, 0]
    return show_images(w, 1, len(w), titles=[f"C1 #{i}" for i in range(len(w))], scale=scale,
                       cmap="RdBu_r", colorbar="weight")


def plot_feature_maps(maps, name, num_cols=8, scale=1.0):
    """Show every channel of one feature-map tensor [C,H,W]; returns axes."""
    m = maps[name]
    num_rows = -(-len(m) // num_cols)
    return show_images(m, num_rows, num_cols, titles=[f"{name}:{i}" for i in range(len(m))],
                       scale=scale, cmap="viridis", colorbar="activation")


# ---------------------------------------------------------------- gradients and activations

ACTIVATION_TYPES = (nn.Sigmoid, nn.Tanh, nn.ReLU)
LENET_LAYER_NAMES = ("C1", "C3", "C5", "F6", "output")


def weighted_layers(net):
    """[(name, module)] of the Conv2d and Linear layers in order; LeNet's names when they fit."""
    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    if len(layers) == len(LENET_LAYER_NAMES):
        names = LENET_LAYER_NAMES
    else:  # any other net: the kind and its position
        names = [f"{type(m).__name__.lower()}{i}" for i, m in enumerate(layers, 1)]
    return list(zip(names, layers))


def gradient_norms(net, X, y, loss):
    """{layer name: L2 norm of d loss / d weight} for one batch (X, y); grads are left in place."""
    net.zero_grad(set_to_none=True)  # a fresh backward pass, not added to older gradients
    loss(net(X), y).backward()
    return {name: float(m.weight.grad.norm()) for name, m in weighted_layers(net)}


def activations(net, X):
    """{layer name: output of the activation that follows it} for a batch X, without gradients."""
    names = dict((m, name) for name, m in weighted_layers(net))
    modules, found, last = list(net.modules()), {}, None
    hooks = []
    for m in modules:
        if m in names:
            last = names[m]
        elif isinstance(m, ACTIVATION_TYPES) and last is not None:
            # the activation right after a weighted layer gets that layer's name
            hooks.append(m.register_forward_hook(
                lambda _m, _inp, out, name=last: found.__setitem__(name, out.detach().clone())))
            last = None
    with removing(hooks), torch.no_grad():
        net(X)
    return found


def probe_batch(n=256, root=None):
    """The first n Fashion-MNIST training images (X [n,1,28,28] in [0, 1], y): a fixed batch."""
    from lenet_nb.data import load_split, to_float

    X, y = load_split("FashionMNIST", train=True, root=root)
    return to_float(X[:n]), y[:n]


def lenet_at_init(activation, seed=0, xavier=True):
    """The d2l LeNet with the given activation built from `seed`: Xavier weights, or PyTorch's
    default initialisation with `xavier=False`."""
    from lenet_nb.models import LeNet, init_xavier

    torch.manual_seed(seed)
    net = LeNet(activation)
    return init_xavier(net) if xavier else net


def init_scale_record(scale, X, y, seed=0):
    """The ReLU LeNet at PyTorch's default initialisation from `seed`, every parameter times
    `scale`: its loss on (X, y) and the spread (std) of its scores, before any training."""
    net = lenet_at_init("relu", seed, xavier=False)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(scale)
        scores = net(X)
    return {"scale": scale, "seed": seed, "loss": float(nn.functional.cross_entropy(scores, y)),
            "logit_std": float(scores.std())}


def gradient_norm_table(X, y, activations=("sigmoid", "relu"), seed=0):
    """{activation: {layer: gradient norm}} at initialisation, same seed and batch for each."""
    loss = nn.CrossEntropyLoss()
    return {a: gradient_norms(lenet_at_init(a, seed), X, y, loss) for a in activations}


def plot_activation_histograms(acts_by_name, bins=40, scale=2.2):
    """One row per activation function, one histogram per layer; returns the axes [rows][cols]."""
    import matplotlib.pyplot as plt

    rows = list(acts_by_name)
    layers = list(acts_by_name[rows[0]])
    fig, axes = plt.subplots(len(rows), len(layers), squeeze=False, layout="constrained",
                             figsize=(scale * len(layers), 0.8 * scale * len(rows)))
    for r, row in enumerate(rows):
        for c, layer in enumerate(layers):
            ax = axes[r][c]
            ax.hist(acts_by_name[row][layer].flatten().numpy(), bins=bins, color=f"C{r}")
            ax.set_title(f"{row}: after {layer}", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.set_yticks([])
    return axes


# --- a short run of one's own (chapter 3's change-and-observe exercise on the rate) -----------


def short_sgd_run(lr, steps=200, num_train=10_000, num_val=2_000, seed=0, batch_size=128):
    """`steps` plain-SGD steps of the ReLU LeNet (Xavier, from `seed`) on the first `num_train`
    images of the sweep's training part (`lr_sweep.budget_data`); validation accuracy on its
    first `num_val` held-out images. A record: settings, the loss of every step, val_acc, and
    `diverged` (the loss became NaN or infinite: training stopped there)."""
    from lenet_nb.data import TensorBatches
    from lenet_nb.lessons.lr_sweep import SWEEP_CONFIG, budget_data
    from lenet_nb.models import LeNet, init_xavier
    from lenet_nb.train import evaluate_accuracy

    train_part, val_part = budget_data(SWEEP_CONFIG)  # chapter 3's split, loaded once
    batches = TensorBatches(train_part.X[:num_train], train_part.y[:num_train], batch_size,
                            shuffle=True, seed=seed)
    torch.manual_seed(seed)
    net = init_xavier(LeNet("relu"))
    updater = torch.optim.SGD(net.parameters(), lr=lr)
    losses, diverged = [], False
    while len(losses) < steps and not diverged:
        for X, y in batches:
            loss = torch.nn.functional.cross_entropy(net(X), y)
            losses.append(loss.item())
            diverged = not torch.isfinite(loss).item()
            if diverged or len(losses) == steps:
                break
            updater.zero_grad()
            loss.backward()
            updater.step()
    val = TensorBatches(val_part.X[:num_val], val_part.y[:num_val], 1000)
    return {"settings": {"activation": "relu", "lr": lr, "steps": steps, "num_train": num_train,
                         "num_val": num_val, "seed": seed, "batch_size": batch_size},
            "losses": losses, "val_acc": evaluate_accuracy(net, val), "diverged": diverged}
