"""Training of G as the refiner of the MAP core's result (models.py "g-refine": MAP output and blurry photo in,
MAP output + residual out) on the cache the engine writes (tools/refiner-cache: synthetic blurry crops of the train
photos with the MAP core's own output). L1 + 0.1·L1 of FFT magnitudes, Adam with a cosine schedule over a
wall-clock budget, flips and 90° turns, atomic checkpoints in the format of training/train.py (so
`training.export --ckpt` exports it), and a held-out tenth of the cache (by hash of the photo) as validation:
PSNR gain over the blurry input of the MAP output and of G, per recipe. The index is re-read as the cache grows.

    /usr/bin/python3 -m training.train_refiner --name refine --minutes 40 --export models
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .data import DATA
from .models import build, describe
from .checkpoints import CKPT_FORMAT, CheckpointError, load_checkpoint, load_net_state
from .budget_loop import run_budgeted
from .train import RUNS, atomic_save, fft_l1

NET = "g-refine"
CACHE = DATA / "map-cache"


def is_val(entry: dict) -> bool:
    photo = entry["id"].split("/", 1)[1].split("#", 1)[0]  # every round of a photo on the same side
    return hashlib.sha1(photo.encode()).digest()[0] < 26  # about a tenth, the same photos every time


class Cache:
    """The cache's crops, decoded once: (map, blurry, sharp) uint8 H×W×3 arrays per entry."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.entries: list[dict] = []
        self.images: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def refresh(self) -> None:
        index = self.folder / "index.jsonl"
        if not index.exists():
            raise FileNotFoundError(f"{index} does not exist (run: node --import tsx tools/refiner-cache/main.ts)")
        for line in index.read_text().splitlines():
            e = json.loads(line)
            if e["stem"] in self.images:
                continue
            self.images[e["stem"]] = tuple(
                np.asarray(Image.open(self.folder / f"{e['stem']}.{k}.png").convert("RGB")) for k in ("map", "blurry", "sharp"))
            self.entries.append(e)

    def split(self, val: bool, recipes: set[str] | None = None) -> list[dict]:
        return [e for e in self.entries if is_val(e) == val and (recipes is None or e["recipe"] in recipes)]

    def batch(self, entries: list[dict], rng: np.random.RandomState, n: int, crop: int) -> tuple[torch.Tensor, torch.Tensor]:
        xs, ys = [], []
        for _ in range(n):
            m, b, s = self.images[entries[rng.randint(len(entries))]["stem"]]
            h, w = s.shape[:2]
            y0, x0 = rng.randint(h - crop + 1), rng.randint(w - crop + 1)
            stack = np.concatenate([m, b, s], axis=2)[y0:y0 + crop, x0:x0 + crop]
            if rng.rand() < 0.5:
                stack = stack[:, ::-1]
            if rng.rand() < 0.5:
                stack = stack[::-1]
            stack = np.rot90(stack, rng.randint(4))
            xs.append(stack[..., :6])
            ys.append(stack[..., 6:])
        x = torch.from_numpy(np.ascontiguousarray(np.stack(xs))).permute(0, 3, 1, 2).float() / 255
        y = torch.from_numpy(np.ascontiguousarray(np.stack(ys))).permute(0, 3, 1, 2).float() / 255
        return x, y


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Capped at 100 dB (the eval's cap), so an untouched no-blur crop scores 100, not infinity."""
    return min(100.0, float(10 * torch.log10(1 / F.mse_loss(a.clamp(0, 1), b).clamp_min(1e-10))))


def validate(net: torch.nn.Module, cache: Cache) -> dict:
    """Mean PSNR gain over the blurry crop, per recipe, of the MAP output and of G (whole 256 crops)."""
    net.eval()
    gains: dict[str, list[tuple[float, float]]] = {}
    with torch.no_grad():
        for e in cache.split(True):
            m, b, s = (torch.from_numpy(a.copy()).permute(2, 0, 1)[None].float() / 255 for a in cache.images[e["stem"]])
            out = net(torch.cat([m, b], 1))
            base = psnr(b, s)
            gains.setdefault(e["recipe"], []).append((psnr(m, s) - base, psnr(out, s) - base))
    net.train()
    rec = {}
    for r, g in sorted(gains.items()):
        rec[f"map_{r}"] = round(float(np.mean([a for a, _ in g])), 3)
        rec[f"g_{r}"] = round(float(np.mean([b for _, b in g])), 3)
        rec[f"g_worst_vs_map_{r}"] = round(float(min(b - a for a, b in g)), 3)
    return rec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", default="refine")
    ap.add_argument("--minutes", type=float, default=40)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--resume", type=Path)
    ap.add_argument("--export", type=Path)
    ap.add_argument("--recipes", default=None,
                    help="train on these recipes only, e.g. linear,none (the adaptation proof's base; validation keeps all)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cache = Cache(args.cache)
    try:
        cache.refresh()
    except FileNotFoundError as e:
        print(f"train_refiner: error: {e}", file=sys.stderr)
        return 2
    recipes = set(args.recipes.split(",")) if args.recipes else None
    if not cache.split(False, recipes) or not cache.split(True):
        print(f"train_refiner: error: {args.cache} holds too few crops for a training and a validation part",
              file=sys.stderr)
        return 2
    net = build(NET)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    step, seconds = 0, 0.0
    if args.resume:
        try:
            ck = load_checkpoint(args.resume)
            load_net_state(net, ck, NET, source=f"checkpoint {args.resume}")
        except CheckpointError as e:
            print(f"train_refiner: error: {e}", file=sys.stderr)
            return 2
        opt.load_state_dict(ck["opt"])
        step, seconds = ck["step"], ck["train_seconds"]
    run_dir = RUNS / args.name
    run_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(2000 + step)

    def save(step: int, seconds: float) -> Path:
        path = run_dir / "last.pt"
        atomic_save({"format": CKPT_FORMAT, "step": step, "train_seconds": seconds,
                     "nets": {NET: {"arch": describe(net), "state": net.state_dict()}}, "opt": opt.state_dict(),
                     "crops": len(cache.entries)}, path)
        return path

    def loss_at(step: int) -> torch.Tensor:
        x, y = cache.batch(cache.split(False, recipes), rng, args.batch, args.crop)
        out = net(x)
        return F.l1_loss(out, y) + 0.1 * fft_l1(out, y)

    def report() -> dict:
        cache.refresh()  # the cache may still be growing
        return {"crops": len(cache.entries)} | validate(net, cache)

    step, seconds = run_budgeted(opt, loss_at, lr=args.lr, minutes=args.minutes, step=step, seconds=seconds, save=save,
                                 report=report, every=500, log=run_dir / "log.jsonl")
    if args.export:
        from .export import export_net
        args.export.mkdir(parents=True, exist_ok=True)
        export_net(net, args.export / "refiner.onnx", {"train_step": step, "train_minutes": round(seconds / 60, 2)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
