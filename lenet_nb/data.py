"""Fashion-MNIST and MNIST on disk: verified by SHA-256, read from IDX, served as fast batches.

Fetching them (and the `python -m lenet_nb.fetch fetch|verify` command line) is lenet_nb.fetch.
"""

import errno
import hashlib
import math
import numbers
import os
import stat

import torch
import torch.nn.functional as F

from lenet_nb.config import COURSE_ROOT
from lenet_nb.files import explain_os_error, user_path
from lenet_nb.validate import whole_number

DATA_ENV = "LENET_NB_DATA"
REPO_ROOT = COURSE_ROOT  # the course folder (lenet_nb.config: the repository or $LENET_NB_ROOT)
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

# Sizes in bytes of the official files (the same for both sets): checked before hashing.
_OFFICIAL_SIZES = {"train-images-idx3-ubyte": 47040016, "train-labels-idx1-ubyte": 60008,
                   "t10k-images-idx3-ubyte": 7840016, "t10k-labels-idx1-ubyte": 10008}
SIZES = {"FashionMNIST": dict(_OFFICIAL_SIZES), "MNIST": dict(_OFFICIAL_SIZES)}
MAX_IDX_DIMS = 4  # images [N, H, W] and labels [N]; a few more for other IDX data

text_labels = ["t-shirt", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle boot"]


class DataError(RuntimeError):
    """A data set is missing, truncated or not the official file."""


def data_root():
    """Return the data root: $LENET_NB_DATA if set (non-empty), else `data/` in the course folder.

    `~` is expanded, and a relative value is taken from the course folder (the repository), not
    from the working folder: LENET_NB_DATA=data2 means <repo>/data2 for `fetch` at the root and
    for a notebook kernel in notebooks/ alike.
    """
    value = os.environ.get(DATA_ENV, "").strip()
    if not value:
        return REPO_ROOT / "data"
    return REPO_ROOT / os.path.expanduser(value)  # an absolute value replaces REPO_ROOT


def raw_dir(name, root=None):
    """Return `<root>/<name>/raw`, the folder torchvision reads with download=False."""
    _check_name(name)
    return (user_path(root, "root") if root else data_root()) / name / "raw"


def get_fashion_mnist_labels(labels):
    """Turn Fashion-MNIST label ids (ints or an integer tensor/array of them) into class names."""
    if hasattr(labels, "dtype") and hasattr(labels, "shape"):  # a tensor or an array
        if len(labels.shape) > 1:
            raise ValueError(f"label ids must be one id or a 1-D sequence of ids, got shape "
                             f"{tuple(labels.shape)}: flatten it (y.view(-1))")
        if str(labels.dtype).rsplit(".", 1)[-1].startswith(("float", "complex", "bfloat")):
            raise ValueError(f"label ids must be whole numbers, got {labels.dtype}: a float "
                             f"tensor is scores or probabilities, not ids (use .argmax(1))")
        labels = labels.reshape(-1).tolist()
    if isinstance(labels, (int, str)) or not hasattr(labels, "__iter__"):
        labels = [labels]
    ids = [whole_number("a label id", i, low=-(2 ** 63)) for i in labels]  # range: below
    bad = [i for i in ids if not 0 <= i < len(text_labels)]
    if bad:  # a negative id would silently index from the end
        raise ValueError(f"Fashion-MNIST label ids are 0..9, got {bad[:5]}")
    return [text_labels[i] for i in ids]


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


_verified = {}  # path -> (size, mtime_ns, inode, ctime_ns) already hashed in this process
FETCH_HINT = "run `python -m lenet_nb.fetch fetch` (or `make data`) to fetch it again"


def _unreadable(path, err):
    """The DataError for a data file this user cannot read (the reason by errno)."""
    if err.errno in (errno.EACCES, errno.EPERM):
        return DataError(
            f"{path} cannot be read ({err.strerror or err}). If the data root is shared, ask its "
            f"owner to make the files readable (`chmod a+r {path}`); or use a data root of your "
            f"own: set {DATA_ENV}=DIR and run `python -m lenet_nb.fetch fetch`.")
    return DataError(f"{explain_os_error(err, path, 'reading')}.")


def _root_problem(root):
    """What is wrong with the data root itself ('' when nothing is), said before 'missing'."""
    root = user_path(root, "root") if root else data_root()
    if not root.exists():
        return (f"the data root {root} does not exist. Run `python -m lenet_nb.fetch fetch` "
                f"(it creates it), or set {DATA_ENV} to the folder that holds FashionMNIST/ and "
                f"MNIST/")
    if not root.is_dir():
        return f"the data root {root} is a file, not a folder: set {DATA_ENV} to a folder"
    if (root / "raw").is_dir() or any((root / f).exists() for f in _OFFICIAL_SIZES):
        up = root.parent if (root / "raw").is_dir() else root.parent.parent
        return (f"the data root {root} is one level too deep (it holds a data set's own "
                f"files): use {up}, the folder that holds FashionMNIST/ and MNIST/")
    return ""


def verify_file(name, fname, root=None):
    """Raise DataError unless `<root>/<name>/raw/<fname>` is the official file.

    Verified files are cached per process by size, mtime, inode and ctime: an edit in place
    changes the ctime (which no program can set back), so the next check hashes again.
    """
    path = raw_dir(name, root) / fname
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        problem = _root_problem(root)
        if problem:
            raise DataError(f"{name} file {path} cannot be found: {problem}.") from None
        raise DataError(f"{name} file {path} is missing: {FETCH_HINT}.") from None
    except OSError as e:
        raise _unreadable(path, e) from e
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"{name} file {path} is not a regular file (a directory?): move it away "
                        f"and {FETCH_HINT}.")
    key = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
    if _verified.get(str(path)) == key:
        return path
    size = SIZES[name][fname]
    if st.st_size != size:  # a truncated or huge file is refused without reading it
        raise DataError(f"{name} file {path} is corrupted or not the official one "
                        f"({st.st_size} bytes, expected {size}). Delete it and {FETCH_HINT}.")
    try:
        got = sha256_of(path)
    except OSError as e:
        raise _unreadable(path, e) from e
    expected = SHA256[name][fname]
    if got != expected:
        raise DataError(
            f"{name} file {path} is corrupted or not the official one "
            f"(SHA-256 {got}, expected {expected}; {st.st_size} bytes). "
            f"Delete it and {FETCH_HINT}.")
    _verified[str(path)] = key
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


