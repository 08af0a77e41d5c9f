"""Blur synthesis in torch (CPU or GPU, batched, on the fly).

The deterministic core is a contract shared with the TypeScript twin (src-main/engine/synth); see
tests/fixtures/synth-parity/ and training/parity_fixture.py. Keep these exactly as they are:

* blur_with_offsets(img, offsets): img N×3×H×W, offsets N×K×H×W×2 (dx, dy) in pixels. Result = mean over k
  of bilinear samples of img at (x + dx_k, y + dy_k), pixel-centre coordinates (pixel (i, j) is at x = j,
  y = i), border replicate (sample coordinates clamped to [0, W−1]×[0, H−1]).
* srgb_to_linear / linear_to_srgb: the standard piecewise sRGB curve.
* blur_linear_light: S_lin = srgb_to_linear(S); pixels with linear luminance (0.2126, 0.7152, 0.0722)
  > threshold are multiplied by gain; blur; clip to [0, 1]; linear_to_srgb. blur_pixel_values: blur sRGB.
* linear fields: offsets_k(p) = t_k · f(p), t_k = linspace(+1, −1, K), K odd ≥ max(15, 2·ceil(max|f|)+1).
* shake: offsets_k(p) = R(θ_k)(p − c) + c + (x_k, y_k) − p, c = ((W−1)/2, (H−1)/2) unless given,
  trajectory centred (mean over k of x, y and θ is 0).
* motion target m (NEURMAP.md, units of 20 px): linear field m = f / 20; any offsets: principal axis e of
  the K offsets at each pixel (population covariance C, largest eigenvalue λ), half-extent
  h = sqrt(3·λ·(K−1)/(K+1)), which is exactly |f| for offsets t_k·f (the (K−1)/(K+1) factor corrects the
  variance of K evenly spaced t in [−1, 1] to that of a continuous uniform one, 1/3); m = h·e / 20.
  Canonical sign: if v < 0, or v == 0 and u < 0, use (−u, −v).

The rest (random fields and trajectories, noise, JPEG, the mix) is the training data model.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

MOTION_UNIT = 20.0  # m = 1 means 20 px each way
LUMA = (0.2126, 0.7152, 0.0722)


# ------------------------------------------------------------------ tone curve
def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x <= 0.04045, x / 12.92, ((x.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x <= 0.0031308, x * 12.92, 1.055 * x.clamp(min=0.0031308) ** (1 / 2.4) - 0.055)


def luminance(x: torch.Tensor) -> torch.Tensor:
    return LUMA[0] * x[:, 0:1] + LUMA[1] * x[:, 1:2] + LUMA[2] * x[:, 2:3]


# ------------------------------------------------------------------ the sampling core
def steps_for(max_disp: float, minimum: int = 15) -> int:
    """Odd K with K ≥ 2·ceil(max_disp) + 1 and K ≥ minimum."""
    k = max(minimum, 2 * math.ceil(max(0.0, float(max_disp)) - 1e-6) + 1)
    return k if k % 2 == 1 else k + 1


def _base_grid(h: int, w: int, device, dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    ys = torch.arange(h, device=device, dtype=dtype).view(1, h, 1).expand(1, h, w)
    xs = torch.arange(w, device=device, dtype=dtype).view(1, 1, w).expand(1, h, w)
    return xs, ys


def _sample(img: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor):
    """Bilinear sample of img (N×C×H×W) at (x + dx, y + dy) (each N×H×W), border replicate."""
    n, c, h, w = img.shape
    gx = (xs + dx) * (2.0 / max(w - 1, 1)) - 1.0
    gy = (ys + dy) * (2.0 / max(h - 1, 1)) - 1.0
    grid = torch.stack([gx, gy], dim=-1)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)


def blur_with_offsets(img: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """THE contract: mean over k of bilinear samples at p + offsets[:, k](p). img N×C×H×W, offsets N×K×H×W×2."""
    n, c, h, w = img.shape
    assert offsets.shape[0] == n and offsets.shape[2:] == (h, w, 2), (img.shape, offsets.shape)
    return _blur_loop(img, offsets.shape[1], lambda k: (offsets[:, k, ..., 0], offsets[:, k, ..., 1]))


def _blur_loop(img: torch.Tensor, k_steps: int, offset_fn: Callable[[int], tuple[torch.Tensor, torch.Tensor]]):
    n, c, h, w = img.shape
    xs, ys = _base_grid(h, w, img.device, img.dtype)
    acc = torch.zeros_like(img)
    for k in range(k_steps):
        dx, dy = offset_fn(k)
        acc = acc + _sample(img, dx, dy, xs, ys)
    return acc / k_steps


def linear_t(k_steps: int, device=None) -> torch.Tensor:
    return torch.linspace(1.0, -1.0, k_steps, device=device, dtype=torch.float32)


def linear_offsets(f: torch.Tensor, k_steps: int) -> torch.Tensor:
    """offsets N×K×H×W×2 = t_k · f for a field f N×H×W×2 (px)."""
    t = linear_t(k_steps, f.device)
    return t.view(1, -1, 1, 1, 1) * f.unsqueeze(1)


def shake_offsets(traj: torch.Tensor, h: int, w: int, centre: torch.Tensor | None = None) -> torch.Tensor:
    """offsets N×K×H×W×2 for trajectories traj N×K×3 (x, y, θ radians), rotation about centre (N×2)."""
    n, k_steps, _ = traj.shape
    return torch.stack([torch.stack(_shake_offset_k(traj, k, h, w, centre), -1) for k in range(k_steps)], 1)


def _shake_offset_k(traj: torch.Tensor, k: int, h: int, w: int, centre: torch.Tensor | None):
    n = traj.shape[0]
    xs, ys = _base_grid(h, w, traj.device)
    if centre is None:
        cx = torch.full((n, 1, 1), (w - 1) / 2.0, device=traj.device)
        cy = torch.full((n, 1, 1), (h - 1) / 2.0, device=traj.device)
    else:
        cx, cy = centre[:, 0].view(n, 1, 1), centre[:, 1].view(n, 1, 1)
    x, y, th = (traj[:, k, i].view(n, 1, 1) for i in range(3))
    cos, sin = torch.cos(th), torch.sin(th)
    px, py = xs - cx, ys - cy
    dx = cos * px - sin * py + cx + x - xs
    dy = sin * px + cos * py + cy + y - ys
    return dx, dy


# ------------------------------------------------------------------ modes
def boost_highlights(lin: torch.Tensor, gain: torch.Tensor | float, threshold: float) -> torch.Tensor:
    gain_t = torch.as_tensor(gain, dtype=lin.dtype, device=lin.device).reshape(-1, 1, 1, 1)
    mask = luminance(lin) > threshold
    return torch.where(mask, lin * gain_t, lin)


def blur_linear_light(img: torch.Tensor, offsets: torch.Tensor, gain: torch.Tensor | float = 1.0,
                      threshold: float = 0.9) -> torch.Tensor:
    lin = boost_highlights(srgb_to_linear(img), gain, threshold)
    return linear_to_srgb(blur_with_offsets(lin, offsets).clamp(0.0, 1.0))


def blur_pixel_values(img: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    return blur_with_offsets(img, offsets)


# ------------------------------------------------------------------ motion targets
def canonical_sign(m: torch.Tensor, dim: int = -1) -> torch.Tensor:
    u, v = m.select(dim, 0), m.select(dim, 1)
    flip = (v < 0) | ((v == 0) & (u < 0))
    return torch.where(flip.unsqueeze(dim), -m, m)


def motion_from_field(f: torch.Tensor) -> torch.Tensor:
    """N×H×W×2 field (px) → N×2×H×W canonical motion map (units of 20 px)."""
    return canonical_sign(f / MOTION_UNIT).permute(0, 3, 1, 2).contiguous()


class _Moments:
    def __init__(self):
        self.n = 0
        self.sx = self.sy = self.sxx = self.syy = self.sxy = 0.0

    def add(self, dx: torch.Tensor, dy: torch.Tensor) -> None:
        self.n += 1
        self.sx = self.sx + dx
        self.sy = self.sy + dy
        self.sxx = self.sxx + dx * dx
        self.syy = self.syy + dy * dy
        self.sxy = self.sxy + dx * dy

    def motion(self) -> torch.Tensor:
        n = float(self.n)
        mx, my = self.sx / n, self.sy / n
        a = (self.sxx / n - mx * mx).clamp(min=0)
        c = (self.syy / n - my * my).clamp(min=0)
        b = self.sxy / n - mx * my
        lam = (0.5 * (a + c) + torch.sqrt((0.5 * (a - c)) ** 2 + b * b)).clamp(min=0)
        phi = 0.5 * torch.atan2(2 * b, a - c)
        half = torch.sqrt(3.0 * lam * (n - 1) / (n + 1))
        m = torch.stack([half * torch.cos(phi), half * torch.sin(phi)], 1) / MOTION_UNIT
        return canonical_sign(m, dim=1)


def motion_from_offsets(offsets: torch.Tensor) -> torch.Tensor:
    """N×K×H×W×2 offsets → N×2×H×W canonical motion map (principal axis, h = sqrt(3λ(K−1)/(K+1)))."""
    mom = _Moments()
    for k in range(offsets.shape[1]):
        mom.add(offsets[:, k, ..., 0], offsets[:, k, ..., 1])
    return mom.motion()


# ------------------------------------------------------------------ random motion
def _u(gen: torch.Generator, *shape) -> torch.Tensor:
    return torch.rand(*shape, generator=gen)


def random_linear_field(gen: torch.Generator, n: int, h: int, w: int, max_half: float = 20.0,
                        min_half: float = 0.25, power: float = 1.5, variation: float = 0.35,
                        grid: int = 4) -> torch.Tensor:
    """Smooth, spatially varying linear motion fields N×H×W×2 (px): a global direction and half-length
    (half-length = min + (max − min)·u^power, favouring small blurs) plus a smooth variation from a
    low-resolution random grid upsampled bicubically. |f| ≤ max_half everywhere."""
    ang = _u(gen, n) * math.pi
    half = min_half + (max_half - min_half) * _u(gen, n) ** power
    base = torch.stack([torch.cos(ang), torch.sin(ang)], -1) * half.unsqueeze(-1)  # N×2
    var = (_u(gen, n, 2, grid, grid) * 2 - 1) * variation * half.view(n, 1, 1, 1)
    var = F.interpolate(var, size=(h, w), mode="bicubic", align_corners=True)
    f = base.view(n, 2, 1, 1) + var
    mag = f.norm(dim=1, keepdim=True)
    f = f * torch.clamp(max_half / mag.clamp(min=1e-6), max=1.0)
    return f.permute(0, 2, 3, 1).contiguous()


def random_shake(gen: torch.Generator, n: int, h: int, w: int, max_half: float = 20.0, min_half: float = 1.0,
                 power: float = 1.5, fine_steps: int = 128, momentum: float = 0.85,
                 max_rot_deg: float = 1.0) -> tuple[torch.Tensor, int]:
    return finish_shake(_shake_fine(gen, n, h, w, max_half, min_half, power, fine_steps, momentum, max_rot_deg), h, w)


def _shake_fine(gen: torch.Generator, n: int, h: int, w: int, max_half: float = 20.0, min_half: float = 1.0,
                power: float = 1.5, fine_steps: int = 128, momentum: float = 0.85,
                max_rot_deg: float = 1.0) -> torch.Tensor:
    """Camera-shake trajectories N×K×3 (x, y, θ): random walks with momentum, centred, scaled so the
    largest displacement of any pixel from its mean position is a random half-extent ≤ max_half.
    K is odd and large enough that consecutive samples are ≤ 1 px apart anywhere in the image."""
    acc = torch.randn(n, fine_steps, 3, generator=gen)
    vel = torch.zeros(n, 3)
    pos = torch.zeros(n, fine_steps, 3)
    vel0 = torch.randn(n, 3, generator=gen) * 2.0  # initial push: makes paths more directional
    vel = vel0
    p = torch.zeros(n, 3)
    for i in range(fine_steps):
        vel = momentum * vel + (1 - momentum) * acc[:, i] * 3.0
        p = p + vel
        pos[:, i] = p
    pos = pos - pos.mean(1, keepdim=True)
    rmax = math.hypot(w - 1, h - 1) / 2.0
    rot_scale = (_u(gen, n) * max_rot_deg * math.pi / 180).view(n, 1)  # max |θ| (radians)
    th = pos[..., 2]
    th = th / th.abs().amax(1, keepdim=True).clamp(min=1e-6) * rot_scale
    xy = pos[..., :2]
    target = min_half + (max_half - min_half) * _u(gen, n) ** power
    # scale the translation so that translation + worst-case rotation displacement ≤ target
    trans_max = xy.norm(dim=-1).amax(1).clamp(min=1e-6)
    rot_disp = th.abs().amax(1) * rmax
    rot_fac = torch.clamp(target / (rot_disp + 1e-6) * 0.5, max=1.0)  # rotation at most half the budget
    th = th * rot_fac.view(n, 1)
    rot_disp = rot_disp * rot_fac
    xy = xy * ((target - rot_disp).clamp(min=0) / trans_max).view(n, 1, 1)
    return torch.cat([xy, th.unsqueeze(-1)], -1)


def finish_shake(fine: torch.Tensor, h: int, w: int) -> tuple[torch.Tensor, int]:
    """Fine random-walk paths N×F×3 → trajectories N×K×3 at K uniform times, K odd and large enough that
    consecutive samples are ≤ 1 px apart (capped at twice the linear rule for the same extent)."""
    rmax = math.hypot(w - 1, h - 1) / 2.0
    if fine.shape[0] == 0:
        return fine[:, :15], 15
    seg = (fine[:, 1:, :2] - fine[:, :-1, :2]).norm(dim=-1) + (fine[:, 1:, 2] - fine[:, :-1, 2]).abs() * rmax
    path = float(seg.sum(1).max())
    ext = float((fine[..., :2].norm(dim=-1) + fine[..., 2].abs() * rmax).max())
    k_steps = max(steps_for(ext), min(math.ceil(path) + 1, 2 * steps_for(ext)))
    k_steps += (k_steps + 1) % 2
    return resample_trajectory(fine, k_steps).contiguous(), k_steps


def resample_trajectory(traj: torch.Tensor, k_steps: int) -> torch.Tensor:
    """Linear interpolation of N×K×3 trajectories at k_steps uniform times, re-centred."""
    k0 = traj.shape[1]
    tpos = torch.linspace(0, k0 - 1, k_steps, device=traj.device)
    i0 = tpos.floor().long().clamp(max=max(k0 - 2, 0))
    a = (tpos - i0.float()).view(1, -1, 1)
    out = traj[:, i0] * (1 - a) + traj[:, (i0 + 1).clamp(max=k0 - 1)] * a
    return out - out.mean(1, keepdim=True)


# ------------------------------------------------------------------ degradations
def add_noise(srgb: torch.Tensor, z: torch.Tensor, shot: torch.Tensor, read: torch.Tensor) -> torch.Tensor:
    """Signal-dependent noise in linear light: y = x + sqrt(shot·x + read²)·z; shot/read per image (N),
    z standard normal of srgb's shape (drawn on the CPU generator)."""
    lin = srgb_to_linear(srgb.clamp(0, 1))
    std = torch.sqrt(shot.view(-1, 1, 1, 1).to(lin) * lin + read.view(-1, 1, 1, 1).to(lin) ** 2)
    z = z.to(lin.device)
    return linear_to_srgb((lin + std * z).clamp(0, 1))


