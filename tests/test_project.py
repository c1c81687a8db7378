"""Project files agree (environment.yml, pyproject.toml, .ci/run, README) and the package keeps its
house rules: the library at the top, rooms by kind, no import circles, tests mirror modules."""

import ast
import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import lenet_nb

ROOT = Path(__file__).resolve().parent.parent


def _pyproject_deps():
    return sorted(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


def _environment_pins():
    """environment.yml's pip section as {name: pinned version}; every entry must be `name==v`."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pins = {}
    for line in pip:
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"pin {line!r} as name==version"
        pins[canonicalize_name(req.name)] = specs[0].version
    return pins


def test_environment_yml_pins_every_runtime_dependency_within_its_range():
    pins = _environment_pins()
    for dep in map(Requirement, _pyproject_deps()):
        name = canonicalize_name(dep.name)
        assert name in pins, f"environment.yml does not pin {dep.name}"
        assert dep.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {dep}"
    # repo2docker copies only environment.yml before installing it: `-e .` cannot work there,
    # postBuild installs the package
    assert not any(name.startswith("-") for name in pins)


def test_the_version_lives_in_one_place():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "lenet_nb.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", lenet_nb.__version__)


def test_torch_ranges_admit_the_versions_on_this_platform():
    deps = dict(re.match(r"([a-z]+)(.*)", d).groups() for d in _pyproject_deps())
    assert deps["torch"] == ">=2.2,<=2.14.1" and deps["torchvision"] == ">=0.17,<=0.29.1"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"<!-- test-command -->\s*```sh\n(.+?)\n```", readme, re.S).group(1)
    ci_lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert command.strip() in ci_lines
    assert "set -euo pipefail" in ci_lines  # a failing step fails CI


def test_data_and_checkpoints_are_git_ignored():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert {"/data", "/.venv", "*.pt"} <= set(ignored)  # no slash: links too


def test_readme_chapter_table_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `(\d\d_\w+)` \|", readme, re.M))
    on_disk = {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert on_disk and listed == on_disk


# --- the house: imports ---------------------------------------------------------------------


def _imports(path):
    """The lenet_nb modules a source file imports, at any depth (lazy imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lenet_nb"):
            names = [node.module] if node.module != "lenet_nb" else [
                f"lenet_nb.{a.name}" for a in node.names]
            found.update(names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("lenet_nb."))
    return found


def import_graph(package_dir):
    """Module name -> the package's modules it imports, read from the sources with ast."""
    modules = {}
    for p in package_dir.rglob("*.py"):
        parts = p.relative_to(package_dir.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if p.stem == "__init__" else parts)] = p
    return {name: sorted(_imports(path) & set(modules) - {name})
            for name, path in modules.items()}


def import_cycles(graph):
    """Every cycle of the graph, each as a sorted tuple of its modules (strongly connected)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(tuple(sorted(group)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(cycles)


def test_import_cycles_finds_a_circle_and_only_that():
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": []}
    assert import_cycles(graph) == [("a", "b", "c")]
    assert import_cycles({"a": ["b"], "b": []}) == []


def test_lenet_nb_has_no_import_cycles():
    graph = import_graph(Path(lenet_nb.__file__).parent)
    assert "lenet_nb.quiz.bank" in graph["lenet_nb.quiz.widget"]  # the widget reads the banks
    for data in ("question", "bank", "final"):  # the questions never import the widgets
        assert "lenet_nb.quiz.widget" not in graph[f"lenet_nb.quiz.{data}"], data
    assert import_cycles(graph) == []  # train <-> plot and data <-> fetch were untangled too


# --- the house: rooms and sizes ---------------------------------------------------------------

PACKAGE = Path(lenet_nb.__file__).parent
ROOMS = ("lessons", "exercises", "quiz", "course")


def _modules(folder):
    return sorted(p for p in folder.glob("*.py") if p.stem != "__init__")


def test_the_top_level_holds_only_the_library():
    assert len(_modules(PACKAGE)) <= 16, [p.stem for p in _modules(PACKAGE)]
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__") \
        == sorted(ROOMS)


def test_the_library_never_imports_from_the_rooms():
    """Lessons, checkers, quizzes and course tools build on the library, never the other way."""
    graph = import_graph(PACKAGE)
    for module in (f"lenet_nb.{p.stem}" for p in _modules(PACKAGE)):
        rooms = [m for m in graph[module] if m.split(".")[1] in ROOMS]
        assert rooms == [], f"{module} imports {rooms}"


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_every_module_has_its_mirrored_test_module():
    """lenet_nb/x.py <-> tests/test_x.py; lenet_nb/room/x.py <-> tests/room/test_x.py."""
    missing = []
    for folder, tests in [(PACKAGE, ROOT / "tests")] + [
            (PACKAGE / room, ROOT / "tests" / room) for room in ROOMS]:
        missing += [f"{tests.relative_to(ROOT)}/test_{p.stem}.py" for p in _modules(folder)
                    if not (tests / f"test_{p.stem}.py").exists()]
    assert missing == []


def test_every_test_module_mirrors_a_module():
    """No test module for a module that is gone (tests/test_project.py tests the project)."""
    orphans = []
    for folder, tests in [(PACKAGE, ROOT / "tests")] + [
            (PACKAGE / room, ROOT / "tests" / room) for room in ROOMS]:
        orphans += [str(t.relative_to(ROOT)) for t in tests.glob("test_*.py")
                    if t.name != "test_project.py"
                    and not (folder / f"{t.stem.removeprefix('test_')}.py").exists()]
    assert orphans == []


def test_readme_module_tables_match_the_tree():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## The package"):readme.index("## Browser tests")]
    listed = set(re.findall(r"^\| `(lenet_nb\.[\w.]+)` \|", section, re.M))
    on_disk = {".".join(p.relative_to(ROOT).with_suffix("").parts)
               for p in PACKAGE.rglob("*.py") if p.stem != "__init__"}
    assert listed == on_disk


def test_make_lab_opens_on_the_start_page_of_the_reading_copy():
    from lenet_nb.course.lab import START_PAGE, lab_options

    recipe = re.search(r"^lab:.*?\n((?:\t.*\n?)+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert "-m lenet_nb.course.lab" in recipe
    options = " ".join(lab_options(ROOT))
    url = re.search(r"--LabApp\.default_url=/lab/tree/(\S+)", options).group(1)
    root = re.search(r"--ServerApp\.root_dir=(\S+)", options).group(1)
    assert url == START_PAGE == "reading/00_start_here.ipynb"
    assert Path(root) == ROOT.resolve()
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "student/" in ignored and "reading/" in ignored


# --- issue 19: one writer, one command-line layer ----------------------------------------------

_WRITERS = [  # (what, pattern) of every way to write or remove a file besides lenet_nb.files
    ("Path.write_text/write_bytes", re.compile(r"(?<!files)(?<!\btmp)\.write_(?:text|bytes)\(")),
    ("nbformat.write", re.compile(r"nbformat\.write\((?!.*\btmp\b)")),
    ("torch.save to a path", re.compile(r"torch\.save\((?!.*\bbuf\b)")),
    ("savefig to a path", re.compile(r"savefig\((?!buf\b)")),
    ("open for writing", re.compile(r"open\((?!tmp\b)[^,()]+,\s*[\"'][^\"']*[wx+]")),
    ("rename, replace or delete", re.compile(
        r"os\.(?:replace|rename|remove|unlink)\(|shutil\.(?:rmtree|move|copy\w*)\(|\.unlink\(")),
    ("csv/json straight to a file", re.compile(r"\.to_csv\(|json\.dump\(")),
]


def _code_files():
    return sorted([*PACKAGE.rglob("*.py"), *(ROOT / "tools").glob("*.py"),
                   *(ROOT / "benchmarks").glob("*.py")])


def test_every_file_is_written_by_the_one_writer():
    """lenet_nb.files is the only module that writes, renames or deletes a file."""
    found = []
    for path in _code_files():
        if path == PACKAGE / "files.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            found += [f"{path.relative_to(ROOT)}:{n}: {what}: {line.strip()}"
                      for what, pattern in _WRITERS if pattern.search(line)]
    assert found == []


def test_the_writer_lint_sees_what_it_forbids():
    lines = {"Path.write_text/write_bytes": 'out.write_text(text, encoding="utf-8")',
             "nbformat.write": "nbformat.write(nb, target)",
             "torch.save to a path": "torch.save(state, path)",
             "savefig to a path": 'fig.savefig("a.png")',
             "open for writing": 'with open(path, "w") as f:',
             "rename, replace or delete": "os.replace(tmp, dest)",
             "csv/json straight to a file": "json.dump(data, f)"}
    for what, pattern in _WRITERS:
        assert pattern.search(lines[what]), what
    allowed = ['files.write_text(dest, "x")', "torch.save(payload, buf)", 'tmp.write_text(t)',
               'with atomic_write(path) as tmp, open(tmp, "w", newline="") as f:',
               'open(lock, "a")', "fig.savefig(buf, format='png')"]
    assert not [a for a in allowed for _, p in _WRITERS if p.search(a)]


def test_every_command_line_uses_the_shared_layer():
    """--help, refused unknown options and one-line errors come from lenet_nb.cli everywhere."""
    scripts = [p for p in _code_files() if '__name__ == "__main__"' in p.read_text()]
    assert len(scripts) >= 8  # fetch, nbcheck, report, student, a tool, three benchmarks
    for path in scripts:
        text = path.read_text()
        assert "cli.parser(" in text, path
        assert "ArgumentParser(" not in text and "sys.argv" not in text, path


def _calls_fit(path):
    """True when the module's code (not its text) calls fit(...) or train.fit(...)."""
    return any(isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Name) and node.func.id == "fit")
        or (isinstance(node.func, ast.Attribute) and node.func.attr == "fit"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "train"))
        for node in ast.walk(ast.parse(path.read_text())))


_STOP_TESTED = re.compile(r"ctrl_c_in_epoch|TrainingInterrupted|TrainingDiverged|TrainingStopped")


def _mirror(path):
    """The test module of a package module or a tool (tools are tested in tests/test_cli.py)."""
    if path.parent == ROOT / "tools":
        return ROOT / "tests" / "test_cli.py"
    rel = path.relative_to(PACKAGE)
    return ROOT / "tests" / rel.parent / f"test_{rel.stem}.py"


def test_every_caller_of_fit_has_a_test_of_a_stopped_run():
    """fit raises on Ctrl-C and divergence (issue 19): each caller's tests say what it does."""
    callers = [p for p in [*PACKAGE.rglob("*.py"), *(ROOT / "tools").glob("*.py")]
               if p.name != "train.py" and _calls_fit(p)]
    # fc_limits, draw, lenet5_train, recipes, lr_sweep; chapter 4's explorer, ladder and grid
    # train through recipes.fit_setup
    assert len(callers) >= 5, callers
    untested = [str(p.relative_to(ROOT)) for p in callers
                if not _STOP_TESTED.search(_mirror(p).read_text())]
    assert untested == []
