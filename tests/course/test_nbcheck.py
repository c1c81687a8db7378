"""The notebook checks: pairing with notebooks_py/, sync, output size, pointers, prose numbers."""

import base64
import json
from pathlib import Path

import jupytext
import nbformat

from lenet_nb.course import nbcheck

ROOT = Path(__file__).resolve().parents[2]


def _sources(folder):
    """The sibling folder of paired .py sources, as in the repo: notebooks/ -> notebooks_py/."""
    sources = folder.parent / f"{folder.name}_py"
    sources.mkdir(exist_ok=True)
    return sources


def _write_pair(folder, name, source="print(1)"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell(source)]
    jupytext.write(nb, folder / f"{name}.ipynb")
    jupytext.write(nb, _sources(folder) / f"{name}.py", fmt="py:percent")
    return folder / f"{name}.ipynb"


def test_paired_notebooks_pass(tmp_path):
    _write_pair(tmp_path, "01_a")
    assert nbcheck.problems(tmp_path) == []
    assert nbcheck.main([str(tmp_path)]) == 0


def test_an_empty_folder_has_no_problems_but_the_command_line_refuses_it(tmp_path, capsys):
    assert nbcheck.problems(tmp_path) == []
    assert nbcheck.main([str(tmp_path)]) == 2  # it used to print "0 problem(s)", exit 0
    assert "holds no *.ipynb files" in capsys.readouterr().err


def test_a_report_cell_that_stored_an_error_fails_the_check(tmp_path):
    path = _write_pair(tmp_path, "01_a")
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].metadata["tags"] = ["report"]
    nb.cells[1].outputs = [nbformat.v4.new_output("error", ename="NameError",
                                                  evalue="name 'x' is not defined",
                                                  traceback=[])]
    nbformat.write(nb, path)
    assert nbcheck.problems(tmp_path) == [
        f"{path} cell 1 (tagged report) stored an error, NameError: name 'x' is not defined: "
        f"re-run the chapter"]


def test_a_notebook_that_is_not_json_is_one_problem(tmp_path):
    path = _write_pair(tmp_path, "01_a")
    path.write_text(path.read_text()[:-20])
    found = nbcheck.problems(tmp_path) + nbcheck.number_problems(tmp_path)
    assert len(found) == 1 and found[0].startswith(f"{path} is not a notebook: invalid JSON")


def test_out_of_sync_and_unpaired_are_reported(tmp_path):
    _write_pair(tmp_path, "01_a")
    py = _sources(tmp_path) / "01_a.py"
    py.write_text(py.read_text().replace("print(1)", "print(2)"))
    (_sources(tmp_path) / "02_b.py").write_text("# %%\nx = 1\n")
    (tmp_path / "03_c.py").write_text("# %%\nx = 1\n")  # a source left beside the notebooks
    found = nbcheck.problems(tmp_path)
    assert any("01_a.ipynb and " in p and "_py/01_a.py differ" in p for p in found)
    assert any("02_b.py has no paired notebook" in p for p in found)
    assert any("03_c.py: the paired sources live in" in p for p in found)
    assert nbcheck.main([str(tmp_path)]) == 1


def test_internal_names_of_the_sources_are_reported(tmp_path):
    _write_pair(tmp_path, "01_a", source="# as Seed 001 does\nx = 1")
    _write_pair(tmp_path, "02_b", source="torch.manual_seed(1)  # a random seed 0017 is fine")
    found = nbcheck.problems(tmp_path)
    assert len(found) == 1 and "01_a.py:" in found[0] and "by its title" in found[0]


def test_large_outputs_are_reported(tmp_path):
    path = _write_pair(tmp_path, "01_a")
    nb = json.loads(path.read_text())
    png = base64.b64encode(b"\x89PNG" + b"\0" * 400_000).decode()
    nb["cells"][1]["outputs"] = [{"output_type": "display_data", "metadata": {},
                                  "data": {"image/png": png, "text/plain": "<Figure>"}}]
    path.write_text(json.dumps(nb))
    sizes = list(nbcheck.output_sizes(path))
    assert sizes == [(1, 400_004 + len("<Figure>"))]
    assert any("cell 1 has an output of" in p for p in nbcheck.problems(tmp_path))


# --- every prose number visible (`--numbers`) ---

