"""Quick cost probes of the synthesis choices (seconds per batch on this machine).

    /usr/bin/python3 -m training.probes [--device cuda] [--crop 128] [--batch 8]
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from . import blur as B


def timeit(fn, reps: int = 3) -> float:
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    a = ap.parse_args()
    torch.set_flush_denormal(True)
    dev = torch.device(a.device)
    base = dict(p_noise=0.0, p_jpeg=0.0, p_none=0.0)
    variants = {
        "linear fields, pixel values, no noise/JPEG, margin 0": dict(base, p_shake=0.0, p_linear_light=0.0),
        "+ linear light & highlights": dict(base, p_shake=0.0, p_linear_light=1.0),
        "+ margin 16 (blur a larger crop, cut the centre)": dict(base, p_shake=0.0, p_linear_light=1.0, margin=16),
        "camera shake only (margin 16)": dict(base, p_shake=1.0, p_linear_light=1.0, margin=16),
        "+ noise (all)": dict(base, p_shake=1.0, p_linear_light=1.0, margin=16, p_noise=1.0),
        "+ JPEG via PIL (all)": dict(base, p_shake=1.0, p_linear_light=1.0, margin=16, p_noise=1.0, p_jpeg=1.0),
        "training mix (defaults, margin 16)": dict(margin=16),
    }
    out = {}
    for name, kw in variants.items():
        cfg = B.SynthConfig(**kw)
        x = torch.rand(a.batch, 3, a.crop + 2 * cfg.margin, a.crop + 2 * cfg.margin, device=dev)
        gen = torch.Generator().manual_seed(0)
        out[name] = round(timeit(lambda: B.synthesize(x, gen, cfg)), 4)
        print(f"{out[name]:8.3f} s  {name}", flush=True)
    print(json.dumps({"device": str(dev), "crop": a.crop, "batch": a.batch, "seconds_per_batch": out}))


if __name__ == "__main__":
    main()
