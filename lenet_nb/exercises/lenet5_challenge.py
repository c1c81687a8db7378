"""Chapter 5's challenge (exercise 5.8): the paper's LeNet-5 kept as it is, trained the learner's
way to 1.5 % error on 10,000 held-out MNIST training images. The spec, the architecture check,
the error by the smallest penalty and the chapter's hints; the checker is
`lenet5_paper.check_paper_challenge`."""

import torch

from lenet_nb import lenet5
from lenet_nb.exercises import challenge
from lenet_nb.exercises.checking import NotYet
from lenet_nb.lessons import lenet5_train
from lenet_nb.models import count_parameters


def paper_network(net):
    """Raise NotYet unless `net` keeps the paper's architecture: 60,000 trainable parameters and
    the fixed RBF output holding the ten 7x12 bitmaps."""
    params = count_parameters(net)
    if params != 60_000:
        raise NotYet(f"the challenge keeps the paper's network: 60,000 trainable parameters, "
                     f"yours has {params:,}. Build it with LeNet5() and change only the training")
    rbfs = [m for m in net.modules() if isinstance(m, lenet5.RBF)]
    if not rbfs or not torch.equal(rbfs[-1].centers.detach().cpu(), lenet5.rbf_bitmaps()):
        raise NotYet("the output must be the paper's fixed RBF layer holding the ten 7x12 "
                     "bitmaps (LeNet5()'s own output): the checker predicts by the smallest "
                     "penalty")


def paper_error(net, X, y):
    """Error on (X, y) in eval mode, predicting by the smallest RBF penalty (argmin)."""
    net.eval()
    with torch.no_grad():
        right = sum(int((lenet5.rbf_predict(net(X[i:i + 1000])) == y[i:i + 1000]).sum())
                    for i in range(0, len(y), 1000))
    return 1 - right / len(y)


def paper_hint(net, params, macs, value):
    """A hint for a miss (value is the error) or a broken cap (value None)."""
    if value is None:
        return None
    if value > 0.05:
        return ("far above the paper's error: is the loss the MAP loss of the penalties (not a "
                "cross-entropy of them)? Does the learning rate warm up before it decays?")
    return ("close: a schedule that warms up and decays within the budget, or a few more "
            "epochs if your time leaves room, closes such gaps")


CHALLENGE = challenge.ChallengeSpec(
    "paper_challenge", "lenet5_paper", "MNIST", target=0.015, budget=75.0,
    solution=lenet5_train.challenge_train, max_params=60_000, metric="error",
    holdout=lenet5_train.HOLDOUT, split_seed=lenet5_train.SPLIT_SEED, pad=2,
    evaluate=paper_error, constraints=paper_network, hint=paper_hint, minutes=4.0)
