
import pytest
import torch
from torch import nn

from lenet_nb.data import TensorBatches
from lenet_nb.lessons import fc_limits
from lenet_nb.train import TrainingInterrupted, train_one_cycle


def test_dtype_bytes_and_bad_name():
    assert [fc_limits.dtype_bytes(d) for d in fc_limits.DTYPES] == [8, 4, 2, 2, 1]
    with pytest.raises(ValueError, match="dtype must be one of"):
        fc_limits.dtype_bytes("float")


def test_seed_example_is_3_07_gb():
    r = fc_limits.dense_vs_conv(1000, 3, 256)
    assert r["in_features"] == 3_000_000
    assert r["dense_weights"] == 3_000_000 * 256
    assert r["dense_bytes"] == (768_000_000 + 256) * 4
    assert fc_limits.format_bytes(r["dense_bytes"]) == "3.07 GB (2.86 GiB)"


@pytest.mark.parametrize("side,channels,hidden,k",
                         [(28, 1, 256, 5), (7, 3, 16, 3), (1000, 3, 256, 5)])
def test_counts_equal_pytorch_layers(side, channels, hidden, k):
    # the meta device builds the layers without allocating their memory
    dense = nn.Linear(side * side * channels, hidden, device="meta")
    conv = nn.Conv2d(channels, hidden, k, device="meta")
    r = fc_limits.dense_vs_conv(side, channels, hidden, "float16", k)
    assert r["dense_params"] == sum(p.numel() for p in dense.parameters())
    assert r["conv_params"] == sum(p.numel() for p in conv.parameters())
    assert r["dense_bytes"] == 2 * r["dense_params"] and r["conv_bytes"] == 2 * r["conv_params"]
    assert r["ratio"] == r["dense_params"] / r["conv_params"]


@pytest.mark.parametrize("kw", [{"side": 0}, {"channels": -1}, {"hidden": 2.5}, {"kernel_size": 0}])
def test_dense_vs_conv_rejects_bad_sizes(kw):
    args = {"side": 28, "channels": 1, "hidden": 8, **kw}
    with pytest.raises(ValueError, match="must be a positive integer"):
        fc_limits.dense_vs_conv(**args)


def test_format_bytes_units():
    assert fc_limits.format_bytes(999) == "999 B"
    assert fc_limits.format_bytes(1_500) == "1.50 kB"
    assert fc_limits.format_bytes(2_000_000) == "2.00 MB"
    assert fc_limits.format_bytes(2**30) == "1.07 GB (1.00 GiB)"


def test_format_dense_vs_conv_text():
    lines = fc_limits.format_dense_vs_conv(1000, 3, 256).splitlines()
    assert lines[0] == ("dense 3,000,000 -> 256: 768,000,256 parameters, "
                        "3.07 GB (2.86 GiB) in float32")
    assert lines[1] == "conv 5×5, 3 -> 256 channels: 19,456 parameters, 77.82 kB"
    assert lines[2] == "the dense layer is 39,474 times larger"


def test_growth_table_conv_column_is_constant():
    lines = fc_limits.growth_table([28, 100]).splitlines()
    assert lines[1].split() == ["28×28", "4,710", "156"]
    assert lines[2].split() == ["100×100", "60,006", "156"]


def test_flat_index_and_neighbours():
    assert fc_limits.flat_index(0, 0) == 0 and fc_limits.flat_index(1, 0) == 28
    assert fc_limits.neighbour_distances(10, 14) == {"right": (295, 1), "below": (322, 28)}
    assert fc_limits.neighbour_distances(2, 3, width=5)["below"] == (18, 5)
    X = torch.arange(28 * 28).reshape(28, 28)
    assert X.flatten()[fc_limits.flat_index(10, 14)] == X[10, 14]
    with pytest.raises(ValueError, match="0 <= col < 28"):
        fc_limits.flat_index(0, 28)