def jpeg_roundtrip(img: torch.Tensor, quality: int) -> torch.Tensor:
    """PIL JPEG encode/decode of one 3×H×W image in [0, 1] (4:2:0, as phones write)."""
    a = (img.detach().clamp(0, 1).permute(1, 2, 0).float().cpu().numpy() * 255.0 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=int(quality))
    b = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(b).permute(2, 0, 1).to(img.device)


# ------------------------------------------------------------------ the training data model
@dataclass
class SynthConfig:
    p_none: float = 0.10            # crops left unblurred (M target 0)
    p_shake: float = 0.35           # of the blurred crops, share with camera shake (rest: linear fields)
    p_linear_light: float = 0.75    # share blurred in linear light (rest: pixel values)
    gain: tuple[float, float] = (1.0, 4.0)
    threshold: float = 0.9
    max_half: float = 20.0          # px, half-length (m = 1)
    power: float = 1.5              # half-length ∝ u^power: favours small blurs
    variation: float = 0.35
    max_rot_deg: float = 1.0
    p_noise: float = 0.8            # of the blurred crops
    shot: tuple[float, float] = (1e-4, 4e-3)   # log-uniform
    read: tuple[float, float] = (2e-4, 4e-3)   # log-uniform (std)
    p_jpeg: float = 0.6             # of the blurred crops
    quality: tuple[int, int] = (70, 95)
    degrade_sharp: bool = False     # noise/JPEG on unblurred crops too (off: they teach "leave alone")
    margin: int = 0                 # crops come with this many extra pixels each side, cut after blurring


