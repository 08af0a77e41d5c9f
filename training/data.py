"""Sharp photo crops for training: loading (bundle or fetched photos), random crops, scale, flips,
90° turns and mild colour changes. Every random choice comes from a numpy RandomState."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "training" / "data"
LONG_SIDE = 768


class DataError(RuntimeError):
    pass


def _load(path: Path, long_side: int = LONG_SIDE) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        im = Image.open(path)
        im.draft("RGB", (long_side, long_side))  # fast JPEG downscale on decode
        im = im.convert("RGB")
    w, h = im.size
    s = long_side / max(w, h)
    if s < 1:
        im = im.resize((round(w * s), round(h * s)), Image.LANCZOS)
    return np.asarray(im, dtype=np.uint8)


def photo_paths(split: str, data: Path = DATA) -> list[Path]:
    """Photos of a split: training/data/bundle/SPLIT/*.jpg when a bundle is there, else the fetched
    photos listed in training/data/manifest.jsonl."""
    bundle = data / "bundle" / split
    if bundle.is_dir():
        paths = sorted(bundle.glob("*.jpg"))
        if paths:
            return paths
    man = data / "manifest.jsonl"
    if not man.exists():
        raise DataError(f"no photos: neither {bundle} nor {man} exists "
                        "(run: /usr/bin/python3 -m training.photos.fetch, or copy a bundle there)")
    paths = []
    for line in man.read_text().splitlines():
        e = json.loads(line)
        if e["split"] == split:
            paths.append(data / "photos" / e["file"])
    if not paths:
        raise DataError(f"no photos in split '{split}' under {data}")
    return paths


class PhotoSet:
    def __init__(self, paths: list[Path], long_side: int = LONG_SIDE) -> None:
        if not paths:
            raise DataError("empty photo set")
        self.images = [_load(p, long_side) for p in paths]
        self.paths = paths

    @classmethod
    def split(cls, split: str, data: Path = DATA, limit: int | None = None) -> "PhotoSet":
        paths = photo_paths(split, data)
        return cls(paths[:limit] if limit else paths)

    def __len__(self) -> int:
        return len(self.images)

    def crop(self, rng: np.random.RandomState, size: int, scale: tuple[float, float] = (0.5, 1.0),
             augment: bool = True) -> np.ndarray:
        """One size×size uint8 crop: random photo, random downscale in `scale` (never upscaled unless the
        photo is too small), random position, flips and 90° turns."""
        img = self.images[rng.randint(len(self.images))]
        h, w = img.shape[:2]
        s = rng.uniform(*scale) if augment else 1.0
        s = max(s, size / min(h, w))  # the crop must fit
        src = size / s
        x0 = rng.uniform(0, w - src) if w > src else 0.0
        y0 = rng.uniform(0, h - src) if h > src else 0.0
        im = Image.fromarray(img)
        c = np.asarray(im.resize((size, size), Image.BILINEAR, box=(x0, y0, x0 + src, y0 + src)))
        if augment:
            if rng.rand() < 0.5:
                c = c[:, ::-1]
            if rng.rand() < 0.5:
                c = c[::-1]
            c = np.rot90(c, rng.randint(4))
        return np.ascontiguousarray(c)

    def batch(self, rng: np.random.RandomState, n: int, size: int, augment: bool = True,
              colour: bool = True) -> torch.Tensor:
        x = np.stack([self.crop(rng, size, augment=augment) for _ in range(n)])
        t = torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255.0
        if colour and augment:
            t = colour_jitter(t, rng)
        return t


def colour_jitter(x: torch.Tensor, rng: np.random.RandomState) -> torch.Tensor:
    """Mild per-image saturation, brightness and gamma changes in sRGB."""
    n = x.shape[0]
    sat = torch.from_numpy(rng.uniform(0.8, 1.2, n)).float().view(n, 1, 1, 1)
    gain = torch.from_numpy(rng.uniform(0.85, 1.1, n)).float().view(n, 1, 1, 1)
    gamma = torch.from_numpy(rng.uniform(0.9, 1.1, n)).float().view(n, 1, 1, 1)
    grey = x.mean(1, keepdim=True)
    y = grey + (x - grey) * sat
    y = (y.clamp(0, 1) * gain).clamp(0, 1) ** gamma
    return y
