"""The course's website (`make book`): Jupyter Book 1 over copies of the stored notebooks.

Nothing is executed: the pages show the outputs stored in `notebooks/`, as a reader without a
kernel needs them. `prepare` copies the chapters into a source folder and makes each static:
- a quiz keeps its stored list of questions and gets the questions themselves as JSON, looked up
  in the banks (`lenet_nb.quiz.bank`) by their prompts; `book/static/lenet-quiz.js` turns it
  into the quiz JupyterLab shows, with the same feedback. A prompt no bank holds stops the build
  (the stored output is stale);
- another widget becomes a note that it works in JupyterLab; progress bars are dropped;
- exercises are for trying, not for reading off: an answer cell shows the student's stub and,
  folded under it, the solution; check cells (the autograder's cells) are left out.
README.md, REPORT.md and docs/classroom.md join the chapters; MathJax comes from its npm package
(checked against its SHA-256), so no page asks another host for anything. `build` then runs
Jupyter Book from its own environment (`.venv-book`), warnings as errors, and refuses a page
that would load anything from another host.

Command line: `python -m lenet_nb.course.book build [--out build/book]` (what `make book` runs).
"""

import copy
import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from lenet_nb import cli
from lenet_nb.files import (
    copy_file,
    empty_generated,
    generated_folder,
    remove,
    write_bytes,
    write_notebook,
    write_text,
)

WIDGET = "application/vnd.jupyter.widget-view+json"
QUIZ = "lenet-quiz-static"  # the class of a quiz's stored list (lenet_nb.quiz.widget.CSS)
PROMPT = re.compile(r"<p><b>(\d+)\.</b> (.*?)</p>")
PROGRESS = re.compile(r"\d+%\|")
CONTAINERS = ("VBox", "HBox", "Box", "GridBox", "Tab", "Accordion")
CHECK_TAG = "exercise-check"
PAGES = ("README.md", "REPORT.md", "docs/classroom.md", "docs/exercises.md")
MATHJAX = "mathjax@3.2.2"
MATHJAX_SHA256 = "1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09"
# what tex-mml-chtml.js may load at run time (fonts, TeX packages, menu, accessibility)
MATHJAX_PARTS = ("tex-mml-chtml.js", "output/chtml/", "input/tex/extensions/",
                 "input/mml/extensions/", "ui/", "a11y/", "sre/")
# src=, href=, url(...) and @import pointing at a host (or protocol-relative //host)
REMOTE = re.compile(r"""(?:\b(?:src|href)\s*=\s*["']|url\(\s*["']?|@import\s+["'])"""
                    r"""((?:https?:)?//[^"')\s]+)""", re.I)
LOCAL_HOSTS = ("//127.0.0.1", "//localhost")


class BookError(RuntimeError):
    """The site cannot be built as it must be (stale quiz output, remote resources, a tool)."""


def questions_by_prompt():
    """Every bank question by its prompt (prompts identify questions in stored outputs)."""
    from lenet_nb.quiz.bank import BANKS

    found = {}
    for bank in BANKS.values():
        for q in bank:
            if found.setdefault(q.prompt, q).key != q.key:
                raise BookError(f"two questions share the prompt {q.prompt!r}: "
                                f"{found[q.prompt].key} and {q.key}")
    return found


def question_json(number, q):
    """What lenet-quiz.js needs of one question (the key included: the page may show it)."""
    data = {"key": q.key, "number": number, "prompt": q.prompt, "answer": q.answer}
    if q.is_numeric:
        data.update(choices=None, tolerance=q.tolerance, explanation=q.explanation, hint=q.hint)
    else:
        data.update(choices=list(q.choices), explanations=list(q.explanations))
    return data


def quiz_html(stored, by_prompt, where="quiz"):
    """A quiz's stored HTML list plus its questions as JSON for lenet-quiz.js."""
    numbered = [(int(n), html.unescape(p)) for n, p in PROMPT.findall(stored)]
    unknown = [p for _, p in numbered if p not in by_prompt]
    if not numbered or unknown:
        raise BookError(f"{where}: the stored quiz output {'is empty' if not numbered else ''}"
                        f"{'asks questions no bank holds: ' + repr(unknown) if unknown else ''}; "
                        f"re-run the chapter so its outputs match lenet_nb/quiz/")
    data = {"questions": [question_json(n, by_prompt[p]) for n, p in numbered]}
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f'{stored}<script type="application/json" class="lenet-quiz-data">{payload}</script>'