def _idx_shape(path, f, size):
    """Read and check an IDX header from the open file `f` of `size` bytes; return the shape."""
    head = f.read(4)
    if len(head) < 4 or head[:3] != b"\x00\x00\x08":
        raise DataError(f"{path} is not an IDX file of unsigned bytes (bad header)")
    ndim = head[3]
    if not 1 <= ndim <= MAX_IDX_DIMS:
        raise DataError(f"{path}: the header says {ndim} dimensions; IDX images and labels have "
                        f"1 to {MAX_IDX_DIMS}. Fetch the file again.")
    dims = f.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DataError(f"{path} is truncated inside its header ({size} bytes). Fetch it again.")
    shape = [int.from_bytes(dims[4 * i: 4 * i + 4], "big") for i in range(ndim)]
    if 0 in shape:
        raise DataError(f"{path}: the header gives an empty dimension (shape {shape}). "
                        f"Fetch the file again.")
    expected = 4 + 4 * ndim + math.prod(shape)  # Python ints: no overflow
    if size != expected:
        raise DataError(f"{path} is truncated or padded: {size} bytes, header says "
                        f"{expected} for shape {shape}. Fetch it again.")
    return shape


def read_idx(path):
    """Read an uncompressed IDX file (uint8 images or labels) into a tensor."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise DataError(f"{path} is not a regular file")
            shape = _idx_shape(path, f, st.st_size)
            data = f.read()
    except IsADirectoryError:
        raise DataError(f"{path} is not a regular file (a directory)") from None
    except OSError as e:
        raise _unreadable(path, e) from e
    if len(data) != math.prod(shape):
        raise DataError(f"{path} changed while it was read. Read it again.")
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(shape)


def load_split(name, train=True, root=None):
    """Return (X uint8 [N, 28, 28], y int64 [N]) of one verified split."""
    _check_name(name)
    prefix = "train" if train else "t10k"
    X = read_idx(verify_file(name, f"{prefix}-images-idx3-ubyte", root))
    y = read_idx(verify_file(name, f"{prefix}-labels-idx1-ubyte", root)).long()
    if X.shape[0] != y.shape[0]:
        raise DataError(f"{name} {prefix}: {X.shape[0]} images but {y.shape[0]} labels")
    return X, y


def resize_images(X, size):
    """Resize uint8 images [N, H, W] to size x size exactly as torchvision's Resize does (PIL)."""
    import numpy as np
    from PIL import Image
    from torchvision import transforms

    resize = transforms.Resize(size)
    out = [np.asarray(resize(Image.fromarray(x.numpy()))) for x in X.cpu()]
    return torch.from_numpy(np.stack(out)) if out else X.new_zeros(0, size, size)


