"""The one writer for every file the package writes: atomic, never over a file it did not write.

Every write goes through a temp file beside the destination, then one rename, so a reader sees
the old file or the new one, never half of one; a failure (a full disk, Ctrl-C, an error in the
caller's block) leaves the destination as it was. Temp files carry a marker only this module
writes (`.{name}.lenet_nb-{pid}-{8 random}.tmp`): clean-up never touches anything else.
A destination that exists is replaced only when `owner(path)` says the package wrote it (e.g. a
checkpoint written by save_checkpoint), or was written by this module in this process and not
changed since. An existing file keeps its mode; a symlink keeps pointing at the file written.
"""

import contextlib
import errno
import os
import re
import secrets
import shutil
import stat
import time
from pathlib import Path

STALE_SECONDS = 3600  # a temp file untouched this long belongs to no live writer
MARK = "lenet_nb"
_written = {}  # real path -> (inode, size, mtime_ns) of what this process wrote there


class NotOurs(FileExistsError):
    """The destination exists and the package did not write it: it is left alone."""


class ExplainedOSError(OSError):
    """An OSError whose text says what happened to which file and what to do."""

    def __init__(self, err, text):
        super().__init__(err.errno, text)
        self.filename, self.text = getattr(err, "filename", None), text

    def __str__(self):
        return self.text


