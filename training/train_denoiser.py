"""Training of the learned prior (training/denoiser.py) on luminance crops of the photo bundle with Gaussian
noise of a random level, MSE loss, Adam with a cosine schedule over a wall-clock budget, atomic checkpoints
(same format as training/train.py, so `training.export --ckpt` exports it) and a fixed seeded validation.

    /usr/bin/python3 -m training.train_denoiser --name dn --minutes 40 --export models
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .data import DATA, DataError, PhotoSet
from .denoiser import NAME, Denoiser, noisy_input
from .checkpoints import CKPT_FORMAT, CheckpointError, load_checkpoint
from .budget_loop import run_budgeted
from .train import RUNS, atomic_save

SIGMA_MAX = 0.2  # 51/255: the deconvolution's first plug-and-play steps see more than sensor noise
VAL_SIGMAS = (5 / 255, 15 / 255, 30 / 255)


def luma(rgb: torch.Tensor) -> torch.Tensor:
    """N×3×H×W sRGB values → N×1×H×W luminance with the engine's YCbCr weights (deblur-photo.ts)."""
    w = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (rgb * w).sum(1, keepdim=True)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / F.mse_loss(a.clamp(0, 1), b).clamp_min(1e-10)))


def validate(net: Denoiser, val: torch.Tensor) -> dict:
    net.eval()
    out = {}
    with torch.no_grad():
        for s in VAL_SIGMAS:
            gen = torch.Generator().manual_seed(round(s * 255))
            x = noisy_input(val, torch.full((val.shape[0],), s), gen)
            out[f"psnr_{round(s * 255)}"] = round(psnr(net(x), val), 3)
            out[f"psnr_noisy_{round(s * 255)}"] = round(psnr(x[:, :1], val), 3)
    net.train()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", default="dn")
    ap.add_argument("--minutes", type=float, default=40)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--channels", type=int, default=24)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    ap.add_argument("--resume", type=Path)
    ap.add_argument("--export", type=Path, help="export the final weights to this models folder")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--limit", type=int, help="at most this many training photos (tests)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        train = PhotoSet.split("train", args.data, args.limit)
        valset = PhotoSet.split("val", args.data, args.limit)
    except DataError as e:
        print(f"train_denoiser: error: {e}", file=sys.stderr)
        return 2
    run_dir = RUNS / args.name
    net = Denoiser(args.channels, args.layers)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    step, seconds = 0, 0.0
    if args.resume:
        try:
            ck = load_checkpoint(args.resume)
            got = ck.get("nets", {}).get(NAME, {}).get("arch")
            if got != net.arch():
                raise CheckpointError(f"{args.resume} holds {got}, not {net.arch()}")
        except CheckpointError as e:
            print(f"train_denoiser: error: {e}", file=sys.stderr)
            return 2
        net.load_state_dict(ck["nets"][NAME]["state"])
        opt.load_state_dict(ck["opt"])
        step, seconds = ck["step"], ck["train_seconds"]
    val = luma(valset.batch(np.random.RandomState(7), 24, 128, augment=False))
    rng = np.random.RandomState(1000 + step)

    def save(step: int, seconds: float) -> Path:
        path = run_dir / "last.pt"
        atomic_save({"format": CKPT_FORMAT, "step": step, "train_seconds": seconds,
                     "nets": {NAME: {"arch": net.arch(), "state": net.state_dict()}}, "opt": opt.state_dict(),
                     "config": vars(args) | {"resume": None, "export": None, "data": None}}, path)
        return path

    def loss_at(step: int) -> torch.Tensor:
        clean = luma(train.batch(rng, args.batch, args.crop))
        # σ = SIGMA_MAX·u²: most steps at the low levels where plug-and-play ends (about the photo's own noise)
        sigma = torch.from_numpy(SIGMA_MAX * rng.uniform(0, 1, args.batch) ** 2).float()
        return F.mse_loss(net(noisy_input(clean, sigma, torch.Generator().manual_seed(step))), clean)

    step, seconds = run_budgeted(opt, loss_at, lr=args.lr, minutes=args.minutes, step=step, seconds=seconds, save=save,
                                 report=lambda: validate(net, val), every=200, log=run_dir / "log.jsonl")
    if args.export:
        from .export import export_net
        export_net(net, args.export / "denoiser.onnx", {"train_step": step, "train_minutes": round(seconds / 60, 2)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
