"""A chapter's form: its size and its heading levels, on tiny notebooks and on every chapter."""

from pathlib import Path

import nbformat
import pytest

from lenet_nb.course import chapter_form

ROOT = Path(__file__).resolve().parents[2]


def test_a_heading_two_levels_below_the_last_is_named(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Chapter\n\n## 1. A section"),
                nbformat.v4.new_code_cell("# #### a comment, not a heading"),
                nbformat.v4.new_markdown_cell("```\n#### fenced, not a heading\n```\n"
                                              "#### Exercise 1.1 (predict, then run): x"),
                nbformat.v4.new_markdown_cell("### 1.1 A subsection\n\n#### Fine here\n\n"
                                              "## 2. Back up two levels is fine")]
    nbformat.write(nb, tmp_path / "c.ipynb")
    (problem,) = chapter_form.heading_jumps(tmp_path / "c.ipynb")
    assert "cell 2: heading '#### Exercise 1.1" in problem
    assert "level 4 right after a level-2 heading: make it ###" in problem


def test_chapter_size_counts_code_cells_and_prose_words_only(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(
                    "## 1. Two words\n\n```\nnot prose at all\n```\n$$x + y$$ <br/> – 3.07 GB"),
                nbformat.v4.new_code_cell("print(1)"), nbformat.v4.new_code_cell("x = 2"),
                nbformat.v4.new_markdown_cell("<details><summary>one</summary>\n\ntwo\n\n</details>")]
    nbformat.write(nb, tmp_path / "c.ipynb")
    # "1.", "Two", "words", "3.07", "GB"; then "one", "two" (the dash and the tags are not words)
    assert chapter_form.chapter_size(tmp_path / "c.ipynb") == (2, 7)


CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_chapter_keeps_to_the_size_limit(name):
    # issue 18: at most 40 code cells and 3,500 words of prose per chapter
    code, words = chapter_form.chapter_size(ROOT / "notebooks" / f"{name}.ipynb")
    assert code <= chapter_form.MAX_CODE_CELLS, (name, code)
    assert words <= chapter_form.MAX_WORDS, (name, words)


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_chapter_goes_down_its_headings_one_level_at_a_time(name):
    assert chapter_form.heading_jumps(ROOT / "notebooks" / f"{name}.ipynb") == []