def test_permutation_is_fixed_by_seed_and_a_true_permutation():
    a, b = fc_limits.pixel_permutation(seed=0), fc_limits.pixel_permutation(seed=0)
    assert torch.equal(a, b) and not torch.equal(a, fc_limits.pixel_permutation(seed=1))
    assert torch.equal(torch.sort(a).values, torch.arange(784))


def test_permute_pixels_equals_loop_reference_and_inverts():
    X = torch.rand(3, 1, 4, 4)
    perm = fc_limits.pixel_permutation(16, seed=3)
    out = fc_limits.permute_pixels(X, perm)
    for n in range(3):
        flat = X[n, 0].flatten()
        assert torch.equal(out[n, 0].flatten(), torch.stack([flat[int(j)] for j in perm]))
    assert torch.equal(fc_limits.permute_pixels(out, torch.argsort(perm)), X)
    with pytest.raises(ValueError, match="permutation has 784 entries but images have 4×4 = 16"):
        fc_limits.permute_pixels(X, fc_limits.pixel_permutation())


def test_shift_image_equals_index_reference():
    X = torch.arange(1.0, 26.0).reshape(1, 1, 5, 5)
    for dy, dx in [(1, 2), (-2, 1), (0, -3), (0, 0)]:
        out = fc_limits.shift_image(X, dy, dx)
        for i in range(5):
            for j in range(5):
                si, sj = i - dy, j - dx
                want = X[0, 0, si, sj] if 0 <= si < 5 and 0 <= sj < 5 else 0.0
                assert out[0, 0, i, j] == want
    with pytest.raises(ValueError, match="out of view"):
        fc_limits.shift_image(X, 5, 0)


