"""Reading notebooks: a cut, binary or foreign file is named with its fix, in one line."""

import nbformat
import pytest

from lenet_nb.course.notebooks import NotebookError, read_notebook


def _notebook(path):
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), path)
    return path


def test_a_notebook_reads_as_nbformat_4(tmp_path):
    nb = read_notebook(_notebook(tmp_path / "a.ipynb"))
    assert nb.nbformat == 4 and nb.cells[0].source == "1"


def test_a_notebook_cut_inside_its_json_is_named_with_the_place(tmp_path):
    path = _notebook(tmp_path / "a.ipynb")
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(NotebookError, match=r"a.ipynb is not a notebook: invalid JSON at line "
                                            r"\d+, column \d+ \(cut off\?\).*git checkout"):
        read_notebook(path)


@pytest.mark.parametrize(("content", "match"), [
    (b"\xff\xfe\x00binary", "is not UTF-8 text"),
    (b'{"cells": 3}', "JSON but not a notebook nbformat can read"),
    (b"", "invalid JSON at line 1, column 1"),
])
def test_other_non_notebooks_are_named(tmp_path, content, match):
    path = tmp_path / "x.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotebookError, match=match) as e:
        read_notebook(path)
    assert "\n" not in str(e.value) and isinstance(e.value, ValueError)
