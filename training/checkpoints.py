"""Training checkpoints: their format, reading one back and loading a net's weights from it, and the file each
net exports to. Shared by train.py (which writes and resumes checkpoints) and export.py (which exports from them),
so neither imports the other for it.
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import torch

from .models import describe

CKPT_FORMAT = "neurmap-train-1"

EXPORT_NAMES = {"g-fast": "deblur.onnx", "g-fine": "deblur-fine.onnx", "m": "motion.onnx", "d": "discriminator.onnx",
                "g-refine": "refiner.onnx", "dn": "denoiser.onnx"}


class CheckpointError(RuntimeError):
    pass


def load_checkpoint(path: Path | str) -> dict:
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        kw = {"weights_only": False} if "weights_only" in inspect.signature(torch.load).parameters else {}
        ck = torch.load(path, map_location="cpu", **kw)  # our own checkpoints: plain dicts, lists, tensors
    except Exception as e:  # noqa: BLE001
        raise CheckpointError(f"checkpoint {path} cannot be read: {e}") from e
    if not isinstance(ck, dict) or ck.get("format") != CKPT_FORMAT:
        raise CheckpointError(f"{path} is not a NeurMAP training checkpoint (format {CKPT_FORMAT})")
    return ck


def load_net_state(net: torch.nn.Module, ck: dict, name: str, source: str = "checkpoint") -> None:
    nets = ck.get("nets", {})
    if name not in nets:
        raise CheckpointError(f"{source} holds {sorted(nets)}, not '{name}'")
    want, got = describe(net), nets[name]["arch"]
    if json.dumps(want, sort_keys=True) != json.dumps(got, sort_keys=True):
        raise CheckpointError(f"{source}: '{name}' was trained with another architecture: "
                              f"checkpoint {got} vs model {want}")
    try:
        net.load_state_dict(nets[name]["state"])
    except RuntimeError as e:
        raise CheckpointError(f"{source}: weights for '{name}' do not match the model: {e}") from e
