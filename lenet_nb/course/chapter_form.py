"""A chapter's form: its size (code cells, words of prose) and its heading levels."""

import json
import re
from pathlib import Path

MAX_CODE_CELLS, MAX_WORDS = 40, 3_500  # issue 18: a chapter's size limit
# what is not prose in a markdown cell: fenced code, display math, HTML tags
_NOT_PROSE = re.compile(r"```.*?```|\$\$.*?\$\$|<[^>]+>", re.S)


def chapter_size(nb_path):
    """(code cells, words of prose) of a stored chapter; a word is a run of non-space characters
    starting with a letter or digit, counted in markdown outside fenced code, $$math$$ and tags."""
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    text = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    words = sum(len(re.findall(r"[A-Za-z0-9]\S*", _NOT_PROSE.sub(" ", t))) for t in text)
    return sum(c["cell_type"] == "code" for c in nb["cells"]), words


_HEADING = re.compile(r"(#{1,6})\s")


def heading_jumps(nb_path):
    """One message per markdown heading more than one level below the heading before it
    (## then ####): the book's build stops on them."""
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    found, last = [], 0
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        text = _NOT_PROSE.sub("", "".join(cell["source"]))  # no '#' lines of fenced code
        for line in text.splitlines():
            m = _HEADING.match(line)
            if not m:
                continue
            level = len(m.group(1))
            if last and level > last + 1:
                found.append(f"{nb_path} cell {i}: heading {line.strip()[:50]!r} is level "
                             f"{level} right after a level-{last} heading: make it "
                             f"{'#' * (last + 1)} (the book's build stops on a jump)")
            last = level
    return found
