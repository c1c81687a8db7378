"""lenet_nb.lessons.draw: MNIST-style preprocessing of drawings, the trained-weights cache,
readings."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from lenet_nb import data, train
from lenet_nb.lenet5 import LeNet5
from lenet_nb.lessons import draw
from lenet_nb.models import get_model
from lenet_nb.train import TrainingInterrupted, evaluate_accuracy, save_checkpoint


def canvas(size=280):
    """A white grey-level canvas (uint8), as a photo of paper would be."""
    return np.full((size, size), 255, dtype=np.uint8)


def ink_box(X):
    """(top, left, bottom, right) of the ink in [1, 1, H, W] (bottom/right exclusive)."""
    rows, cols = (X[0, 0] > 0).any(1).nonzero(), (X[0, 0] > 0).any(0).nonzero()
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def test_bounding_box_is_the_ink_above_the_level_ends_exclusive():
    ink = np.zeros((6, 9), np.float32)
    ink[1, 2], ink[3, 6], ink[5, 8] = 1.0, 0.5, 0.05  # the last one is fainter than the level
    assert draw.bounding_box(ink) == (1, 2, 4, 7)
    assert draw.bounding_box(ink, level=0.01) == (1, 2, 6, 9)
    with pytest.raises(draw.EmptyDrawing, match="no pixel has ink above 0.1"):
        draw.bounding_box(np.zeros((4, 4)))


@pytest.mark.parametrize("ink", [np.full((10, 10), 255.0), np.full((10, 10), -0.5),
                                 np.full((10, 10), np.nan), np.ones((2, 10, 10))])
def test_center_digit_takes_only_ink_and_points_at_preprocess(ink):
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*use preprocess\(picture\)"):
        draw.center_digit(ink)


def test_a_drawn_square_lands_centred_and_fills_20_pixels():
    image = canvas()
    image[30:130, 150:250] = 0  # a filled square in the top-right corner
    X = draw.preprocess(image)
    assert X.shape == (1, 1, 28, 28) and X.dtype == torch.float32
    assert float(X.min()) >= 0 and float(X.max()) == 1.0
    assert ink_box(X) == (5, 5, 25, 25)  # 20 x 20, its centre of mass half a pixel off 14
    assert draw.centre_of_mass(X) == pytest.approx((14.5, 14.5), abs=1e-4)


def test_a_drawn_vertical_line_lands_centred_with_its_aspect_ratio():
    image = canvas()
    image[40:240, 60:80] = 0  # 200 tall, 20 wide: becomes 20 x 2
    X = draw.preprocess(image)
    top, left, bottom, right = ink_box(X)
    assert (bottom - top, right - left) == (20, 2)
    assert draw.centre_of_mass(X) == pytest.approx((draw.CENTRE, draw.CENTRE), abs=0.501)


def test_aspect_ratio_is_kept_for_a_wide_shape():
    image = canvas()
    image[100:160, 20:260] = 0  # 60 tall, 240 wide -> 5 tall, 20 wide
    top, left, bottom, right = ink_box(draw.preprocess(image))
    assert (bottom - top, right - left) == (5, 20)


def test_rgba_and_grey_versions_of_one_drawing_give_the_same_input():
    grey = canvas()
    grey[50:230, 120:140] = 0
    grey[50:70, 90:140] = 0
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., 3] = 255 - grey  # black ink where the grey image is dark, transparent elsewhere
    assert torch.equal(draw.preprocess(grey), draw.preprocess(rgba))


def test_a_uniform_paper_background_is_removed():
    image = np.full((280, 280), 200, dtype=np.uint8)  # grey paper
    image[40:240, 60:80] = 0
    white = canvas()
    white[40:240, 60:80] = 0
    assert torch.allclose(draw.preprocess(image), draw.preprocess(white), atol=1e-6)


@pytest.mark.parametrize("image", [np.full((280, 280), 255, np.uint8),
                                   np.zeros((280, 280, 4), np.uint8),
                                   np.full((50, 50), 230, np.uint8)])
def test_an_empty_image_raises_a_clear_error(image):
    with pytest.raises(draw.EmptyDrawing, match="empty .*draw a digit"):
        draw.preprocess(image)


def test_recipes_quick_mode_and_names(monkeypatch):
    monkeypatch.setenv("LENET_NB_QUICK", "1")
    assert draw.recipe("lenet5")["num_epochs"] == 1 and draw.recipe("d2l")["subset"] == (2000, 500)
    assert draw.checkpoint_dir() != data.REPO_ROOT / "checkpoints" / "draw"
    monkeypatch.setenv("LENET_NB_QUICK", "0")
    assert draw.recipe("lenet5")["num_epochs"] == draw.RECIPES["lenet5"]["num_epochs"]
    assert draw.checkpoint_dir() == data.REPO_ROOT / "checkpoints" / "draw"
    with pytest.raises(ValueError, match="unknown network 'vgg'"):
        draw.recipe("vgg")
    assert draw.input_pad("lenet5-distorted") == 2 and draw.input_pad("mlp") == 0
    assert set(draw.NAMES) == set(draw.RECIPES)


def test_build_net_is_seeded_and_of_the_right_kind():
    a, b = draw.build_net("d2l", seed=3), draw.build_net("d2l", seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert isinstance(draw.build_net("lenet5-distorted"), LeNet5)


def test_trained_trains_once_then_loads_and_retrains_a_stale_file(tmp_path, tiny_root,
                                                                 monkeypatch):
    monkeypatch.setenv("LENET_NB_DATA", str(tiny_root))
    monkeypatch.setitem(draw.RECIPES, "mlp", {**draw.RECIPES["mlp"], "num_epochs": 1})
    whole_tiny_split = draw.recipe  # the quick subset (2,000 images) is more than 50
    monkeypatch.setattr(draw, "recipe", lambda name: {**whole_tiny_split(name), "subset": None})
    net, info = draw.trained("mlp", directory=tmp_path, progress=False)
    assert info["source"] == "trained" and (tmp_path / "mlp-seed0.pt").is_file()
    again, info2 = draw.trained("mlp", directory=tmp_path)
    assert info2["source"] == "checkpoint" and info2["test_acc"] == info["test_acc"]
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), again.parameters()))
    # a checkpoint of another recipe (or another network) is not trusted: train again
    save_checkpoint(draw.build_net("mlp", seed=0), tmp_path / "mlp-seed0.pt", recipe={"old": 1})
    assert draw.trained("mlp", directory=tmp_path)[1]["source"] == "trained"
    save_checkpoint(draw.build_net("d2l"), tmp_path / "mlp-seed0.pt", recipe=draw.recipe("mlp"))
    assert draw.trained("mlp", directory=tmp_path)[1]["source"] == "trained"


@pytest.mark.parametrize("k", [1, 2])
def test_an_interrupted_training_is_never_cached_as_trained(tmp_path, tiny_root, monkeypatch,
                                                            ctrl_c_in_epoch, k):
    """Issue 19 item 2: a Ctrl-C in epoch 2 cached the half-trained net as trained (in epoch 1:
    IndexError)."""
    monkeypatch.setenv("LENET_NB_DATA", str(tiny_root))
    two_epochs = draw.recipe  # on the whole tiny split (the quick subset is more than 50)
    monkeypatch.setattr(draw, "recipe", lambda name: {**two_epochs(name), "num_epochs": 2,
                                                      "subset": None})
    real_epoch = train._train_epoch
    ctrl_c_in_epoch(k)
    cache = tmp_path / "checkpoints"
    with pytest.raises(TrainingInterrupted) as stop:
        draw.trained("mlp", directory=cache, progress=False)
    assert len(stop.value.history) == k - 1 and not cache.exists()
    monkeypatch.setattr(train, "_train_epoch", real_epoch)
    assert draw.trained("mlp", directory=cache, progress=False)[1]["source"] == "trained"


def test_a_tilde_directory_is_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    save_checkpoint(draw.build_net("mlp"), tmp_path / "ck" / "mlp-seed0.pt",
                    recipe=draw.recipe("mlp"))
    assert draw.trained("mlp", directory="~/ck")[1]["source"] == "checkpoint"
    assert not (tmp_path / "~").exists()


def test_a_seed_given_as_text_is_refused_before_training(tmp_path):
    with pytest.raises(ValueError, match="seed must be an integer >= 0, got the text '0'"):
        draw.trained("mlp", seed="0", directory=tmp_path)


def test_read_runs_both_networks_on_the_preprocessed_drawing():
    torch.manual_seed(0)
    lenet5, d2l = LeNet5().eval(), get_model("d2l").eval()
    image = canvas()
    image[40:240, 130:150] = 0
    r = draw.read(image, lenet5, d2l)
    X = draw.preprocess(image)
    assert torch.equal(r.X, X)
    with torch.no_grad():
        assert torch.allclose(r.distances, lenet5(F.pad(X, (2, 2, 2, 2)))[0])
        assert torch.allclose(r.probs, d2l(X).softmax(1)[0])
    assert r.maps["C1"].shape == (6, 28, 28) and r.maps["C3"].shape == (16, 10, 10)
    assert r.lenet5_digit == int(r.distances.argmin())
    assert [d for d, _ in r.top3] == r.probs.topk(3).indices.tolist()
    assert r.summary().startswith(f"LeNet-5 reads {r.lenet5_digit} (RBF distance")
    assert torch.equal(draw.read(draw.read_image(image).ink, lenet5, d2l, ink=True).X, X)


def test_readers_swapped_or_of_the_wrong_kind_are_named():  # H37
    torch.manual_seed(0)
    lenet5, d2l = LeNet5().eval(), get_model("d2l").eval()
    image = canvas()
    image[40:240, 130:150] = 0
    with pytest.raises(TypeError, match=r"swapped: call read\(image, lenet5, d2l\)"):
        draw.read(image, d2l, lenet5)
    with pytest.raises(TypeError, match="lenet5 must be a LeNet5.*got LeNet"):
        draw.read(image, get_model("d2l"), d2l)
    with pytest.raises(TypeError, match="d2l must be a network.*got str"):
        draw.read(image, lenet5, "d2l")


# ---- enlarged MNIST digits, as a learner would draw them, read about as well as the originals


@pytest.fixture(scope="session")
def small_net():
    """A seeded ReLU LeNet trained for one epoch on 12,000 MNIST images (cached per session)."""
    if data.problems("MNIST"):
        pytest.skip("MNIST is not on disk: run `make data`")
    train_iter, _ = data.load_data_mnist(64, subset=(12000, 1), seed=0)
    torch.manual_seed(0)
    net = get_model("d2l", activation="relu", pooling="max")
    optimizer = torch.optim.Adam(net.parameters(), 3e-3)
    for X, y in train_iter:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(X), y).backward()
        optimizer.step()
    return net.eval()


def test_enlarge_draws_a_digit_big_dark_on_white_and_preprocess_undoes_it():
    x = torch.zeros(28, 28)
    x[4:24, 13:15] = 1.0  # a "1": 20 x 2 pixels, centred
    image = draw.enlarge(x, torch.Generator().manual_seed(0))
    assert image.shape == (280, 280) and image.dtype == np.uint8
    assert image.max() == 255 and image.min() == 0 and (image < 128).mean() < 0.1
    back, direct = draw.preprocess(image), draw.center_digit(x)
    assert draw.centre_of_mass(back) == pytest.approx(draw.centre_of_mass(direct), abs=0.6)
    assert (back - direct).abs().mean() < 0.05


def test_enlarged_test_digits_keep_the_accuracy_within_1_5_points(small_net):
    X, y = data.load_split("MNIST", train=False)
    X, y = data.to_float(X[:2000]), y[:2000]
    g = torch.Generator().manual_seed(0)
    drawn = torch.cat([draw.preprocess(draw.enlarge(x, g)) for x in X])
    original = evaluate_accuracy(small_net, data.TensorBatches(X, y, 500), device="cpu")
    redrawn = evaluate_accuracy(small_net, data.TensorBatches(drawn, y, 500), device="cpu")
    assert original > 0.9
    assert abs(redrawn - original) <= 0.015, (original, redrawn)


def test_one_thread_changes_nothing_off_the_main_thread():
    """A widget callback on a kernel subshell must not put the learner's cell on one thread."""
    import threading

    seen = []

    def callback():
        with draw.one_thread():
            seen.append(torch.get_num_threads())

    before = torch.get_num_threads()
    worker = threading.Thread(target=callback)
    worker.start()
    worker.join()
    assert seen == [before] and torch.get_num_threads() == before


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with draw.one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), draw.one_thread():
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before


