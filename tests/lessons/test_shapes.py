import matplotlib

matplotlib.use("Agg")


import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from lenet_nb.lessons import (
    shapes,  # noqa: E402
)
from lenet_nb.models import LeNet, count_parameters, get_model  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def d2l_net():
    return get_model("d2l")


def variant(in_size=28, padding=2, kernel_size=5, pooling="avg"):
    return LeNet(pooling=pooling, padding=padding, in_size=in_size, kernel_size=kernel_size)


def test_formula_check_matches_pytorch_on_a_grid_of_single_layers():
    for n in range(2, 12):
        for k in range(1, 6):
            for p in range(0, k // 2 + 1):  # PyTorch pooling allows padding <= k/2
                for s in (1, 2, 3):
                    if n + 2 * p < k:
                        continue
                    for layer in (nn.Conv2d(1, 1, k, stride=s, padding=p),
                                  nn.MaxPool2d(k, stride=s, padding=p),
                                  nn.AvgPool2d(k, stride=s, padding=p)):
                        [row] = shapes.formula_check(nn.Sequential(layer), torch.zeros(1, 1, n, n))
                        assert (row["n"], row["k"], row["p"], row["s"]) == (n, k, p, s)
                        assert row["formula"] == row["torch"]


def test_formula_floors_negative_numerators_in_the_plan():
    # S4 on a 1×1 map: (1 - 2) / 2 = -0.5 floors to -1, so the side is 0, not 1 as truncation gives
    with pytest.raises(shapes.ShapeCollapseError, match=r"floor\(\(1 \+ 2·0 − 2\) / 2\) \+ 1 = 0"):
        shapes.lenet_plan(kernel_size=11)


@pytest.mark.parametrize("kw", [{"in_size": 0}, {"kernel_size": 0}, {"padding": -1},
                                {"in_size": 28.0}])
def test_plan_rejects_bad_arguments(kw):
    with pytest.raises(ValueError, match="must be an integer"):
        shapes.lenet_plan(**kw)


def test_shape_table_is_the_seed_table():
    rows = shapes.shape_table(d2l_net(), torch.rand(1, 1, 28, 28))
    assert rows == [
        ("Conv2d", (1, 6, 28, 28)), ("Sigmoid", (1, 6, 28, 28)), ("AvgPool2d", (1, 6, 14, 14)),
        ("Conv2d", (1, 16, 10, 10)), ("Sigmoid", (1, 16, 10, 10)), ("AvgPool2d", (1, 16, 5, 5)),
        ("Flatten", (1, 400)), ("Linear", (1, 120)), ("Sigmoid", (1, 120)),
        ("Linear", (1, 84)), ("Sigmoid", (1, 84)), ("Linear", (1, 10))]


def test_shape_table_equals_layer_by_layer_loop_and_removes_hooks():
    net, X = d2l_net(), torch.rand(3, 1, 28, 28)
    expected = []
    for layer in net:
        X = layer(X)
        expected.append((type(layer).__name__, tuple(X.shape)))
    assert shapes.shape_table(net, torch.rand(3, 1, 28, 28)) == expected
    assert all(not m._forward_hooks for m in net.modules())


def test_shape_table_walks_nested_modules():
    net = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), nn.Flatten())
    rows = shapes.shape_table(net, torch.rand(1, 1, 5, 5))
    assert rows == [("Conv2d", (1, 2, 3, 3)), ("ReLU", (1, 2, 3, 3)), ("Flatten", (1, 18))]


def test_format_shape_table_lines():
    text = shapes.format_shape_table([("Conv2d", (1, 6, 28, 28)), ("Linear", (1, 10))])
    assert text.splitlines() == ["Conv2d  output shape: [1, 6, 28, 28]",
                                 "Linear  output shape: [1, 10]"]