def to_float(X, pad=0, resize=None):
    """uint8 images [N, H, W] -> float32 [N, 1, H', W'] in [0, 1]: resized first, then padded."""
    # the order of the classic path (Resize, ToTensor, Pad): resize=32, pad=2 gives 36x36
    if resize:
        X = resize_images(X, resize)
    X = X.unsqueeze(1).float().div_(255)
    if pad:
        X = F.pad(X, (pad, pad, pad, pad))
    return X


class TensorBatches:
    """A whole split in memory; yields (X, y) batches, shuffled by a seeded generator.

    Every batch is a copy: a learner's `X -= 0.5` inside a loop changes that batch only,
    never the stored split.
    """

    def __init__(self, X, y, batch_size, shuffle=False, seed=0):
        if not (torch.is_tensor(X) and torch.is_tensor(y)):
            raise ValueError(f"X and y must be tensors, got {type(X).__name__} and "
                             f"{type(y).__name__}: use torch.as_tensor(...)")
        if X.dim() == 0 or X.shape[0] != y.shape[0]:
            raise ValueError(f"X has {X.shape[0] if X.dim() else 0} samples but y has "
                             f"{len(y) if y.dim() else 0}: one label per image")
        if y.dim() != 1:
            raise ValueError(f"labels must be a 1-D tensor of class ids, one per image: got "
                             f"shape {list(y.shape)}; flatten [N, 1] labels with y.view(-1)")
        if y.is_floating_point() or y.dtype == torch.bool:
            raise ValueError(f"labels must be integer class ids, got {y.dtype}: convert them "
                             f"with y.long() (cross-entropy needs integer targets)")
        batch_size = whole_number("batch_size", batch_size)
        self.X, self.y, self.batch_size, self.shuffle = X, y, batch_size, shuffle
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
        else:  # a slice is a view of the split: clone it (cheap next to the forward pass)
            for i in range(0, n, b):
                yield self.X[i:i + b].clone(), self.y[i:i + b].clone()

    def to(self, device):
        """Move the tensors once to `device` (keeps the generator's state)."""
        self.X, self.y = self.X.to(device), self.y.to(device)
        return self


def default_num_workers(requested=None):
    """DataLoader workers: as requested (default 4, as the tutorials) but never above the cores."""
    cores = os.cpu_count() or 1
    requested = 4 if requested is None else whole_number("num_workers", requested, low=0)
    return min(requested, cores)


def _subset_indices(n, k, seed, what="subset"):
    if k is not None and k > n:
        raise ValueError(f"{what} asks for {k:,} images but the split has {n:,}: pass at most "
                         f"{n:,} (or None for the whole split)")
    if k is None or k == n:
        return None
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:k]


def _subset_sizes(subset):
    """(train, test) sizes from None, n (test gets n // 6) or a pair (None: the whole split)."""
    if subset is None:
        return None, None
    if isinstance(subset, (tuple, list)) and len(subset) == 2:
        return tuple(None if k is None else whole_number("subset size", k) for k in subset)
    if isinstance(subset, bool) or not isinstance(subset, numbers.Integral) or subset < 1:
        raise ValueError(f"subset must be None, a number of training images >= 1 or a pair "
                         f"(n_train, n_test), got {subset!r}")
    return int(subset), max(1, int(subset) // 6)


def _check_load_args(batch_size, resize, pad):
    whole_number("batch_size", batch_size)
    whole_number("pad", pad, low=0)
    if resize is not None:
        whole_number("resize", resize)


def load_data(name, batch_size, resize=None, pad=0, subset=None, fast=True, seed=0,
              num_workers=None, root=None):
    """Return (train_iter, test_iter) for `name`; `subset=n` or (n_train, n_test) for quick runs."""
    _check_name(name)
    _check_load_args(batch_size, resize, pad)
    sizes = _subset_sizes(subset)
    iters = []
    for train, k in zip((True, False), sizes):
        X, y = load_split(name, train, root)
        idx = _subset_indices(len(y), k, seed, f"subset ({'train' if train else 'test'})")
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
    """The tutorials' path: torchvision Dataset + ToTensor + DataLoader (kept for teaching)."""
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