def test_the_robustness_experiment_trains_by_the_recipe_and_measures_shifts(monkeypatch,
                                                                             tiny_root):
    from lenet_nb.course import experiments as cx

    assert cx.registry()["draw_robustness"] is draw.ROBUSTNESS
    specs = draw.ROBUSTNESS.specs()
    assert len(specs) == 12 and {s["network"] for s in specs} == set(draw.RECIPES)
    monkeypatch.setenv("LENET_NB_DATA", str(tiny_root))
    monkeypatch.setenv("LENET_NB_QUICK", "0")
    trained_here = []

    def fake_train(name, seed=0, progress=None):
        trained_here.append((name, seed))
        return draw.build_net(name, seed).eval(), [{"test_acc": 0.5}]

    monkeypatch.setattr(draw, "train_net", fake_train)
    row = draw.robustness_run(draw.ROBUSTNESS.config, {"network": "lenet5", "seed": 2})
    assert trained_here == [("lenet5", 2)] and row["test_acc"] == 0.5
    assert len(row["shift"]) == 7 and len(row["rotate"]) == 4
    assert all(0 <= a <= 1 for a in row["shift"] + row["rotate"])
    assert not list(tiny_root.parent.rglob("lenet5-seed2.pt"))  # seeds 1, 2: results only
    # seed 0 is the chapter's reader: saved where `trained` looks, which then loads it
    monkeypatch.setattr(draw, "checkpoint_dir", lambda: tiny_root / "readers")
    draw.robustness_run(draw.ROBUSTNESS.config, {"network": "d2l", "seed": 0})
    net, info = draw.trained("d2l")
    assert info["source"] == "checkpoint" and info["test_acc"] == 0.5
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(),
                                                  draw.build_net("d2l", 0).state_dict().values()))
    assert trained_here[-1] == ("d2l", 0)  # trained once, by the experiment
    # a recipe changed since the results were made: refused, not stored under the old hash
    monkeypatch.setitem(draw.RECIPES, "lenet5", {**draw.RECIPES["lenet5"], "lr": 0.1})
    with pytest.raises(ValueError, match="bump the experiment's revision"):
        draw.robustness_run(draw.ROBUSTNESS.config, {"network": "lenet5", "seed": 0})


def test_the_challenge_solution_trains_the_relu_lenet_on_moved_digits():
    from lenet_nb.models import count_parameters

    torch.manual_seed(0)
    X = torch.zeros(64, 1, 28, 28)
    X[::2, 0, 6:22, 12:15] = 1.0  # "ones" ...
    X[1::2, 0, 12:15, 6:22] = 1.0  # ... and bars
    y = torch.arange(64) % 2
    torch.manual_seed(0)
    net = draw.shift_challenge_train(X, y, seconds=10, num_epochs=10, batch_size=16)
    assert count_parameters(net) == 61_706 and not net.training
    torch.manual_seed(0)
    again = draw.shift_challenge_train(X, y, seconds=10, num_epochs=10, batch_size=16)
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), again.parameters()))
    with torch.no_grad():
        moved = explain_shift(X, 3)
        assert float((net(moved).argmax(1) == y).float().mean()) > 0.9


def explain_shift(X, pixels):
    from lenet_nb.lessons.explain import shift

    return shift(X, pixels, -pixels)