def _notebook(folder, markdown, printed="", code="print(x)"):
    """A one-chapter folder: a markdown cell, then a code cell whose stdout is `printed`."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(code)
    if printed:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    nb.cells = [nbformat.v4.new_markdown_cell(markdown), cell]
    nbformat.write(nb, folder / "01_a.ipynb")
    jupytext.write(nb, _sources(folder) / "01_a.py", fmt="py:percent")
    return folder / "01_a.ipynb"


def _unbacked(tmp_path, markdown, printed="", code="print(x)"):
    return [n for _, n, _ in nbcheck.unbacked_numbers(_notebook(tmp_path, markdown, printed, code),
                                                      allowed_text="")]


def test_which_prose_numbers_are_checked():
    text = ("## 3.1 Pooling\nWe reach 0.958 and 95.8 % (or 1.5%) with 61,706 parameters, "
            "5×5 kernels, 10 epochs, in 1998; see §2.2, section 11.5, PyTorch 2.6, "
            "`lr=0.9`, [link](https://x.org/1.25), $a = 1.7159$, −0.1.\n"
            "```\nprint(0.5)\n```\n1. a list item")
    assert [n for n, _ in nbcheck.prose_numbers(text)] == ["0.958", "95.8 %", "1.5%", "61,706",
                                                           "0.1"]


def test_a_number_printed_passes_and_one_printed_nowhere_fails(tmp_path):
    assert _unbacked(tmp_path, "Test accuracy 0.9173.", "test acc 0.9173\n") == []
    assert _unbacked(tmp_path, "Test accuracy 0.958.", "test acc 0.916\n") == ["0.958"]


def test_the_failure_names_file_cell_number_and_sentence(tmp_path):
    _notebook(tmp_path, "Intro.\n\nIt ends at 0.958 after ten epochs. Next sentence.", "0.1\n")
    found = nbcheck.number_problems(tmp_path)
    assert len(found) == 1
    assert "01_a.ipynb cell 0: '0.958'" in found[0]
    assert '"It ends at 0.958 after ten epochs."' in found[0]
    assert nbcheck.main([str(tmp_path)]) == 0  # off by default
    assert nbcheck.main(["--numbers", str(tmp_path)]) == 1


def test_rounding_at_the_prose_precision(tmp_path):
    assert _unbacked(tmp_path, "about 0.958", "0.95812\n") == []
    assert _unbacked(tmp_path, "about 0.96", "0.9551\n") == []
    assert _unbacked(tmp_path, "about 0.958", "0.9571\n") == ["0.958"]
    assert _unbacked(tmp_path, "exactly 0.9580", "0.958\n") == []
    assert _unbacked(tmp_path, "exactly 0.9581", "0.958\n") == ["0.9581"]


def test_percentages_fractions_and_thousands_separators(tmp_path):
    assert _unbacked(tmp_path, "95.8 % of them", "share 0.958\n") == []
    assert _unbacked(tmp_path, "a share of 0.958", "share 95.8 %\n") == []
    assert _unbacked(tmp_path, "error 0.92 %", "error (%) 0.92\n") == []
    assert _unbacked(tmp_path, "a share of 95.8", "share 0.958\n") == ["95.8"]  # no % in prose
    assert _unbacked(tmp_path, "61,706 parameters", "61706\n") == []
    assert _unbacked(tmp_path, "61706.5 and 61,706", "total: 61,706\n") == ["61706.5"]
    assert _unbacked(tmp_path, "340,908 connections", "340,907\n") == ["340,908"]


def test_rich_outputs_count_and_code_literals_are_settings(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("show()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/markdown": "| acc | 0.8812 |", "text/html": "<td>0.7712</td>",
        "text/plain": "<IPython.core.display.Markdown object>"})]
    nb.cells = [nbformat.v4.new_markdown_cell("0.8812, 0.7712 and lr 0.05; not 0.25"), cell,
                nbformat.v4.new_code_cell("net = fit(lr=0.05, wd=5e-4)")]
    path = tmp_path / "01_a.ipynb"
    nbformat.write(nb, path)
    assert [n for _, n, _ in nbcheck.unbacked_numbers(path, allowed_text="")] == ["0.25"]


def test_numbers_in_code_spans_are_not_checked(tmp_path):
    assert _unbacked(tmp_path, "with `gamma=0.1` and\n```python\nx = 0.37\n```\n") == []
    assert _unbacked(tmp_path, "with gamma 0.1") == ["0.1"]


def test_figures_in_the_sources_table_are_allowed_in_any_notebook(tmp_path):
    path = _notebook(tmp_path, "The paper reports 0.95 %, the d2l page 0.8645, Boyu 0.804, "
                     "and 340,908 connections; we get 0.9123.")
    assert [n for _, n, _ in nbcheck.unbacked_numbers(path)] == ["0.9123"]
    assert [n for _, n, _ in nbcheck.unbacked_numbers(path, allowed_text="")] == [
        "0.95 %", "0.8645", "0.804", "340,908", "0.9123"]


def _tagged(path, printed_by_tag):
    """A chapter: one markdown cell, then one code cell per (tag, printed text)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("The live run reaches 0.8712; the stored seeds "
                                              "0.861 to 0.877.")]
    for tag, printed in printed_by_tag:
        cell = nbformat.v4.new_code_cell("show()", metadata={"tags": [tag]} if tag else {})
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def test_a_number_backed_only_by_a_live_cell_is_refused(tmp_path):
    path = _tagged(tmp_path / "01_a.ipynb", [
        ("live", "live run: 0.8712: inside the stored range 0.861–0.877\n"),
        ("stored", "stored: 0.870 (0.861–0.877)\n")])
    assert [n for _, n, _ in nbcheck.unbacked_numbers(path, allowed_text="")] == ["0.8712"]
    [problem] = nbcheck.number_problems(tmp_path)
    assert "cell 0: '0.8712' appears only in the output of a cell tagged `live`" in problem
    assert "quote the stored results" in problem
    # the same digits printed by a stored (or untagged) cell back the prose as usual
    for tag in ("stored", None):
        _tagged(path, [("live", "0.8712 0.861 0.877\n"), (tag, "0.8712 0.861 0.877\n")])
        assert nbcheck.number_problems(tmp_path) == []
    _tagged(path, [("live", "0.5\n"), ("stored", "0.861 0.877\n")])  # nowhere: as usual
    [problem] = nbcheck.number_problems(tmp_path)
    assert "'0.8712' appears in no output" in problem


