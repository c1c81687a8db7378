"""Chapter 5's challenge spec: the paper's network kept, the error by argmin, the hints, and the
freezing rule on the course solution's stored runs."""

import pytest
import torch

from lenet_nb import lenet5
from lenet_nb.exercises import challenge
from lenet_nb.exercises import lenet5_challenge as spec
from lenet_nb.exercises.checking import NotYet


def test_the_challenge_keeps_the_papers_network():
    spec.paper_network(lenet5.LeNet5())  # passes: no exception
    with pytest.raises(NotYet, match="60,000 trainable parameters, yours has 60,850"):
        spec.paper_network(lenet5.LeNet5("softmax"))  # a trained 84->10 head instead of the RBF
    shifted = lenet5.LeNet5()
    shifted.output.centers.mul_(-1)
    with pytest.raises(NotYet, match="ten 7x12 bitmaps"):
        spec.paper_network(shifted)
    small = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(1024, 10))
    with pytest.raises(NotYet, match="yours has 10,250"):
        spec.paper_network(small)


def test_the_challenge_error_is_measured_by_the_smallest_penalty():
    torch.manual_seed(0)
    net = lenet5.LeNet5()
    X = torch.rand(30, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = net(X).argmin(dim=1)
    assert spec.paper_error(net, X, y) == 0.0
    assert spec.paper_error(net, X, (y + 1) % 10) == 1.0


def test_the_challenge_hints():
    assert spec.paper_hint(None, 60_000, 0, None) is None
    assert "MAP loss" in spec.paper_hint(None, 60_000, 0, 0.5)
    assert "close" in spec.paper_hint(None, 60_000, 0, 0.017)


def test_the_stored_course_solution_clears_the_target_and_the_budget():
    """The freezing rule: the worst stored seed clears 1.5 % by 0.05 points, the slowest uses
    at most 80 % of the budget."""
    rows, missing = challenge.stored_rows(spec.CHALLENGE)
    assert rows, missing
    assert challenge.freeze_problems(spec.CHALLENGE, rows) == []
