"""Writes tests/fixtures/synth-parity/: the blur contract's reference data for the TypeScript twin.

    /usr/bin/python3 -m training.parity_fixture            # (re)write the fixture
    /usr/bin/python3 -m training.parity_fixture --check    # exit 1 if the fixture differs from the code

Files (little-endian float32, row-major):
  sharp.bin            H×W×3 sRGB in [0, 1]  (HWC, as image libraries hold pixels)
  offsets_linear.bin   K×H×W×2 (dx, dy) px: t_k · f(p) for a smooth linear field
  offsets_shake.bin    K×H×W×2 (dx, dy) px: a camera-shake trajectory (with rotation)
  blur_{linear,shake}_{lin,pix}.bin   H×W×3: linear light (gain, threshold in meta) / pixel values
  motion_{linear,shake}.bin            H×W×2 canonical motion target (units of 20 px)
  meta.json            shapes, parameters, the trajectory and the field's definition
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from . import blur as B

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "synth-parity"
H, W = 40, 48
GAIN, THRESHOLD = 3.0, 0.9


def build() -> dict[str, np.ndarray | dict]:
    gen = torch.Generator().manual_seed(20240601)
    # a sharp image with edges, texture and a few saturated highlights
    yy, xx = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32), indexing="ij")
    base = torch.stack([0.5 + 0.4 * torch.sin(xx / 3.0), 0.5 + 0.4 * torch.cos(yy / 4.0), (xx + yy) / (H + W)], 0)
    base = (base + 0.15 * torch.rand(3, H, W, generator=gen)).clamp(0, 1)
    base[:, 10:14, 30:34] = 1.0            # saturated highlight (lum > threshold)
    base[:, 25, 12] = torch.tensor([1.0, 0.98, 0.95])
    base[:, 30:38, 5:9] = 0.02
    sharp = base.unsqueeze(0)
    # linear field: constant part + smooth variation
    f = B.random_linear_field(gen, 1, H, W, max_half=6.0, min_half=3.0, power=1.0, variation=0.3)
    k_lin = B.steps_for(float(f.norm(dim=-1).max()))
    off_lin = B.linear_offsets(f, k_lin)
    traj, k_shake = B.random_shake(gen, 1, H, W, max_half=5.0, min_half=4.0, power=1.0, max_rot_deg=2.0)
    off_shake = B.shake_offsets(traj, H, W)
    out = {"sharp": sharp[0].permute(1, 2, 0), "offsets_linear": off_lin[0], "offsets_shake": off_shake[0]}
    for name, off in (("linear", off_lin), ("shake", off_shake)):
        out[f"blur_{name}_lin"] = B.blur_linear_light(sharp, off, GAIN, THRESHOLD)[0].permute(1, 2, 0)
        out[f"blur_{name}_pix"] = B.blur_pixel_values(sharp, off)[0].permute(1, 2, 0)
        out[f"motion_{name}"] = B.motion_from_offsets(off)[0].permute(1, 2, 0)
    arrays = {k: v.detach().numpy().astype("<f4") for k, v in out.items()}
    meta = {
        "height": H, "width": W, "channels": 3, "dtype": "float32 little-endian, row-major",
        "files": {k: {"file": f"{k}.bin", "shape": list(v.shape)} for k, v in arrays.items()},
        "k_linear": k_lin, "k_shake": k_shake,
        "linear_light": {"gain": GAIN, "threshold": THRESHOLD, "luma": list(B.LUMA),
                         "steps": "lin = srgb_to_linear(S); lin[lum(lin) > threshold] *= gain; blur; clip [0,1]; "
                                  "linear_to_srgb"},
        "pixel_values": "blur the sRGB values directly, no boost, no clip",
        "sampling": "mean over k of bilinear samples at (x + dx_k, y + dy_k), pixel centres at integers, "
                    "coordinates clamped to [0, W-1] x [0, H-1] (grid_sample align_corners=True, border)",
        "linear_t": "t_k = linspace(+1, -1, K); offsets_k = t_k * f(p)",
        "shake": "offsets_k(p) = R(theta_k)(p - c) + c + (x_k, y_k) - p, c = ((W-1)/2, (H-1)/2)",
        "shake_trajectory_x_y_theta": traj[0].tolist(),
        "motion_target": "principal axis of the K offsets (population covariance, largest eigenvalue lam), "
                         "half = sqrt(3 * lam * (K-1)/(K+1)), m = half * axis / 20, canonical sign "
                         "(v < 0, or v == 0 and u < 0 -> negate)",
        "tolerance_in_255ths": 1,
    }
    return {**arrays, "meta": meta}


def write(dst: Path = FIXTURE) -> None:
    data = build()
    dst.mkdir(parents=True, exist_ok=True)
    for k, v in data.items():
        if k == "meta":
            (dst / "meta.json").write_text(json.dumps(v, indent=1) + "\n")
        else:
            (dst / f"{k}.bin").write_bytes(v.tobytes())
    total = sum(p.stat().st_size for p in dst.iterdir())
    print(f"wrote {dst} ({total / 1024:.0f} KiB)")


def compare(dst: Path = FIXTURE, atol: float = 1e-6) -> list[str]:
    """Names of fixture files that differ from what the code produces now."""
    data = build()
    bad = []
    for k, v in data.items():
        if k == "meta":
            continue
        p = dst / f"{k}.bin"
        if not p.exists():
            bad.append(f"{k}: missing")
            continue
        got = np.frombuffer(p.read_bytes(), dtype="<f4")
        if got.size != v.size or np.abs(got - v.ravel()).max() > atol:
            bad.append(f"{k}: differs")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args(argv)
    if a.check:
        bad = compare()
        print("fixture matches the code" if not bad else "fixture differs: " + "; ".join(bad))
        return 1 if bad else 0
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
