"""A *find the bug* exercise for the browser test, built on the real checking machinery (the
chapters' own find-the-bug exercises are being written; this one stands in for them)."""

import torch

from lenet_nb.exercises.checking import NotYet, call, checker

CHAPTER = 9
EXERCISES = {"accuracy": "find the bug"}

# scores are the inputs themselves: batch 1 (3 images) all right, batch 2 (1 image) wrong
BATCHES = [(torch.eye(3), torch.tensor([0, 1, 2])), (torch.tensor([[1.0, 0.0, 0.0]]),
                                                     torch.tensor([2]))]


@checker("accuracy")
def check_accuracy(accuracy):
    """Find the bug: per-image accuracy, whatever the batch sizes."""
    got = call(accuracy, lambda X: X, [(X.clone(), y.clone()) for X, y in BATCHES],
               name="accuracy")
    if abs(float(got) - 0.5) < 1e-9:
        raise NotYet("0.5 on batches of 3 and 1 images where 3 of the 4 are right: each batch "
                     "counts as much as any other, whatever its size. Hint: what should a batch "
                     "of one image weigh against a batch of three?")
    if abs(float(got) - 0.75) > 1e-9:
        raise NotYet(f"{float(got):.4g} on batches of 3 and 1 images where 3 of the 4 are right")
    return "0.7500 on batches of 3 and 1 images: counted per image"


INSTRUCTOR_ANSWER = '''def accuracy(net, batches):
    """Fraction of correctly classified images."""
    ### BEGIN SOLUTION
    right = total = 0
    for X, y in batches:
        right += (net(X).argmax(1) == y).sum().item()
        total += len(y)
    return right / total
    ### END SOLUTION
    ### BEGIN STUB
    # accs = [(net(X).argmax(1) == y).float().mean().item() for X, y in batches]
    # return sum(accs) / len(accs)
    ### END STUB


print("on batches of 3 and 1:", accuracy(lambda X: X, BATCHES))'''


def instructor_notebook():
    """The exercise as an instructor notebook in the convention of docs/exercises.md."""
    import nbformat

    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import find_the_bug_fixture as ex\n"
                                  "from find_the_bug_fixture import BATCHES"),
        nbformat.v4.new_markdown_cell(
            "#### Exercise 9.1 (find the bug): an accuracy that depends on the batch size\n\n"
            "`accuracy` should give the fraction of right answers over all images. On batches "
            "of 3 and 1 images where 3 of the 4 are right it does not give 0.75. Find the bug."),
        nbformat.v4.new_code_cell(INSTRUCTOR_ANSWER, metadata={"tags": ["exercise-answer"]}),
        nbformat.v4.new_code_cell("ex.check_accuracy(accuracy)",
                                  metadata={"tags": ["exercise-check"]}),
    ])
