"""Atomic writes that leave ordinary file modes, and removal of temp files a killed run left."""

import contextlib
import os
import re
import stat
import tempfile
import time
from pathlib import Path

STALE_SECONDS = 3600  # a temp file untouched this long belongs to no live writer


def _umask():
    # os.umask can only be read by setting it; set it straight back
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _is_stale(entry, pid, now):
    """True for a temp file of ours (same owner) whose writer is gone."""
    st = entry.stat(follow_symlinks=False)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
        return False
    if pid is not None and not _pid_alive(pid):
        return True
    return now - st.st_mtime > STALE_SECONDS


def remove_stale_temps(dest):
    """Delete temp files `.{name}.*` next to `dest` left by a killed writer; return their paths."""
    dest = Path(dest)
    # ours: `.{name}.{pid}.{random}.tmp` (atomic_write), or `.{name}.{random}` (before it)
    pattern = re.compile(rf"^\.{re.escape(dest.name)}\.(?:(\d+)\.\S+\.tmp|[\w-]{{8}})$")
    removed, now = [], time.time()
    try:
        entries = list(os.scandir(dest.parent))
    except OSError:
        return removed
    for entry in entries:
        m = pattern.match(entry.name)
        if not m:
            continue
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            if _is_stale(entry, int(m.group(1)) if m.group(1) else None, now):
                os.remove(entry.path)
                removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_write(dest):
    """Yield a temp path next to `dest`, then give it open()'s mode and rename it over `dest`."""
    # a reader never sees a half-written file; a failure leaves `dest` as it was
    dest = Path(dest)
    remove_stale_temps(dest)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.{os.getpid()}.",
                               suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600: other users could not read it
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
