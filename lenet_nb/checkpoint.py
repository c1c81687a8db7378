"""Checkpoints: written atomically with the model's description, loaded safely, all or nothing.

Whatever `save_checkpoint` accepts, `load_checkpoint` loads: the file's bytes are read back with
weights_only=True before the disk is touched, and an extra that would not load (a History, a
NumPy number, a Path) is refused at save time, naming its key and the plain value to pass.
"""

import io
import math
import pickle
import re
from pathlib import Path

import torch

from lenet_nb.files import user_path, write_bytes
from lenet_nb.models import describe_model

RESERVED = ("architecture",)  # stored by save_checkpoint itself


def is_checkpoint(path):
    """True when `path` holds a checkpoint (a dict of weights and extras) torch can load safely."""
    try:
        _read_checkpoint(Path(path))
    except (OSError, ValueError):
        return False
    return True


is_checkpoint.ours = "a checkpoint written by save_checkpoint (fit(..., checkpoint=...))"


def _plain_hint(value):
    """What to pass instead of an extra that torch's safe loader refuses."""
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    if type(value).__name__ == "History":
        return "a lenet_nb History: pass list(history), or one column, history.column('test_acc')"
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return f"a {kind}: pass {'int' if 'int' in kind else 'float'}(value)"
    if isinstance(value, Path):
        return "a Path: pass str(path)"
    if isinstance(value, torch.nn.Module):
        return "a network: save its weights with its own checkpoint, not as an extra"
    return (f"a {kind}, which the safe loader (weights_only=True) does not rebuild: pass plain "
            f"values (numbers, text, lists, dicts, tensors)")


def _same(a, b):
    """Equal values of equal types (NaN equals NaN; tensors by dtype, shape and values)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and bool(
            torch.equal(a, b) or (a.is_floating_point() and torch.equal(a.isnan(), b.isnan())
                                  and torch.equal(a.nan_to_num(0), b.nan_to_num(0))))
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _round_trip(payload):
    """The bytes torch.save writes for `payload` and what weights_only loading gives back."""
    buf = io.BytesIO()
    torch.save(payload, buf)
    data = buf.getvalue()
    return data, torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def _loads_back(value):
    try:
        return _same(value, _round_trip(value)[1])
    except Exception:  # noqa: BLE001 - torch's refusals vary by type
        return False


def _culprit(value, where):
    """(where, value) of the innermost part of `value` that does not load back as saved."""
    if _loads_back(value):
        return None
    if isinstance(value, dict):
        parts = [(f"{where}[{k!r}]", v) for k, v in value.items()]
    elif isinstance(value, (list, tuple, set, frozenset)) and type(value).__name__ != "History":
        parts = [(f"{where}[{i}]", v) for i, v in enumerate(value)]
    else:
        parts = []
    for inner_where, inner in parts:
        found = _culprit(inner, inner_where)
        if found:
            return found
    return where, value


def _unloadable(extra):
    """ValueError naming the first extra (and the part of it) that would not load as saved."""
    for key, value in extra.items():
        found = _culprit(value, f"extra {key!r}")
        if found is None:
            continue
        where, bad = found
        try:
            back = _round_trip(bad)[1]
        except Exception:  # noqa: BLE001
            return ValueError(f"{where} cannot be stored in a checkpoint: it is "
                              f"{_plain_hint(bad)}. Nothing was written.")
        return ValueError(f"{where} would not load as saved ({type(bad).__name__} "
                          f"{bad!r:.60} comes back as {type(back).__name__}): pass plain "
                          f"values (numbers, text, lists, dicts, tensors). Nothing was written.")
    return None


def save_checkpoint(net, path, **extra):
    """Write the weights, the model's description and plain extras atomically; return path.

    Refused before anything is written: an extra that `load_checkpoint` would not give back as
    saved (named, with the plain value to pass), the reserved key 'architecture', and a path
    holding a file that is not a checkpoint (it is left alone).
    """
    path = user_path(path, "the checkpoint path", file=True)
    reserved = [k for k in extra if k in RESERVED]
    if reserved:
        raise ValueError(f"extra {reserved[0]!r} is reserved: save_checkpoint stores the "
                         f"network's description under it. Use another name.")
    payload = {"state_dict": net.state_dict(),
               "extra": {**extra, "architecture": describe_model(net)}}
    try:
        data, back = _round_trip(payload)
        ok = _same(back["extra"], payload["extra"])
    except Exception:  # noqa: BLE001 - find which extra is to blame
        ok = False
    if not ok:
        raise _unloadable(extra) or ValueError("this checkpoint would not load back as saved; "
                                               "nothing was written")
    write_bytes(path, data, owner=is_checkpoint)
    return path


def _read_checkpoint(path):
    """torch.load(weights_only=True) of `path`; ValueError naming the file if it is none."""
    bad = f"{path} is not a valid checkpoint"
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}: train with fit(..., checkpoint="
                                f"'{path}') first")
    if not path.is_file():
        raise ValueError(f"{bad}: it is not a file (a directory?)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - truncated, empty, text, pickles: torch's errors vary
        # torch's own message suggests weights_only=False, which would run the file's code:
        # never shown (from None), only the name of what the file wanted to call
        refused = re.search(r"Unsupported global: GLOBAL (\S+)", str(e))
        if isinstance(e, pickle.UnpicklingError) and refused:
            raise ValueError(f"{bad}: it refers to {refused.group(1)}, and loading that could "
                             f"run code; only tensors and plain values are loaded. Load only "
                             f"checkpoints written by save_checkpoint.") from None
        raise ValueError(f"{bad} (truncated, empty or not written by torch.save; "
                         f"{type(e).__name__}). Save it again with save_checkpoint or "
                         f"fit(..., checkpoint=...).") from None
    if (not isinstance(state, dict) or not isinstance(state.get("state_dict"), dict)
            or not isinstance(state.get("extra", {}), dict)
            or not all(torch.is_tensor(v) for v in state["state_dict"].values())):
        raise ValueError(f"{bad}: it is not a checkpoint written by "
                         f"lenet_nb.train.save_checkpoint")
    return state


def _misfit(net, weights):
    """What keeps `weights` from loading into `net` (empty when they fit exactly)."""
    own = net.state_dict()
    missing = [k for k in own if k not in weights]
    unexpected = [k for k in weights if k not in own]
    shapes = [f"{k} is {list(v.shape)} in the file, {list(own[k].shape)} here"
              for k, v in weights.items() if k in own and v.shape != own[k].shape]
    found = [f"missing {missing}"] if missing else []
    found += [f"not in this network {unexpected}"] if unexpected else []
    return found + shapes


def load_checkpoint(net, path):
    """Load weights saved by `save_checkpoint` safely (weights_only=True); return the extras.

    All or nothing: the keys, shapes and stored model description are checked before any
    weight is copied. Checkpoints from before descriptions were stored load by keys and shapes.
    """
    path = user_path(path, "the checkpoint path")
    state = _read_checkpoint(path)
    extra = state.get("extra", {})
    saved, here = extra.get("architecture"), describe_model(net)
    fix = "build the network the checkpoint was saved from (or train this one anew)"
    if saved is not None and saved != here:
        raise ValueError(f"checkpoint {path} does not fit this network: it was saved from\n  "
                         f"{saved}\nbut this network is\n  {here}\nNothing was loaded; {fix}.")
    found = _misfit(net, state["state_dict"])
    if found:
        raise ValueError(f"checkpoint {path} does not fit this network ({here}): "
                         f"{'; '.join(found)}. Nothing was loaded; {fix}.")
    net.load_state_dict(state["state_dict"])
    return extra
