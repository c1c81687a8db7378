"""Checkpoints: written atomically with the model's description, loaded safely, all or nothing."""

import pickle
import re
from pathlib import Path

import torch

from lenet_nb.files import atomic_write
from lenet_nb.models import describe_model


def save_checkpoint(net, path, **extra):
    """Write the weights, the model's description and plain extras atomically; return path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = {**extra, "architecture": describe_model(net)}
    with atomic_write(path) as tmp:
        torch.save({"state_dict": net.state_dict(), "extra": extra}, tmp)
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
    path = Path(path)
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