@dataclass
class SynthBatch:
    blurry: torch.Tensor   # N×3×h×w sRGB
    sharp: torch.Tensor    # N×3×h×w sRGB
    motion: torch.Tensor   # N×2×h×w canonical (units of 20 px)
    half: torch.Tensor     # N, largest half-extent in px (0 for unblurred)
    kind: list[str] = field(default_factory=list)


def _loguniform(gen, n, lo, hi):
    return torch.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * _u(gen, n))


def synthesize(sharp: torch.Tensor, gen: torch.Generator, cfg: SynthConfig = SynthConfig()) -> SynthBatch:
    """sharp N×3×(h+2m)×(w+2m) sRGB in [0,1] (m = cfg.margin) → blurred/degraded batch cropped to h×w.
    Every random choice comes from gen (a CPU torch.Generator, a fixed amount of draws per batch), so a
    seed fixes the batch on any device. Linear-field and shake crops are blurred as two groups, each
    with its own K; unblurred crops are passed through."""
    n, _, H, W = sharp.shape
    dev = sharp.device
    m = cfg.margin
    r = _u(gen, n, 4)
    none = r[:, 0] < cfg.p_none
    shake = (~none) & (r[:, 1] < cfg.p_shake)
    linear = (~none) & (~shake)
    lin_mode = r[:, 2] < cfg.p_linear_light
    gain = cfg.gain[0] + (cfg.gain[1] - cfg.gain[0]) * _u(gen, n)
    f_all = random_linear_field(gen, n, H, W, cfg.max_half, power=cfg.power, variation=cfg.variation)
    fine_all = _shake_fine(gen, n, H, W, cfg.max_half, power=cfg.power, max_rot_deg=cfg.max_rot_deg)
    centre_all = torch.stack([(W - 1) / 2.0 + (_u(gen, n) * 2 - 1) * W, (H - 1) / 2.0 + (_u(gen, n) * 2 - 1) * H], 1)

    lin = srgb_to_linear(sharp)
    src = torch.where(lin_mode.to(dev).view(n, 1, 1, 1), boost_highlights(lin, gain.to(dev), cfg.threshold), sharp)
    out = sharp.clone()
    motion = torch.zeros(n, 2, H, W, device=dev)
    ll = lin_mode.to(dev).view(n, 1, 1, 1)

    idx = torch.nonzero(linear).flatten()
    if len(idx):
        f = f_all[idx].to(dev)
        k_steps = steps_for(float(f.norm(dim=-1).max()))
        t = linear_t(k_steps, dev)
        y = _blur_loop(src[idx.to(dev)], k_steps, lambda k: (t[k] * f[..., 0], t[k] * f[..., 1]))
        out[idx.to(dev)] = y
        motion[idx.to(dev)] = motion_from_field(f)
    idx = torch.nonzero(shake).flatten()
    if len(idx):
        traj, k_steps = finish_shake(fine_all[idx], H, W)
        traj, centre = traj.to(dev), centre_all[idx].to(dev)
        mom = _Moments()

        def offset_fn(k: int):
            dx, dy = _shake_offset_k(traj, k, H, W, centre)
            mom.add(dx, dy)
            return dx, dy

        out[idx.to(dev)] = _blur_loop(src[idx.to(dev)], k_steps, offset_fn)
        motion[idx.to(dev)] = mom.motion()
    blurred = (~none).to(dev).view(n, 1, 1, 1)
    out_srgb = torch.where(blurred & ll, linear_to_srgb(out.clamp(0, 1)), out.clamp(0, 1))
    out_srgb = torch.where(blurred, out_srgb, sharp)
    if m > 0:
        out_srgb = out_srgb[..., m:H - m, m:W - m]
        sharp = sharp[..., m:H - m, m:W - m]
        motion = motion[..., m:H - m, m:W - m]
    # degradations
    noisy = (_u(gen, n) < cfg.p_noise) & (~none | cfg.degrade_sharp)
    shot = _loguniform(gen, n, *cfg.shot) * noisy.float()
    read = _loguniform(gen, n, *cfg.read) * noisy.float()
    z = torch.randn(out_srgb.shape, generator=gen)
    if bool(noisy.any()):
        out_srgb = torch.where(noisy.to(dev).view(n, 1, 1, 1), add_noise(out_srgb, z, shot, read), out_srgb)
    jp = (_u(gen, n) < cfg.p_jpeg) & (~none | cfg.degrade_sharp)
    q = torch.randint(cfg.quality[0], cfg.quality[1] + 1, (n,), generator=gen)
    if bool(jp.any()):
        out_srgb = out_srgb.clone()
        for i in torch.nonzero(jp).flatten().tolist():
            out_srgb[i] = jpeg_roundtrip(out_srgb[i], int(q[i]))
    half = (motion.norm(dim=1).flatten(1).amax(1) * MOTION_UNIT)
    kinds = ["none" if none[i] else ("shake" if shake[i] else "linear") for i in range(n)]
    return SynthBatch(out_srgb, sharp, motion, half, kinds)
