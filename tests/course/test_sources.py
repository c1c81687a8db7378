"""The sources table: every source named once, its reported figures, valid markdown."""

import pytest

from lenet_nb.course import sources


def test_table_has_one_row_per_source_and_the_headline_figures():
    table = sources.sources_table()
    lines = table.splitlines()
    assert lines[0] == "| source | short name | setup | reported |"
    assert len(lines) == 2 + len(sources.SOURCES)
    assert all(line.count(" | ") == 3 for line in lines[2:])
    for figure in ("0.8645", "0.8707", "0.343", "0.874", "0.9792", "0.804", "0.779", "0.823",
                   "0.469", "0.95 %", "60,000", "340,908"):
        assert figure in table


def test_short_names_are_the_ones_the_chapters_use():
    assert [s.short for s in sources.SOURCES[:5]] == [
        "the d2l page", "Learn PyTorch (14)", "the MNIST intro", "Boyu", "the 2020 reproduction"]
    assert sources.by_short_name("Boyu").reported.startswith("test acc 0.804")
    with pytest.raises(KeyError, match="the short names are"):
        sources.by_short_name("seed 003")


def test_pipes_in_a_cell_are_escaped():
    table = sources.sources_table([sources.Source("a|b", "ab", "s", "r")])
    assert table.splitlines()[2] == "| a\\|b | ab | s | r |"


def test_the_papers_layer_connections_add_up_to_its_total():
    # C1 + S2 + C3 + S4 + C5 + F6 + output, as the paper lists them
    assert 122_304 + 5_880 + 151_600 + 2_000 + 48_120 + 10_164 + 840 == 340_908
    assert 156 + 12 + 1_516 + 32 + 48_120 + 10_164 == 60_000
