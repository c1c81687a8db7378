"""Chapter 4's questions: the self-check on the recipes, and the final quiz's "recipes and
pitfalls" topic."""

from lenet_nb.quiz.question import choice_question as choice
from lenet_nb.quiz.question import numeric_question as number

SELF_CHECK = [
    choice(
        "recipes-separate",
        "Two settings, three seeds each, validation accuracy: A 0.861, 0.866, 0.872; "
        "B 0.869, 0.874, 0.880. What can you claim?",
        [
            (
                "B is better: its mean is higher",
                "The means differ, but so do the seeds of one setting: A's best seed beats "
                "B's worst.",
            ),
            (
                "A is better: its lowest seed is the lowest",
                "One extreme seed says nothing about which setting is better.",
            ),
            (
                "Nothing yet: the ranges overlap",
                "B's lowest seed (0.869) lies below A's highest (0.872): at three seeds the "
                "difference is not larger than what the seed alone moves. More seeds, or a "
                "larger difference, could settle it.",
            ),
        ],
        answer=2,
    ),
    choice(
        "recipes-train-eval",
        "The ladder measures the training accuracy after each epoch, in evaluation mode, on the "
        "training images, instead of the accuracy counted while the epoch trains. Why?",
        [
            (
                "During the epoch the weights change after every batch",
                "Yes: the running count mixes the answers of a network that kept changing (and "
                "of dropout, if any, switched on), so it is not the accuracy of the network the "
                "validation split scores.",
            ),
            (
                "Evaluation mode makes any network more accurate",
                "Only layers such as dropout and batch norm behave differently; the point is "
                "to score the same, finished network on both splits.",
            ),
            (
                "The running count also includes the validation images",
                "The validation images are held out: they are never trained on.",
            ),
        ],
        answer=0,
    ),
    choice(
        "recipes-weights-only",
        "Why load checkpoints with torch.load(path, weights_only=True)?",
        [
            (
                "It lets a checkpoint saved on a GPU load on a CPU-only machine",
                "That is map_location's job (map_location=\"cpu\"); weights_only is about "
                "safety.",
            ),
            (
                "A full pickle can run arbitrary code when loaded",
                "With weights_only, torch.load "
                "accepts only tensors and plain containers, so a crafted file cannot run code.",
            ),
            (
                "Otherwise the optimizer state is lost",
                "weights_only loads any state dict "
                "made of tensors and numbers, optimizer state included.",
            ),
        ],
        answer=1,
    ),
]


FINAL_RECIPES = [
    number(
        "eval-in-loop",
        "The Boyu course page's train_ch5 evaluates the whole test set inside the batch loop. With "
        "60,000 training images and batch_size = 256, how many test evaluations per epoch?",
        235,
        "One per batch: ⌈60,000 / 256⌉ = 235 instead of 1, and most of the epoch's time "
        "goes into evaluation.",
        "How many batches does one epoch have? Do not forget the last, smaller one.",
        topic="recipes and pitfalls",
    ),
    choice(
        "accuracy-average",
        "Learn PyTorch (14) divides the number of correct test predictions by batches × batch_size "
        "(157 × 64 = 10,048). What should it divide by?",
        [
            ("The number of batches", "That gives correct predictions per batch, not a rate."),
            (
                "batches × batch_size is right",
                "The last batch holds only 16 images, so "
                "10,048 counts 48 images that do not exist and understates accuracy.",
            ),
            (
                "The number of test images, 10,000",
                "Accuracy is per sample: total correct over total images.",
            ),
        ],
        answer=2,
        topic="recipes and pitfalls",
    ),
    choice(
        "test-shuffle",
        "The test loader gets shuffle=True (10,000 images, batches of 64, so the last batch "
        "holds 16). Which way of computing the test accuracy can change with the order?",
        [
            (
                "Total correct / 10,000 (per-sample accuracy)",
                "A sum over all images does not depend on their order: this one stays the same.",
            ),
            (
                "The mean of the 157 per-batch accuracies",
                "Yes: the last batch's 16 images weigh as much as a full batch of 64, and "
                "which images land there depends on the order.",
            ),
            (
                "None of them: the whole test set is used either way",
                "True for sums over all images, not for an average of per-batch rates whose "
                "batches differ in size.",
            ),
            (
                "All of them: shuffling makes every estimate unbiased",
                "Shuffling the test set removes no bias; per-sample accuracy does not move at "
                "all.",
            ),
        ],
        answer=1,
        topic="recipes and pitfalls",
    ),
]