def widget_note(plain):
    """What a page shows for a widget: it works in JupyterLab (named when it has a name)."""
    kind = plain.split("(", 1)[0].strip()
    named = "" if not kind or kind in CONTAINERS else f" ({html.escape(plain)})"
    return (f'<div class="lenet-widget-static"><b>Interactive widget</b>{named}: it works when '
            f"you run this chapter in JupyterLab; this page shows the notebook as stored.</div>")


def static_outputs(outputs, by_prompt, where="cell"):
    """A code cell's outputs for a page without a kernel (quizzes working, widgets static)."""
    kept = []
    for out in outputs:
        data = out.get("data", {})
        if WIDGET not in data:
            kept.append(out)
            continue
        stored, plain = "".join(data.get("text/html", "")), "".join(data.get("text/plain", ""))
        if QUIZ in stored:
            shown = quiz_html(stored, by_prompt, where)
        elif stored.strip():
            # ipywidgets store no HTML of their own: HTML beside a widget view is the static
            # copy of its state that the chapter's helper wrote for readers without a kernel
            shown = stored
        elif PROGRESS.search(plain):
            continue  # a progress bar frozen at 0 %: nothing to show without its live state
        else:
            shown = widget_note(plain)
        out = copy.deepcopy(out)
        out["data"] = {"text/html": shown, "text/plain": plain}
        kept.append(out)
    return kept


def solution_text(source):
    """The instructor's answer without the solution markers and the student's stub block."""
    lines, in_stub = [], False
    for line in source.splitlines():
        marker = line.strip()
        if marker.startswith("### BEGIN STUB"):
            in_stub = True
        elif marker.startswith("### END STUB"):
            in_stub = False
        elif not in_stub and not marker.startswith(("### BEGIN SOLUTION", "### END SOLUTION")):
            lines.append(line)
    return "\n".join(lines)


def solution_dropdown(source):
    """A markdown cell's text: the solution folded in a sphinx-design dropdown."""
    code = solution_text(source)
    fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", code)), default=0))
    return f"{fence}`{{dropdown}} Solution\n{fence}python\n{code}\n{fence}\n{fence}`"


def page_notebook(nb, by_prompt, where="notebook"):
    """A copy of a chapter for the website (the argument is left unchanged)."""
    import nbformat

    from lenet_nb.course.student import stub_regions

    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("jupytext", None)
    cells = []
    for i, cell in enumerate(nb.cells):
        at = f"{where} cell {i}"
        if cell.cell_type != "code":
            cells.append(cell)
        elif CHECK_TAG in cell.metadata.get("tags", []):
            continue  # the checker's verdict needs a kernel (and would repeat the answer)
        elif (stubbed := stub_regions(cell.source, at))[1]:
            solution = nbformat.v4.new_markdown_cell(solution_dropdown(cell.source))
            solution.id = f"{cell.get('id', i)}-solution"
            cell.source, cell.outputs, cell.execution_count = stubbed[0], [], None
            cells += [cell, solution]
        else:
            cell.outputs = static_outputs(cell.outputs, by_prompt, at)
            cells.append(cell)
    nb.cells = cells
    return nb


def toc(chapters, pages=PAGES):
    """_toc.yml: the first chapter is the start page, then the others, then the other pages."""
    lines = ["format: jb-book", f"root: notebooks/{chapters[0]}", "chapters:"]
    lines += [f"- file: notebooks/{name}" for name in chapters[1:]]
    lines += [f"- file: {Path(page).with_suffix('').as_posix()}" for page in pages]
    return "\n".join(lines) + "\n"


def mathjax(tarball, dest):
    """Unpack the parts of MathJax the pages may load from its npm tarball into `dest`."""
    digest = hashlib.sha256(Path(tarball).read_bytes()).hexdigest()
    if digest != MATHJAX_SHA256:
        raise BookError(f"{tarball} is not {MATHJAX} as published (SHA-256 {digest}); delete it "
                        f"and run `make book` again")
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("package/")
            part = name.removeprefix("es5/")
            if member.isfile() and (name == "LICENSE" or name.startswith("es5/")
                                    and part.startswith(MATHJAX_PARTS)):
                write_bytes(dest / part, tar.extractfile(member).read())


