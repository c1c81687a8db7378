"""What every command line shares: --help, refused unknown options and typos, one-line errors.

`parser(prog, doc)` builds the argument parser (usage from the module docstring; abbreviations
off, so `--number` is an error rather than a silent `--numbers`). `folder(...)` and
`whole_number(...)` are argument types that refuse a typo'd folder (with a suggestion), a file
given for a folder, an empty folder, text or a fraction where a count is meant. `run(main,
argv)` is the one error boundary: a user error prints `error: …` in one line and returns 1,
Ctrl-C prints `interrupted: …` and returns 130, bad usage prints one line and returns 2,
`--help` returns 0.
LENET_NB_DEBUG=1 shows the traceback as well. Standard library only.
"""

import argparse
import difflib
import math
import os
import sys
import traceback
from pathlib import Path

DEBUG_ENV = "LENET_NB_DEBUG"
# what a user can cause and fix: bad values and files, full disks, corrupted data, divergence
USER_ERRORS = (ValueError, OSError, ArithmeticError)


class Parser(argparse.ArgumentParser):
    """argparse without abbreviations, whose usage errors are one line (exit code 2)."""

    def __init__(self, *args, allow_abbrev=False, **kwargs):
        super().__init__(*args, allow_abbrev=allow_abbrev, **kwargs)

    def error(self, message):
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def parser(prog, doc):
    """A Parser whose --help shows `doc` (first line, then the rest as the epilog); give its
    subparsers `parser_class=cli.Parser` too."""
    first, _, rest = (doc or "").strip().partition("\n")
    return Parser(prog=prog, description=first, epilog=rest.strip() or None,
                  formatter_class=argparse.RawDescriptionHelpFormatter)


def _suggestion(path):
    """' (did you mean X?)' for a folder name close to a missing one's, else ''."""
    parent = path.parent if str(path.parent) else Path(".")
    try:
        names = [p.name for p in parent.iterdir() if p.is_dir()]
    except OSError:
        return ""
    near = difflib.get_close_matches(path.name, names, n=1)
    return f" (did you mean {parent / near[0] if str(path.parent) != '.' else near[0]}?)" \
        if near else ""


def folder(holds="*.ipynb", missing_ok=False):
    """An argparse type: an existing folder holding at least one `holds` file, as a Path.

    `missing_ok`: a folder that does not exist yet passes too, unless its name looks like a typo
    of one that does (then the error suggests it)."""

    def check(text):
        path = Path(os.path.expanduser(text))
        if path.is_file():
            raise argparse.ArgumentTypeError(
                f"{text} is a file, not a folder: pass the folder that holds it "
                f"({path.parent if str(path.parent) else '.'})")
        if not path.is_dir():
            near = _suggestion(path)
            if missing_ok and not near:
                return path
            raise argparse.ArgumentTypeError(f"there is no folder {text}{near}")
        if holds and not any(path.glob(holds)):
            raise argparse.ArgumentTypeError(f"{text} holds no {holds} files: pass the "
                                             f"folder of the chapters' notebooks")
        return path

    check.__name__ = "folder"  # argparse names the type in its error message
    return check


def whole_number(low=1):
    """An argparse type: an integer >= low (no fractions, no text such as '3.0')."""

    def check(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is below {low}")
        return value

    check.__name__ = "whole number"
    return check


def number(low=0.0, strict=True):
    """An argparse type: a finite number > low (>= low with strict=False); no nan, no inf."""

    def check(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(
                f"{text} is not a finite number {'>' if strict else '>='} {low:g}")
        return value

    check.__name__ = "number"
    return check


def run(main, argv=None, errors=()):
    """Call `main(argv)` as a command line: its exit code, and user errors in one line.

    `errors`: more exception classes the tool counts as user errors (e.g. DataError).
    """
    debug = os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")
    try:
        return main(argv) or 0
    except SystemExit as done:  # argparse: --help (0) or bad usage (2, usage already printed)
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except KeyboardInterrupt as stop:
        if debug:
            traceback.print_exc()
        print(f"interrupted: {stop}" if str(stop) else "interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS + tuple(errors) as error:
        if debug:
            traceback.print_exc()
        print(f"error: {error}", file=sys.stderr)
        return 1
