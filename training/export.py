"""Export G / M / D to ONNX (opset 17, dynamic height and width, NCHW float32 in [0, 1], "input" → "output").

    /usr/bin/python3 -m training.export --ckpt training/runs/cpu1/last.pt --out models
    /usr/bin/python3 -m training.export --net d --out models            # untrained D for the in-app stage

Checks every node's op_type against src-main/engine/graph/supported-ops.json (clear error otherwise),
checks ONNX Runtime parity (max abs < 1e-4) when onnxruntime is importable, and always writes
<model>.io.json beside the model: a seeded 1×3×32×48 input and PyTorch's output, for the TypeScript test.
"""
from __future__ import annotations

import argparse
import inspect
import io
import json
import sys
from pathlib import Path

import torch

from .atomic import atomic_write_bytes
from .checkpoints import EXPORT_NAMES, CheckpointError, load_checkpoint, load_net_state
from .models import build, describe

REPO = Path(__file__).resolve().parents[1]
SUPPORTED_OPS = REPO / "src-main" / "engine" / "graph" / "supported-ops.json"
OPSET = 17
IO_SHAPE = (1, 3, 32, 48)
TOLERANCE = 1e-4


class ExportError(RuntimeError):
    pass


def supported_ops() -> set[str]:
    return set(json.loads(SUPPORTED_OPS.read_text())["ops"])


def onnx_bytes(net: torch.nn.Module) -> bytes:
    net = net.eval()
    m = getattr(net, "size_multiple", 16)
    c = getattr(net, "in_channels", 3)
    dummy = torch.rand(1, c, 2 * m, 3 * m, generator=torch.Generator().manual_seed(0))
    kw = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kw["dynamo"] = False  # the TorchScript exporter (PyTorch 2.x defaults to dynamo)
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(net, dummy, buf, opset_version=OPSET, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {2: "height", 3: "width"}, "output": {2: "height", 3: "width"}},
                          do_constant_folding=True, **kw)
    return buf.getvalue()


def check_ops(model_bytes: bytes, allowed: set[str] | None = None) -> list[str]:
    """op_types used; raises ExportError naming any op outside the supported list."""
    try:
        import onnx
    except ImportError as e:  # pragma: no cover - onnx is there wherever export runs
        raise ExportError("the onnx package is needed to check exported graphs (apt install python3-onnx)") from e
    allowed = allowed if allowed is not None else supported_ops()
    model = onnx.load_from_string(model_bytes)
    if model.graph.node and any(o.domain in ("", "ai.onnx") and o.version != OPSET for o in model.opset_import):
        raise ExportError(f"graph is not opset {OPSET}: {[(o.domain, o.version) for o in model.opset_import]}")
    used = sorted({n.op_type for n in model.graph.node})
    bad = [op for op in used if op not in allowed]
    if bad:
        raise ExportError(f"exported graph uses operators outside {SUPPORTED_OPS.name}: {', '.join(bad)}")
    return used


def io_reference(net: torch.nn.Module) -> dict:
    n, _, h, w = IO_SHAPE
    x = torch.rand(n, getattr(net, "in_channels", 3), h, w, generator=torch.Generator().manual_seed(1234))
    with torch.no_grad():
        y = net.eval()(x)
    return {"input": {"shape": list(x.shape), "data": [round(float(v), 8) for v in x.flatten()]},
            "output": {"shape": list(y.shape), "data": [float(v) for v in y.flatten()]},
            "tolerance": TOLERANCE, "seed": 1234}


def ort_parity(model_bytes: bytes, ref: dict) -> float | None:
    """Max abs difference between ONNX Runtime and PyTorch on the reference input; None without onnxruntime."""
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError:
        return None
    sess = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    x = np.asarray(ref["input"]["data"], np.float32).reshape(ref["input"]["shape"])
    y = sess.run(["output"], {"input": x})[0]
    want = np.asarray(ref["output"]["data"], np.float32).reshape(ref["output"]["shape"])
    if y.shape != want.shape:
        raise ExportError(f"ONNX Runtime output shape {y.shape} != PyTorch {want.shape}")
    return float(np.abs(y - want).max())


def export_net(net: torch.nn.Module, path: Path, meta: dict | None = None) -> dict:
    """Export, check ops, check ORT parity if possible, write PATH and PATH-without-.onnx + .io.json."""
    net = net.cpu().eval()
    data = onnx_bytes(net)
    ops = check_ops(data)
    ref = io_reference(net)
    # the io reference input must run through the exported model at a size other than the dummy's
    diff = ort_parity(data, ref)
    if diff is not None and diff >= TOLERANCE:
        raise ExportError(f"ONNX Runtime and PyTorch disagree on {path.name}: max abs {diff:.2e} ≥ {TOLERANCE}")
    path = Path(path)
    atomic_write_bytes(path, data)
    info = {"model": path.name, "arch": describe(net), "opset": OPSET, "ops": ops,
            "size_multiple": getattr(net, "size_multiple", 1), "ort_max_abs_diff": diff, **(meta or {})}
    ref = {**info, **ref}
    io_path = path.with_suffix("").with_suffix(".io.json") if path.suffix == ".onnx" else Path(str(path) + ".io.json")
    atomic_write_bytes(io_path, json.dumps(ref).encode())
    print(json.dumps({k: v for k, v in info.items() if k != "arch"}), flush=True)
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", help="training checkpoint (exports every net in it, or --net)")
    ap.add_argument("--net", action="append", help="g-fast, g-fine, m or d (repeatable)")
    ap.add_argument("--out", type=Path, default=REPO / "models")
    args = ap.parse_args(argv)
    try:
        ck = load_checkpoint(args.ckpt) if args.ckpt else None
        names = args.net or (list(ck["nets"]) if ck else None)
        if not names:
            ap.error("give --ckpt or --net")
        for n in names:
            net = build(n)
            meta = {}
            if ck:
                load_net_state(net, ck, n, source=f"checkpoint {args.ckpt}")
                meta = {"train_step": ck["step"], "train_minutes": round(ck["train_seconds"] / 60, 2)}
            export_net(net, args.out / EXPORT_NAMES[n], meta)
    except (CheckpointError, ExportError, ValueError) as e:
        print(f"export: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
