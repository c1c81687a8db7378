"""Training images/s of the fast LeNet5 vs the per-map/per-channel reference, same weights.

Fast and reference are measured alternately, `--repeats` times per batch size, in one process;
each pair gives a ratio. The verdict line says whether the fast model was faster in every pair:
on a shared machine single measurements scatter, so a claim needs all of them (chapter 5 makes
none from its own timings).
Run: .venv/bin/python benchmarks/lenet5_step.py [--steps N] [--repeats R]
"""

import os
import statistics

import torch

from lenet_nb import cli
from lenet_nb.lenet5 import LeNet5
from lenet_nb.lessons.lenet5_reference import images_per_s, reference_from
from lenet_nb.train import use_channels_last


def main():
    """Alternate fast and reference measurements at batch 32, 128 and 256; print the ratios."""
    parser = cli.parser("benchmarks/lenet5_step.py", __doc__)
    parser.add_argument("--steps", type=cli.whole_number(1), default=None,
                        help="steps per measurement")
    parser.add_argument("--repeats", type=cli.whole_number(1), default=5,
                        help="alternating measurements per batch size; a shared machine is noisy")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}, load average {os.getloadavg()[0]:.2f}; "
          f"fast = LeNet5 with channels-last weights, as fit trains it; reference = the "
          f"better of its two layouts")
    print(f"{'batch':>6}{'fast img/s':>12}{'reference img/s':>17}{'ratio':>8}")
    for batch_size in (32, 128, 256):
        steps = args.steps or {32: 200, 128: 60, 256: 40}[batch_size]
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
            print(f"{batch_size:>6}{fast:>12,.0f}{slow:>17,.0f}{fast / slow:>7.2f}x")
        every = "yes" if min(ratios) > 1 else "no"
        print(f"{batch_size:>6} ratios {min(ratios):.2f}-{max(ratios):.2f}x, median "
              f"{statistics.median(ratios):.2f}x; fast model faster in all {args.repeats}: "
              f"{every}")


if __name__ == "__main__":
    main()