def prepare(src, mathjax_tarball, repo="."):
    """Write the book's sources into `src` (emptied first): pages, config, static files."""
    import nbformat

    repo, src = Path(repo), Path(src)
    chapters = sorted((repo / "notebooks").glob("*.ipynb"))
    if not chapters:
        raise BookError(f"no notebooks in {repo / 'notebooks'}")
    empty_generated(src)  # only inside a folder the book made (generated_folder)
    by_prompt = questions_by_prompt()
    for path in chapters:
        nb = page_notebook(nbformat.read(path, as_version=4), by_prompt, path.name)
        write_notebook(src / "notebooks" / path.name, nb)
    for page in PAGES:
        copy_file(repo / page, src / page)
    copy_file(repo / "book" / "_config.yml", src / "_config.yml")
    # not `_static`: Jupyter Book would add every .js under it (all of MathJax) to every page
    for static in sorted((repo / "book" / "static").rglob("*")):
        if static.is_file():
            copy_file(static, src / "static" / static.relative_to(repo / "book" / "static"))
    write_text(src / "_toc.yml", toc([p.stem for p in chapters]))
    mathjax(mathjax_tarball, src / "static" / "mathjax")


def remote_references(site):
    """(file, URL) for every resource a built page would load from another host."""
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix not in (".html", ".css", ".js") or "mathjax" in path.parts:
            continue  # MathJax's own code names its CDN only as a default it is not given
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in REMOTE.finditer(text):
            url = m.group(1)
            anchor = text[max(0, m.start() - 200):m.start()].rsplit("<", 1)[-1]
            if anchor.lower().startswith("a ") or url.startswith(LOCAL_HOSTS, url.find("//")):
                continue  # a link the reader may follow, not a resource the page loads
            found.append((str(path.relative_to(site)), url))
    return found


def fetch_mathjax(cache):
    """The MathJax npm tarball in `cache` (fetched with `npm pack` once, then reused)."""
    from lenet_nb.fetch import _npm_pack

    tarball = Path(cache) / f"{MATHJAX.replace('@', '-')}.tgz"
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise BookError("npm is needed once to fetch MathJax (Debian: apt-get install npm)")
        tarball.parent.mkdir(parents=True, exist_ok=True)
        _npm_pack(npm, MATHJAX, tarball.parent)
    return tarball


def _earlier_build(out):
    """True for a folder an earlier `build` (before its marker) filled: src/ and _build/ only."""
    return ((out / "src" / "_toc.yml").is_file()
            and {p.name for p in out.iterdir()} <= {"src", "_build"})


def build(out, jupyter_book, cache, repo="."):
    """Prepare the sources in `out/src`, build the site into `out/_build/html`; return it."""
    out = generated_folder(Path(out).resolve(), "the book",  # never a folder of yours
                           made_before=_earlier_build)
    prepare(out / "src", fetch_mathjax(cache), repo)
    empty_generated(out / "_build")  # no page left over from an earlier build
    run = subprocess.run([str(jupyter_book), "build", str(out / "src"), "--path-output",
                          str(out), "--builder", "html", "-W", "-n", "--keep-going"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise BookError(f"jupyter-book failed (exit code {run.returncode}):\n"
                        f"{run.stdout[-4000:]}\n{run.stderr[-4000:]}")
    site = out / "_build" / "html"
    for source_map in site.rglob("*.map"):
        remove(source_map)  # debugging aids of the theme's bundles, 3 MB the pages never load
    remote = remote_references(site)
    if remote:
        raise BookError("pages would load from other hosts:\n" +
                        "\n".join(f"  {page}: {url}" for page, url in remote))
    return site


def main(argv=None):
    """Command line: build the site (what `make book` runs)."""
    return cli.run(_main, argv, errors=(BookError,))


def _main(argv):
    parser = cli.parser("python -m lenet_nb.course.book", "Build the course's website.")
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--repo", default=".", help="the course's repository (default: here)")
    parser.add_argument("--out", default="build/book",
                        help="a folder of its own (emptied on every build; never one of yours)")
    parser.add_argument("--jupyter-book", default=".venv-book/bin/jupyter-book")
    parser.add_argument("--cache", default="build/cache",
                        help="where the MathJax tarball is kept between builds")
    args = parser.parse_args(argv)
    site = build(args.out, args.jupyter_book, args.cache, args.repo)
    pages = len(list(site.rglob("*.html")))
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    print(f"site: {site}/index.html ({pages} pages, {size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