def test_compare_shape_tables_columns_and_length_check():
    a = [("Conv2d", (1, 6, 28, 28)), ("Flatten", (1, 400))]
    b = [("Conv2d", (1, 6, 24, 24)), ("Flatten", (1, 256))]
    lines = shapes.compare_shape_tables({"a": a, "b": b}).splitlines()
    assert lines[0].split() == ["layer", "a", "b"]
    assert "[1, 6, 28, 28]" in lines[1] and "[1, 6, 24, 24]" in lines[1]
    with pytest.raises(ValueError, match="different numbers of layers"):
        shapes.compare_shape_tables({"a": a, "b": b[:1]})


@pytest.mark.parametrize("pooling", ["avg", "max"])
@pytest.mark.parametrize("in_size,padding,kernel_size", [(28, 2, 5), (28, 0, 5), (32, 0, 5),
                                                         (40, 1, 3), (28, 2, 9)])
def test_formula_agrees_with_pytorch(in_size, padding, kernel_size, pooling):
    net = variant(in_size, padding, kernel_size, pooling)
    rows = shapes.formula_check(net, torch.rand(2, 1, in_size, in_size))
    assert len(rows) == 4
    assert all(r["formula"] == r["torch"] for r in rows)
    assert rows[0]["n"] == in_size and rows[0]["p"] == padding and rows[0]["k"] == kernel_size


def test_format_formula_check_marks_mismatch():
    row = {"layer": "Conv2d", "n": 28, "k": 5, "p": 2, "s": 1, "formula": 28, "torch": 27}
    text = shapes.format_formula_check([row])
    assert "floor((28 + 2*2 - 5) / 1) + 1 = 28" in text and text.endswith("MISMATCH")


def test_layer_geometry_rejects_other_layers():
    with pytest.raises(TypeError, match="expected Conv2d"):
        shapes.layer_geometry(nn.Linear(2, 2))


def test_param_rows_match_numel_and_d2l_totals():
    net = d2l_net()
    rows = shapes.param_rows(net, (1, 1, 28, 28))
    leaves = [m for _, m in shapes.leaf_layers(net)]
    assert [n for _, _, n in rows] == [sum(p.numel() for p in m.parameters()) for m in leaves]
    assert sum(n for _, _, n in rows) == 61_706
    assert shapes.params_by_kind(rows) == {"Conv2d": 2_572, "Linear": 59_134}
    text = shapes.format_param_rows(rows)
    assert "48,120" in text and "78.0 %" in text
    assert text.splitlines()[-1].split() == ["total", "61,706"]


@pytest.mark.parametrize("pooling", ["avg", "max"])
@pytest.mark.parametrize("in_size,padding,kernel_size", [(28, 2, 5), (32, 0, 5), (20, 3, 7)])
def test_plan_equals_the_built_network(in_size, padding, kernel_size, pooling):
    plan = shapes.lenet_plan(in_size, padding, kernel_size, pooling)
    net = variant(in_size, padding, kernel_size, pooling)
    actual = [shape for kind, shape in shapes.shape_table(net, torch.rand(1, 1, in_size, in_size))
              if kind != "Sigmoid"]
    assert [shape for _, shape in plan] == actual
    assert net(torch.rand(1, 1, in_size, in_size)).shape == (1, 10)


def test_plan_names_follow_the_paper():
    names = [n for n, _ in shapes.lenet_plan()]
    assert names == ["C1", "S2", "C3", "S4", "flatten", "C5", "F6", "output"]


@pytest.mark.parametrize("kw,layer,size", [({"kernel_size": 11}, "S4", "1×1"),
                                           ({"kernel_size": 13}, "C3", "10×10"),
                                           ({"in_size": 11}, "S4", "1×1"),
                                           ({"in_size": 3, "padding": 0}, "C1", "3×3")])
