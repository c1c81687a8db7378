"""The notebook checks: pairing, sync and output size."""

import base64
import json

import jupytext
import nbformat

from lenet_nb import nbcheck


def _write_pair(folder, name, source="print(1)"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell(source)]
    jupytext.write(nb, folder / f"{name}.ipynb")
    jupytext.write(nb, folder / f"{name}.py", fmt="py:percent")
    return folder / f"{name}.ipynb"


def test_paired_notebooks_pass(tmp_path):
    _write_pair(tmp_path, "01_a")
    assert nbcheck.problems(tmp_path) == []
    assert nbcheck.main([str(tmp_path)]) == 0


def test_empty_folder_passes(tmp_path):
    assert nbcheck.problems(tmp_path) == []


def test_out_of_sync_and_unpaired_are_reported(tmp_path):
    _write_pair(tmp_path, "01_a")
    py = tmp_path / "01_a.py"
    py.write_text(py.read_text().replace("print(1)", "print(2)"))
    (tmp_path / "02_b.py").write_text("# %%\nx = 1\n")
    found = nbcheck.problems(tmp_path)
    assert any("01_a.ipynb and 01_a.py differ" in p for p in found)
    assert any("02_b.py has no paired notebook" in p for p in found)
    assert nbcheck.main([str(tmp_path)]) == 1


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
