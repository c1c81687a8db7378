"""Training images/s of the fast LeNet5 vs the per-map/per-channel reference, same weights.

Run: .venv/bin/python benchmarks/lenet5_step.py [--steps N] [--repeats R]
"""

import statistics

import torch

from lenet_nb import cli
from lenet_nb.lenet5 import LeNet5
from lenet_nb.lessons.lenet5_reference import images_per_s, reference_from
from lenet_nb.train import use_channels_last


def main():
    """Alternate fast and reference measurements at batch 32 and 256; print the median ratio."""
    parser = cli.parser("benchmarks/lenet5_step.py", __doc__)
    parser.add_argument("--steps", type=cli.whole_number(1), default=None,
                        help="steps per measurement")
    parser.add_argument("--repeats", type=cli.whole_number(1), default=3,
                        help="alternating measurements; a shared machine is noisy")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; fast = LeNet5 with "
          f"channels-last weights, as fit trains it; reference = the better of its two layouts")
    print(f"{'batch':>6}{'fast img/s':>12}{'reference img/s':>17}{'ratio':>8}")
    for batch_size in (32, 256):
        steps = args.steps or (200 if batch_size == 32 else 40)
        ratios = []
        for _ in range(args.repeats):
            torch.manual_seed(0)
            net = LeNet5()
            ref = reference_from(net)
            fast = images_per_s(use_channels_last(net), batch_size, steps)
            # the per-map reference gains nothing from channels-last; give it its best layout
            slow = max(images_per_s(ref, batch_size, steps),
                       images_per_s(use_channels_last(ref), batch_size, steps))
            ratios.append(fast / slow)
            print(f"{batch_size:>6}{fast:>12,.0f}{slow:>17,.0f}{fast / slow:>7.1f}x")
        print(f"{batch_size:>6} median ratio over {args.repeats}: {statistics.median(ratios):.1f}x")


if __name__ == "__main__":
    main()