def test_collapse_is_explained_and_pytorch_agrees_it_fails(kw, layer, size):
    with pytest.raises(shapes.ShapeCollapseError) as err:
        shapes.lenet_plan(**kw)
    message = str(err.value)
    assert f"the {size} feature map reaching {layer} is too small" in message
    assert "try a larger input" in message
    assert shapes.shape_report(**kw) == (False, "", message)
    # the straightforward reference: PyTorch itself refuses to run such a network
    full = {"in_size": 28, "padding": 2, "kernel_size": 5, **kw}
    n = full["in_size"]
    layers = [nn.Conv2d(1, 6, full["kernel_size"], padding=full["padding"]), nn.AvgPool2d(2, 2),
              nn.Conv2d(6, 16, full["kernel_size"]), nn.AvgPool2d(2, 2)]
    with pytest.raises(RuntimeError):
        nn.Sequential(*layers)(torch.rand(1, 1, n, n))


def test_plan_rejects_unknown_pooling():
    with pytest.raises(ValueError, match=r"pooling must be one of \['avg', 'max'\]"):
        shapes.lenet_plan(pooling="min")


def test_shape_report_counts_parameters():
    ok, table, message = shapes.shape_report()
    assert ok and message == "This network fits: 61,706 parameters."
    assert table.splitlines()[0].split() == ["C1", "[1,", "6,", "28,", "28]"]
    message = shapes.shape_report(in_size=32, padding=0, pooling="max")[2]
    assert message.endswith(" 61,706 parameters.")
    # no padding on 28×28 leaves 16×4×4 = 256 features: 256*120 + 120 replaces 400*120 + 120
    ok, table, message = shapes.shape_report(padding=0, pooling="max")
    assert ok and f"{61_706 - 144 * 120:,} parameters" in message and "[1, 256]" in table


def test_spatial_trend_and_plot():
    rows = [("input", (1, 1, 28, 28))] + shapes.shape_table(d2l_net(), torch.rand(1, 1, 28, 28))
    labels, sides, channels = shapes.spatial_trend(rows)
    assert labels == ["input", "Conv2d", "AvgPool2d", "Conv2d", "AvgPool2d"]
    assert sides == [28, 28, 14, 10, 5] and channels == [1, 6, 6, 16, 16]
    ax = shapes.plot_shape_trend(rows)
    assert len(ax.patches) == 5 and ax.patches[2].get_height() == 196


def test_the_three_chapter_variants():
    tables = {"d2l": shapes.shape_table(get_model("d2l"), torch.rand(1, 1, 28, 28)),
              "learn14": shapes.shape_table(get_model("learn14"), torch.rand(64, 1, 28, 28)),
              "paper": shapes.shape_table(get_model("d2l", padding=0, in_size=32),
                                          torch.rand(1, 1, 32, 32))}
    assert tables["learn14"][5] == ("MaxPool2d", (64, 16, 4, 4))
    assert tables["learn14"][6] == ("Flatten", (64, 256))
    assert [s for _, s in tables["paper"]] == [s for _, s in tables["d2l"]]
    lines = shapes.compare_shape_tables(tables).splitlines()
    assert lines[3].startswith("AvgPool2d / MaxPool2d")


# --- careless and hostile inputs ------------------------------------------------------------


def test_item16_empty_shape_tables_are_clear_errors():
    with pytest.raises(ValueError, match="at least one"):
        shapes.format_shape_table([])
    with pytest.raises(ValueError, match="4-D outputs"):
        shapes.plot_shape_trend([])
    with pytest.raises(ValueError, match="4-D outputs"):
        shapes.plot_shape_trend([("Linear", (1, 10))])


def test_the_challenge_solution_stays_under_a_quarter_of_the_multiply_adds():
    from lenet_nb.lessons.anatomy import count_macs

    net = shapes.frugal_cnn()
    macs, _ = count_macs(net, torch.zeros(1, 1, 28, 28))
    assert macs == 8 * 14 * 14 * 16 + 16 * 7 * 7 * 72 + 144 * 10 == 82_976
    assert macs * 4 < count_macs(LeNet(), torch.zeros(1, 1, 28, 28))[0]
    assert count_parameters(net) == 2_754