# --- every pointer into the package leads somewhere ---


def test_pointers_to_files_and_names_that_exist_pass(tmp_path):
    py = tmp_path / "01_a.py"
    py.write_text("# `fit` (`lenet_nb/train.py`) is the loop; `corr2d` from\n"
                  "# `lenet_nb/lessons/conv.py`; `lenet_nb.lessons.conv.corr2d` too.\n"
                  "from lenet_nb.models import LeNet\n")
    assert nbcheck.pointer_problems(py, root=ROOT) == []


def test_a_pointer_to_a_missing_file_or_name_fails(tmp_path):
    py = tmp_path / "01_a.py"
    py.write_text("# see `lenet_nb/fc_limits.py` and `lenet_nb.lessons.conv.no_such`;\n"
                  "# `flat_index` (`lenet_nb/lessons/conv.py`) and `shift_image` in\n"
                  "# `lenet_nb/lessons/conv.py`.\n")
    found = nbcheck.pointer_problems(py, root=ROOT)
    assert any("lenet_nb/fc_limits.py, which does not exist" in p for p in found)
    assert any("lenet_nb.lessons.conv.no_such, which does not exist" in p for p in found)
    assert any("`flat_index` is in lenet_nb/lessons/conv.py" in p for p in found)
    assert len(found) == 3  # shift_image is defined in conv.py


def test_the_chapters_point_only_at_what_exists():
    for py in sorted((ROOT / "notebooks_py").glob("*.py")):
        assert nbcheck.pointer_problems(py, root=ROOT) == [], py.name


def test_exercise_numbers_are_references_not_claims():
    text = "Exercise 2.1 asks for a shape; exercises 3.2 and the loss 0.958 are different."
    assert [n for n, _ in nbcheck.prose_numbers(text)] == ["0.958"]


def test_nbgrader_metadata_must_agree_in_both_files(tmp_path):
    """nbgrader's cell metadata lives in the .ipynb and its .py (jupytext.toml keeps it)."""
    ipynb = _write_pair(tmp_path, "01_a")
    nb = nbformat.read(ipynb, as_version=4)
    nb.cells[1].metadata["nbgrader"] = {"grade": False, "solution": True}
    nbformat.write(nb, ipynb)
    assert any("differ" in p for p in nbcheck.problems(tmp_path))
    nb.metadata["jupytext"] = {"cell_metadata_filter": "tags,nbgrader,-all"}
    jupytext.write(nb, _sources(tmp_path) / "01_a.py", fmt="py:percent")
    assert nbcheck.problems(tmp_path) == []


def test_long_lines_are_reported_except_cell_headers(tmp_path):
    _write_pair(tmp_path, "01_a", source="x = 1  # " + "y" * 100)
    found = nbcheck.problems(tmp_path)
    assert any("01_a.py:" in p and "characters long (limit 100)" in p for p in found)
    _write_pair(tmp_path, "01_a")
    py = _sources(tmp_path) / "01_a.py"
    header = '# %% tags=["' + "t" * 100 + '"]'
    py.write_text(py.read_text().replace("# %%\nprint(1)", f"{header}\nprint(1)"))
    assert not any("characters long" in p for p in nbcheck.problems(tmp_path))


def test_an_inline_picture_in_an_output_is_not_read_as_numbers():
    # base64 can spell '6E6779', which Decimal reads as 6e6779 and cannot round
    html = '<p>accuracy 0.875</p><img src="data:image/png;base64,iVBOR6E6779xyz+/=">'
    assert nbcheck.output_values(html) == {(nbcheck.Decimal("0.875"), False)}
