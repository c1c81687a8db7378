"""Hand the student edition out through git: publish it on a branch, and the nbgitpuller link.

A hub's learners get the course with nbgitpuller, which clones a git branch into their home and,
on later clicks, merges the teacher's updates while keeping every change the learner made. The
student edition is generated (git-ignored in `student/`), so `publish` commits it onto its own
branch without touching the working tree or the index: each notebook of `notebooks/` as
`lenet_nb.course.student.student_notebook` makes it, plus a short README. The teacher pushes the
branch and shares the link (docs/classroom.md).

`pins` lists environment.yml's pip pins, for a hub whose Python environment is not built by
repo2docker (The Littlest JupyterHub).

Command line (`make student-branch` runs the first):
  python -m lenet_nb.course.classroom publish [--branch student-edition] [--src notebooks]
  python -m lenet_nb.course.classroom link --hub https://hub.example.org --repo URL
  python -m lenet_nb.course.classroom pins [environment.yml]
"""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

from lenet_nb import __version__, cli

BRANCH = "student-edition"
TARGET = "lenet-student"
FIRST = "00_start_here.ipynb"
# used only when git knows no identity (a CI machine): the commit is generated, not authored
IDENTITY = {"GIT_AUTHOR_NAME": "lenet-notebooks", "GIT_AUTHOR_EMAIL": "lenet-notebooks@localhost",
            "GIT_COMMITTER_NAME": "lenet-notebooks",
            "GIT_COMMITTER_EMAIL": "lenet-notebooks@localhost"}
README = """# LeNet, the student edition

The exercises of lenet-notebooks {version}, left open for you: start with `{first}`. Your
answers stay yours: clicking the course link again brings the teacher's updates and keeps every
change you made.
"""


class PublishError(RuntimeError):
    """The student edition could not be committed (not a git repository, no notebooks)."""


def _git(repo, *args, text_in=None, check=True, env=None):
    done = subprocess.run(["git", *args], cwd=repo, input=text_in, capture_output=True,
                          text=True, env=env)
    if check and done.returncode != 0:
        raise PublishError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip() if done.returncode == 0 else None


def _blob(repo, text):
    return _git(repo, "hash-object", "-w", "--stdin", text_in=text)


def _identity_env(repo):
    """The environment for commit-tree: git's own identity if it has one, else IDENTITY."""
    if _git(repo, "var", "GIT_COMMITTER_IDENT", check=False) is not None:
        return None
    return {**os.environ, **IDENTITY}


def publish(repo=".", branch=BRANCH, src="notebooks"):
    """Commit the student edition of `repo/src` onto `branch`; return (commit, changed?)."""
    import nbformat

    from lenet_nb.course.student import student_notebook

    repo = Path(repo)
    if _git(repo, "rev-parse", "--git-dir", check=False) is None:
        raise PublishError(f"{repo.resolve()} is not a git repository: publish from a clone "
                           f"of the course")
    notebooks = sorted((repo / src).glob("*.ipynb"))
    if not notebooks:
        raise PublishError(f"no notebooks in {repo / src}: expected the chapters' .ipynb files")
    entries = []
    for path in notebooks:
        text = nbformat.writes(student_notebook(nbformat.read(path, as_version=4), path.name))
        entries.append(f"100644 blob {_blob(repo, text.rstrip() + chr(10))}\t{path.name}")
    readme = README.format(version=__version__, first=FIRST)
    entries.append(f"100644 blob {_blob(repo, readme)}\tREADME.md")
    tree = _git(repo, "mktree", text_in="\n".join(entries) + "\n")  # mktree sorts the entries
    ref = f"refs/heads/{branch}"
    parent = _git(repo, "rev-parse", "--verify", "--quiet", ref, check=False)
    if parent and _git(repo, "rev-parse", f"{parent}^{{tree}}") == tree:
        return parent, False
    head = _git(repo, "rev-parse", "--short", "HEAD", check=False) or "no commit"
    dirty = _git(repo, "status", "--porcelain", "--", src, check=False)
    message = (f"Student edition of lenet-nb {__version__} (from {head}"
               f"{', with uncommitted changes' if dirty else ''})")
    args = ["commit-tree", tree, "-m", message] + (["-p", parent] if parent else [])
    commit = _git(repo, *args, env=_identity_env(repo))
    _git(repo, "update-ref", ref, commit, parent or "")  # refused if the branch moved meanwhile
    return commit, True


def pull_link(hub, repo_url, branch=BRANCH, target=TARGET, first=FIRST, through_hub=True):
    """The nbgitpuller link that clones (then updates) `branch` into `target` and opens `first`.

    `through_hub=False` gives the link for a single Jupyter server (no /hub/user-redirect).
    """
    query = urlencode({"repo": repo_url, "branch": branch, "targetPath": target,
                       "urlpath": f"lab/tree/{target}/{first}"})
    prefix = "/hub/user-redirect" if through_hub else ""
    return f"{hub.rstrip('/')}{prefix}/git-pull?{query}"


def pins(environment="environment.yml"):
    """The `pip:` entries of a conda environment file, in order (read without a YAML parser)."""
    found, indent = [], None
    lines = Path(environment).read_text(encoding="utf-8").splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.split("#")[0].strip() == "- pip:"), None)
    if start is None:
        raise ValueError(f"{environment} has no `- pip:` list")
    for line in lines[start + 1:]:
        text = line.split(" #", 1)[0].rstrip()
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        m = re.match(r"^(\s*)- (\S+)$", text)
        if m is None or (indent is not None and len(m.group(1)) != indent):
            break
        indent = len(m.group(1))
        found.append(m.group(2))
    return found


def main(argv=None):
    """Command line: publish the student edition on a branch, or print the nbgitpuller link."""
    return cli.run(_main, argv, errors=(PublishError,))


def _main(argv):
    parser = cli.parser("python -m lenet_nb.course.classroom",
                        "Hand out the student edition through git.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=cli.Parser)
    pub = sub.add_parser("publish", help="commit the student edition onto a branch")
    pub.add_argument("--branch", default=BRANCH)
    pub.add_argument("--src", default="notebooks")
    link = sub.add_parser("link", help="print the nbgitpuller link for learners")
    link.add_argument("--hub", required=True, help="the hub's address, https://hub.example.org")
    link.add_argument("--repo", required=True, help="the git URL learners' servers clone")
    link.add_argument("--branch", default=BRANCH)
    link.add_argument("--target", default=TARGET, help="the folder in each learner's home")
    link.add_argument("--no-hub", action="store_true",
                      help="a single Jupyter server: no /hub/user-redirect in the link")
    listing = sub.add_parser("pins", help="print environment.yml's pip pins, one per line")
    listing.add_argument("environment", nargs="?", default="environment.yml")
    args = parser.parse_args(argv)
    if args.command == "pins":
        print("\n".join(pins(args.environment)))
        return 0
    if args.command == "link":
        print(pull_link(args.hub, args.repo, args.branch, args.target,
                        through_hub=not args.no_hub))
        return 0
    commit, changed = publish(".", args.branch, args.src)  # errors: one line (lenet_nb.cli)
    print(f"{args.branch}: {commit[:12]} "
          f"{'(new commit)' if changed else '(unchanged: the edition is already there)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
