"""Heuristics that tell sharp natural photographs from drawings, text, abstract art and blurry images.

All statistics are computed on the image scaled to a long side of 768 px (the size the training bundle
keeps), in 8-bit sRGB units, so that thresholds mean the same thing as the pixels training will see.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image

ANALYSIS_LONG_SIDE = 768
MIN_SHORT_SIDE = 384


@dataclass
class PhotoStats:
    width: int
    height: int
    colour_ratio: float   # distinct 15-bit colours / pixels (drawings and flat art are low)
    flat_fraction: float  # pixels whose 3x3 neighbourhood spans <= 1 level in every channel
    sharp_p90: float      # 90th percentile over 32x32 tiles of the variance of the Laplacian
    sharp_p50: float
    saturation_mean: float
    saturation_peak: float  # largest share of one bin of a 32-bin saturation histogram (posterised art)
    bw_fraction: float    # near-black plus near-white pixels (text, line art)
    grad_kurtosis: float  # kurtosis of horizontal gradients: natural images are heavy-tailed

    def as_dict(self) -> dict:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}


def analysis_image(im: Image.Image) -> Image.Image:
    im = im.convert("RGB")
    w, h = im.size
    s = ANALYSIS_LONG_SIDE / max(w, h)
    if s < 1:
        im = im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS)
    return im


def compute_stats(im: Image.Image) -> PhotoStats:
    w, h = im.size
    a = np.asarray(analysis_image(im), dtype=np.float32)
    g = a @ np.array([0.299, 0.587, 0.114], np.float32)
    q = (a.astype(np.uint16) >> 3)
    codes = (q[..., 0] << 10) | (q[..., 1] << 5) | q[..., 2]
    colour_ratio = len(np.unique(codes)) / codes.size
    # flat: 3x3 range <= 1 level in all channels
    pad = np.pad(a, ((1, 1), (1, 1), (0, 0)), mode="edge")
    hh, ww = a.shape[:2]
    mx = np.full_like(a, -1e9)
    mn = np.full_like(a, 1e9)
    for dy in range(3):
        for dx in range(3):
            win = pad[dy:dy + hh, dx:dx + ww]
            mx = np.maximum(mx, win)
            mn = np.minimum(mn, win)
    flat_fraction = float(((mx - mn) <= 1.0).all(axis=-1).mean())
    lap = (-4 * g[1:-1, 1:-1] + g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:])
    t = 32
    th, tw = lap.shape[0] // t, lap.shape[1] // t
    tiles = lap[:th * t, :tw * t].reshape(th, t, tw, t).transpose(0, 2, 1, 3).reshape(th * tw, -1)
    tv = tiles.var(axis=1)
    mxc, mnc = a.max(-1), a.min(-1)
    sat = np.where(mxc > 0, (mxc - mnc) / np.maximum(mxc, 1e-6), 0)
    hist = np.histogram(sat, bins=32, range=(0, 1))[0] / sat.size
    bw = float(((g < 16) | (g > 239)).mean())
    gx = np.diff(g, axis=1).ravel()
    m2 = float((gx ** 2).mean()) + 1e-6
    kurt = float((gx ** 4).mean()) / (m2 * m2)
    return PhotoStats(w, h, colour_ratio, flat_fraction, float(np.percentile(tv, 90)),
                      float(np.percentile(tv, 50)), float(sat.mean()), float(hist.max()), bw, kurt)


NON_PHOTO_WORDS = ("gogh", "bruegel", "monet", "painting", "portraitof", "drawing", "cartoon", "clipart",
                   "logo", "icon", "screenshot", "diagram", "sketch", "/pattern")


def reject_reason(s: PhotoStats, path: str = "") -> str | None:
    """None when the image looks like a sharp natural photograph, else a short reason."""
    low = path.lower().replace("_", "").replace("-", "")
    if min(s.width, s.height) < MIN_SHORT_SIDE:
        return "tiny"
    if any(w in low for w in NON_PHOTO_WORDS):
        return "name (painting/drawing/logo)"
    if s.saturation_mean < 0.03:
        return "greyscale"
    if s.flat_fraction > 0.3:
        return "flat-areas (drawing/abstract)"
    if s.colour_ratio < 0.002:
        return "few-colours (drawing/abstract)"
    if s.bw_fraction > 0.6:
        return "black-white (text/line art)"
    if s.saturation_peak > 0.5:
        return "posterised (drawing/abstract)"
    if s.grad_kurtosis > 120:
        return "smooth gradients (abstract)"
    if s.sharp_p90 < 150:
        return "blurry"
    return None