def user_path(path, what="path", file=False):
    """`path` as a Path with `~` expanded; ValueError for an empty or non-path value, and with
    file=True for a folder's name ('out/', '.')."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"{what} must be a file path (text or pathlib.Path), got "
                         f"{type(path).__name__} {path!r}")
    text = os.fspath(path)
    if text.strip() == "":
        raise ValueError(f"{what} is empty: give a file name, e.g. 'checkpoints/net.pt'")
    if file and (text.endswith(("/", os.sep)) or Path(text).name in ("", ".", "..")):
        raise ValueError(f"{what} {text!r} names a folder: give a file name inside it, e.g. "
                         f"{os.path.join(text, 'net.pt')!r}")
    return Path(os.path.expanduser(text))


def size_text(n):
    """A byte count for people: '912 bytes', '48.1 kB', '55.0 MB'."""
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return None  # not reached


def _free(folder):
    try:
        return size_text(shutil.disk_usage(folder).free)
    except OSError:
        return "unknown"


def symlink_loop(path):
    """'a -> b -> a' for the first symbolic-link loop on the way to `path` (or '')."""
    path = Path(os.path.abspath(path))
    for part in [*reversed(path.parents), path]:
        seen, link = [], part
        while link.is_symlink() and str(link) not in seen:
            seen.append(str(link))
            link = Path(os.path.abspath(link.parent / os.readlink(link)))
        if link.is_symlink():
            return " -> ".join(seen + [str(link)])
    return ""


def explain_os_error(err, path, doing):
    """An ExplainedOSError saying, by errno, what `doing` (e.g. 'writing') `path` ran into."""
    path, code = Path(path), err.errno
    reason = err.strerror or str(err)
    chain = symlink_loop(path) if code in (errno.ELOOP, errno.EEXIST, errno.ENOTDIR) else ""
    if chain or code == errno.ELOOP:
        text = (f"{path} cannot be reached: a symbolic link points back to itself"
                f"{f' ({chain})' if chain else ''}. Remove or fix the link")
    elif code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        text = (f"no space left on the disk holding {path.parent} while {doing} {path.name} "
                f"({_free(path.parent)} free). Nothing was changed: free some space, or use a "
                f"folder on another disk")
    elif code in (errno.EACCES, errno.EPERM):
        text = (f"{doing} {path} is not allowed ({reason}): make the folder yours "
                f"(`chmod u+rw {path.parent}`, or ask its owner), or use a folder of your own")
    elif code == errno.EROFS:
        text = f"{path} is on a read-only file system: use a folder on a writable disk"
    elif code in (errno.ENOTDIR, errno.EEXIST):
        text = (f"{doing} {path} failed: a file stands where a folder of that path should be; "
                f"move it away or choose another path")
    elif code == errno.EISDIR:
        text = f"{path} is a folder, not a file: give a file name inside it"
    else:
        text = f"{doing} {path} failed: {reason}"
    return ExplainedOSError(err, text)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _temp_pattern(name):
    return re.compile(rf"^\.{re.escape(name)}\.{MARK}-(\d+)-[0-9a-f]{{8}}\.tmp$")


def remove_stale_temps(dest):
    """Delete this module's temp files for `dest` whose writer is gone; return their paths.

    Only names this module makes count (`.{name}.lenet_nb-{pid}-{8 hex}.tmp`), only regular
    files of this user, and only when the writing process is dead or the file is an hour old.
    """
    dest = Path(dest)
    pattern, removed, now = _temp_pattern(dest.name), [], time.time()
    try:
        entries = list(os.scandir(dest.parent))
    except OSError:
        return removed
    for entry in entries:
        m = pattern.match(entry.name)
        if not m:
            continue
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
                continue
            if not _pid_alive(int(m.group(1))) or now - st.st_mtime > STALE_SECONDS:
                os.remove(entry.path)
                removed.append(Path(entry.path))
    return removed


def _umask():
    # os.umask can only be read by setting it; set it straight back
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fingerprint(st):
    return st.st_ino, st.st_size, st.st_mtime_ns


def _check_owner(dest, owner):
    """NotOurs unless `dest` is absent, ours by `owner`, or what this process last wrote."""
    try:
        st = dest.stat()
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        raise explain_os_error(IsADirectoryError(errno.EISDIR, "Is a directory", str(dest)),
                               dest, "writing")
    if owner is None or _written.get(str(dest)) == _fingerprint(st) or owner(dest):
        return
    ours = getattr(owner, "ours", "a file lenet_nb wrote")
    raise NotOurs(f"{dest} exists and is not {ours}. Nothing was changed: choose another path, "
                  f"or move that file away if you no longer need it")


def _target(dest):
    """The real file behind `dest` (a symlink is followed, so the link itself stays)."""
    dest = user_path(dest, "the destination", file=True)
    return Path(os.path.realpath(dest)) if dest.is_symlink() else dest


def check_writable(dest, *, owner=None, what="path"):
    """Make sure `dest` can be written (before long work); return it as a Path (~ expanded).

    Creates missing parent folders; refuses a folder, a parent that is a file, a file the
    package did not write (by `owner`) and a folder that cannot be written, with the reason.
    """
    target = _target(user_path(dest, what, file=True))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _check_owner(target, owner)
        probe = target.parent / f".{target.name}.{MARK}-{os.getpid()}-{secrets.token_hex(4)}.tmp"
        probe.touch(exist_ok=False)
        probe.unlink()
    except (NotOurs, ExplainedOSError):
        raise
    except OSError as e:
        raise explain_os_error(e, target, "writing") from None
    return Path(os.path.expanduser(os.fspath(dest)))


@contextlib.contextmanager
def atomic_write(dest, *, owner=None):
    """Yield a temp path next to `dest`; after the block, rename it over `dest`.

    `owner(path) -> bool` says whether an existing `dest` is the package's to replace (None:
    any file may be replaced). The new file gets the old one's mode (open()'s for a new file);
    missing parent folders are created.
    """
    target = _target(dest)
    tmp = target.parent / f".{target.name}.{MARK}-{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _check_owner(target, owner)
            remove_stale_temps(target)
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except (NotOurs, ExplainedOSError):
            raise
        except OSError as e:
            raise explain_os_error(e, target, "writing") from None
        yield tmp
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()  # what open() would give a new file
        os.chmod(tmp, mode)
        _check_owner(target, owner)  # again: the block may have taken minutes
        os.replace(tmp, target)
        _written[str(target)] = _fingerprint(target.stat())
    except (ExplainedOSError, NotOurs):
        raise
    except OSError as e:
        raise explain_os_error(e, target, "writing") from None
    finally:
        with contextlib.suppress(OSError):  # renamed, never made, or unreachable
            os.remove(tmp)


def write_bytes(dest, data, *, owner=None):
    """Write `data` to `dest` atomically (see atomic_write); return the destination Path."""
    with atomic_write(dest, owner=owner) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())  # the bytes are on disk before the rename makes them the file
    return user_path(dest)


def write_text(dest, text, *, owner=None, encoding="utf-8"):
    """Write `text` to `dest` atomically (see atomic_write); return the destination Path."""
    return write_bytes(dest, text.encode(encoding), owner=owner)


def write_notebook(dest, nb, *, owner=None):
    """Write a notebook (nbformat node) to `dest` atomically; return the destination Path."""
    import nbformat

    return write_text(dest, nbformat.writes(nb), owner=owner)


def remove(path, *, owner=None):
    """Delete `path` if it exists and the package wrote it (by `owner`); True if deleted."""
    target = _target(path)
    try:
        _check_owner(target, owner)
        os.remove(target)
    except FileNotFoundError:
        return False
    except (NotOurs, ExplainedOSError):
        raise
    except OSError as e:
        raise explain_os_error(e, target, "removing") from None
    _written.pop(str(target), None)
    return True


def copy_file(src, dest, *, owner=None):
    """Copy `src` to `dest` through the one writer (atomic, `owner` as in atomic_write)."""
    return write_bytes(dest, Path(src).read_bytes(), owner=owner)


GENERATED = f".{MARK}-generated"  # the marker of a folder the package fills and may empty


def generated_folder(folder, what="this", made_before=None):
    """`folder`, created if missing, as one the package fills and may empty (a marker file
    says so); NotOurs for a folder that already holds files without the marker, unless
    `made_before(folder)` recognises what the package made there before it left markers."""
    folder = user_path(folder, "the output folder")
    marker = folder / GENERATED
    if (folder.is_dir() and not marker.exists() and any(folder.iterdir())
            and not (made_before and made_before(folder))):
        raise NotOurs(f"{folder} holds files lenet_nb did not write: {what} goes into a folder "
                      f"of its own, emptied on every run; choose a new or empty folder. Nothing "
                      f"was changed")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError as e:
        raise explain_os_error(e, folder, "creating") from None
    return folder


def empty_generated(folder):
    """Remove `folder` and all in it, if it lies in (or is) a folder made by generated_folder."""
    folder = user_path(folder, "the folder")
    if not any((p / GENERATED).is_file() for p in (folder, *folder.parents)):
        raise NotOurs(f"{folder} is not in a folder lenet_nb generated: nothing was removed")
    shutil.rmtree(folder, ignore_errors=True)


def unchanged_since(path):
    """An owner predicate: True while `path` has not changed since this call (or is absent)."""
    path = Path(path)
    try:
        before = _fingerprint(path.stat())
    except FileNotFoundError:
        before = None

    def unchanged(p):
        try:
            return _fingerprint(Path(p).stat()) == before
        except FileNotFoundError:
            return before is None

    unchanged.ours = ("the file this program read: it changed on disk since (your changes "
                      "are kept)")
    return unchanged