def test_feature_maps_keep_the_shape_and_match_conv2d():
    X = torch.rand(2, 1, 28, 28)
    maps = fc_limits.feature_maps(X)
    assert maps.shape == (2, 2, 28, 28)
    conv = nn.Conv2d(1, 2, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(fc_limits.edge_kernels())
        assert torch.allclose(conv(X), maps)
    with pytest.raises(ValueError, match=r"expected X of shape \[N, 1, H, W\]"):
        fc_limits.feature_maps(torch.rand(28, 28))


def test_translation_commutes_for_conv_but_not_for_a_dense_layer():
    torch.manual_seed(0)
    X = torch.rand(1, 1, 28, 28)
    assert fc_limits.shift_commutes(X, 3, -2)
    dense = nn.Linear(784, 784, bias=False)  # a random dense map does not commute with shifts
    shift_after = fc_limits.shift_image(dense(X.flatten(1)).reshape(X.shape), 3, -2)
    assert not torch.allclose(dense(fc_limits.shift_image(X, 3, -2).flatten(1)).reshape(X.shape)
                              [..., 5:-5, 5:-5], shift_after[..., 5:-5, 5:-5], atol=1e-3)


def test_plot_adjacency_marks_the_three_flat_positions():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = fc_limits.plot_adjacency(torch.rand(1, 28, 28), 10, 14)
    assert [line.get_xdata()[0] for line in ax[1].lines] == [294, 295, 322]
    assert ax[1].get_title() == "flattened: positions 290…326 of 784"
    plt.close("all")


def tiny_batches(n=96, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 1, 28, 28, generator=gen)
    y = torch.randint(0, 10, (n,), generator=gen)
    return TensorBatches(X, y, 32, shuffle=True), TensorBatches(X[:32], y[:32], 32)


def test_permuted_batches_keep_labels_and_batching():
    train_iter, _ = tiny_batches()
    perm = fc_limits.pixel_permutation()
    out = fc_limits.permuted_batches(train_iter, perm)
    assert torch.equal(out.X, fc_limits.permute_pixels(train_iter.X, perm))
    assert torch.equal(out.y, train_iter.y) and out.shuffle and len(out) == len(train_iter) == 3


def test_permutation_run_is_seeded_and_gives_a_curve():
    config = {"epochs": 2, "batch_size": 128, "lr": 0.002, "subset": (256, 64)}
    run = {"model": "LeNet", "data": "permuted", "seed": 1}
    a, b = fc_limits.permutation_run(config, run), fc_limits.permutation_run(config, run)
    assert a == b  # seeded runs give identical numbers on CPU
    assert list(a) == ["test_acc"] and len(a["test_acc"]) == 2
    assert all(0.0 <= acc <= 1.0 for acc in a["test_acc"])
    other = fc_limits.permutation_run(config, {**run, "data": "original"})
    assert other != a  # the permutation changed what LeNet learned


def test_the_permutation_experiment_lists_every_model_data_and_seed():
    specs = fc_limits.PERMUTATION.specs()
    assert len(specs) == 12
    assert {(s["model"], s["data"]) for s in specs} == {
        (m, d) for m in ("MLP", "LeNet") for d in ("original", "permuted")}


def test_an_interrupted_permutation_run_returns_no_curve(ctrl_c_in_epoch):
    ctrl_c_in_epoch(2)  # Ctrl-C during the second epoch
    config = {"epochs": 2, "batch_size": 128, "lr": 0.002, "subset": (256, 64)}
    with pytest.raises(TrainingInterrupted):
        fc_limits.permutation_run(config, {"model": "MLP", "data": "permuted", "seed": 0})


def _rows():
    """Stored rows of a made-up permutation experiment: 2 seeds, 2 epochs."""
    acc = {("MLP", "original"): [[0.85, 0.861], [0.84, 0.863]],
           ("MLP", "permuted"): [[0.85, 0.86], [0.84, 0.862]],
           ("LeNet", "original"): [[0.87, 0.885], [0.86, 0.891]],
           ("LeNet", "permuted"): [[0.80, 0.812], [0.79, 0.82]]}
    return [{"model": m, "data": d, "seed": s, "status": "finished", "run": f"{m}{d}{s}",
             "test_acc": curve} for (m, d), curves in acc.items() for s, curve in enumerate(curves)]


def test_permutation_table_shows_mean_and_range_per_cell():
    assert fc_limits.permutation_table(_rows(), epoch=2).splitlines() == [
        "          MLP                    LeNet",
        "original  0.862 (0.861–0.863)    0.888 (0.885–0.891)",
        "permuted  0.861 (0.860–0.862)    0.816 (0.812–0.820)"]
    assert "0.865 (0.860–0.870)" in fc_limits.permutation_table(_rows(), epoch=1)


def test_permutation_verdicts_compare_ranges():
    lines = fc_limits.permutation_verdicts(_rows(), epoch=2).splitlines()
    assert lines == [
        "LeNet − MLP, original images: +0.026 on average; ranges separate: yes",
        "LeNet − MLP, permuted images: -0.045 on average; ranges separate: yes",
        "MLP, permuted − original    : -0.001 on average; ranges separate: no",
        "LeNet, permuted − original  : -0.072 on average; ranges separate: yes"]


def test_the_challenge_solution_fits_the_cap_and_learns():
    gen = torch.Generator().manual_seed(0)
    X, y = torch.rand(64, 1, 28, 28, generator=gen), torch.randint(0, 10, (64,), generator=gen)
    net = fc_limits.small_cnn()
    assert sum(p.numel() for p in net.parameters()) == 7_434
    before = [p.detach().clone() for p in net.parameters()]
    torch.manual_seed(0)
    trained = train_one_cycle(net, X, y, num_epochs=1, batch_size=32)
    assert trained is net and all(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


# --- careless and hostile inputs ------------------------------------------------------------


def test_item16_flat_index_stays_inside_the_image():
    with pytest.raises(ValueError, match="0 <= row < 28"):
        fc_limits.flat_index(28, 0)
    assert fc_limits.flat_index(27, 27) == 783
    assert fc_limits.flat_index(2, 4, width=5, height=3) == 14
    with pytest.raises(ValueError, match="neighbour to its right and below"):
        fc_limits.neighbour_distances(27, 3)
