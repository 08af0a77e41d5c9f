"""Supervised pretraining of G (deblur) and M (motion) on synthetic pairs.

    /usr/bin/python3 -m training.train --name cpu1 --nets g-fast,m --minutes 70 --export models
    python3 -m training.train --name gpu1 --nets g-fast,m --minutes 9 --crop 256 --batch 16   # CUDA
    ... --resume training/runs/gpu1/last.pt --schedule-minutes 18

Nets listed together share every synthetic batch (the blur is made once). G: L1 + w_fft · L1 of FFT
magnitudes; M: L1 against the canonical-sign motion map (sign-invariant: min over ±, which equals the
canonical comparison away from the v = 0 seam). Adam, linear warm-up then cosine decay over the
wall-clock schedule, bf16 autocast on CUDA, wall-clock budget, atomic periodic checkpoints in
training/runs/NAME/ (last.pt), validation PSNR on a fixed seeded val set as JSON lines (log.jsonl).
"""
from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import math
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import blur as B
from .atomic import atomic_write
from .data import DATA, DataError, PhotoSet
from .models import build, check_size, describe, n_params
# Checkpoints and export names live in checkpoints.py (export.py reads them too: no train ↔ export cycle).
from .checkpoints import CKPT_FORMAT, EXPORT_NAMES, CheckpointError, load_checkpoint, load_net_state  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
RUNS = REPO / "training" / "runs"


@dataclass
class TrainConfig:
    nets: tuple[str, ...] = ("g-fast", "m")
    crop: int = 128
    batch: int = 8
    lr_g: float = 3e-4
    lr_m: float = 3e-4
    w_l1: float = 1.0
    w_fft: float = 0.1
    warmup: float = 0.02            # share of the schedule
    schedule_minutes: float = 60.0  # cosine decay runs over this much training time
    seed: int = 1
    val_crops: int = 24
    val_size: int = 192
    val_seed: int = 12345
    val_every_s: float = 180.0
    ckpt_every_s: float = 180.0
    log_every: int = 20
    echo: int = 1                   # gradient steps per synthesized batch (data echoing, with flips/transpose)
    m_loss: str = "sign-invariant"  # or "canonical" (plain L1 to the v ≥ 0 target)
    synth: B.SynthConfig = field(default_factory=lambda: B.SynthConfig(margin=16))


def config_from_dict(d: dict) -> TrainConfig:
    d = dict(d)
    synth = B.SynthConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.pop("synth", {}).items()})
    known = {f.name for f in fields(TrainConfig)}
    d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in known}
    return TrainConfig(**d, synth=synth)


# ------------------------------------------------------------------ losses and metrics
def fft_l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    fa = torch.fft.rfft2(a.float(), norm="ortho").abs()
    fb = torch.fft.rfft2(b.float(), norm="ortho").abs()
    return (fa - fb).abs().mean()


def g_loss(out: torch.Tensor, sharp: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    out = out.float()
    return cfg.w_l1 * (out - sharp).abs().mean() + cfg.w_fft * fft_l1(out, sharp)


def m_loss(pred: torch.Tensor, target: torch.Tensor, kind: str = "sign-invariant") -> torch.Tensor:
    """L1 to the motion target: the nearer of ±target ("sign-invariant"), or the canonical target itself (v ≥ 0)."""
    pred = pred.float()
    if kind == "canonical":
        return (pred - target).abs().sum(1).mean() / 2
    return torch.minimum((pred - target).abs().sum(1), (pred + target).abs().sum(1)).mean() / 2


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    mse = ((a.float().clamp(0, 1) - b.float()) ** 2).flatten(1).mean(1).clamp(min=1e-10)
    return -10 * torch.log10(mse)


def epe_px(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    d = torch.minimum((pred - target).norm(dim=1), (pred + target).norm(dim=1))
    return d.flatten(1).mean(1) * B.MOTION_UNIT


def echo_view(b: B.SynthBatch, view: int) -> B.SynthBatch:
    if view == 0:
        return b
    m = b.motion
    if view == 1:    # horizontal flip: u → −u
        f = lambda t: t.flip(-1)
        m = torch.stack([-m[:, 0], m[:, 1]], 1).flip(-1)
    elif view == 2:  # vertical flip: v → −v
        f = lambda t: t.flip(-2)
        m = torch.stack([m[:, 0], -m[:, 1]], 1).flip(-2)
    else:            # transpose: (u, v) → (v, u)
        f = lambda t: t.transpose(-1, -2)
        m = torch.stack([m[:, 1], m[:, 0]], 1).transpose(-1, -2)
    return B.SynthBatch(f(b.blurry).contiguous(), f(b.sharp).contiguous(), B.canonical_sign(m.contiguous(), dim=1),
                        b.half, b.kind)


# ------------------------------------------------------------------ checkpoints
def atomic_save(obj, path: Path) -> None:
    """torch.save, atomically (see atomic.py)."""
    atomic_write(path, lambda f: torch.save(obj, f))


# ------------------------------------------------------------------ the trainer
class Trainer:
    def __init__(self, cfg: TrainConfig, run_dir: Path, device: torch.device, data: Path = DATA,
                 train_set: PhotoSet | None = None, val_set: PhotoSet | None = None) -> None:
        self.cfg, self.run_dir, self.device = cfg, run_dir, device
        for n in cfg.nets:
            net = build(n)
            check_size(net, cfg.crop, cfg.crop)
            check_size(net, cfg.val_size, cfg.val_size)
        torch.manual_seed(cfg.seed)  # reproducible initial weights
        self.nets = {n: build(n).to(device) for n in cfg.nets}
        self.opts = {n: torch.optim.Adam(self.nets[n].parameters(), lr=self.base_lr(n), betas=(0.9, 0.999))
                     for n in cfg.nets}
        self.step = 0
        self.train_seconds = 0.0
        self.train_set = train_set or PhotoSet.split("train", data)
        self.val_set = val_set or PhotoSet.split("val", data)
        self.val_batch = self._make_val()
        self.history: list[dict] = []
        self.amp = device.type == "cuda"
        self._pool = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) if device.type == "cuda" else None

    def autocast(self):
        """bf16 autocast on CUDA; nothing elsewhere (torch 1.13 checks CUDA even when disabled)."""
        if self.amp:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def base_lr(self, name: str) -> float:
        return self.cfg.lr_m if name == "m" else self.cfg.lr_g

    def lr_factor(self) -> float:
        total = max(self.cfg.schedule_minutes * 60.0, 1.0)
        p = min(self.train_seconds / total, 1.0)
        if p < self.cfg.warmup:
            return max(p / self.cfg.warmup, 0.01)
        q = (p - self.cfg.warmup) / max(1e-9, 1 - self.cfg.warmup)
        return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * q))

    def _make_val(self) -> B.SynthBatch:
        cfg = self.cfg
        rng = np.random.RandomState(cfg.val_seed)
        gen = torch.Generator().manual_seed(cfg.val_seed)
        sharp = self.val_set.batch(rng, cfg.val_crops, cfg.val_size + 2 * cfg.synth.margin, augment=True,
                                   colour=False)
        with torch.no_grad():
            vb = B.synthesize(sharp, gen, cfg.synth)
        return B.SynthBatch(vb.blurry.to(self.device), vb.sharp.to(self.device), vb.motion.to(self.device),
                            vb.half, vb.kind)

    def _sharp_for_step(self, step: int) -> torch.Tensor:
        cfg = self.cfg
        rng = np.random.RandomState([cfg.seed, step, 7])
        return self.train_set.batch(rng, cfg.batch, cfg.crop + 2 * cfg.synth.margin)

    def batch(self, step: int) -> B.SynthBatch:
        """The synthetic batch of a step. With echo E, batch s is batch E·(s // E) seen through one of
        identity / horizontal flip / vertical flip / transpose (motion maps transformed to match)."""
        e = max(1, self.cfg.echo)
        base, view = step - step % e, step % e
        if getattr(self, "_echo_step", None) != base:
            self._echo_batch, self._echo_step = self._synth_batch(base // e if e > 1 else base), base
        return echo_view(self._echo_batch, view % 4)

    def _synth_batch(self, step: int) -> B.SynthBatch:
        cfg = self.cfg
        if self._pool is not None:
            if not hasattr(self, "_futs"):
                self._futs = {}
            for s in range(step, step + 6):
                if s not in self._futs:
                    self._futs[s] = self._pool.submit(self._sharp_for_step, s)
            sharp = self._futs.pop(step).result()
        else:
            sharp = self._sharp_for_step(step)
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
        with torch.no_grad():
            return B.synthesize(sharp.to(self.device, non_blocking=True), gen, cfg.synth)

    def train_step(self) -> dict:
        b = self.batch(self.step)
        f = self.lr_factor()
        out = {}
        for name, net in self.nets.items():
            opt = self.opts[name]
            for g in opt.param_groups:
                g["lr"] = self.base_lr(name) * f
            net.train()
            with self.autocast():
                y = net(b.blurry)
            loss = m_loss(y, b.motion, self.cfg.m_loss) if name == "m" else g_loss(y, b.sharp, self.cfg)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            out[name] = float(loss)
        self.step += 1
        return out

    @torch.no_grad()
    def validate(self) -> dict:
        vb = self.val_batch
        res: dict = {"val": True, "step": self.step, "train_min": round(self.train_seconds / 60, 2)}
        none = torch.tensor([k == "none" for k in vb.kind])
        blurred = ~none  # PSNR means over blurred crops (unblurred ones would be infinite for the input)
        pb_all = psnr(vb.blurry, vb.sharp).cpu()
        res["psnr_blurry"] = round(float(pb_all[blurred].mean()), 3)
        for name, net in self.nets.items():
            net.eval()
            ys = []
            for i in range(0, vb.blurry.shape[0], 8):
                with self.autocast():
                    ys.append(net(vb.blurry[i:i + 8]).float())
            y = torch.cat(ys)
            if name == "m":
                e = epe_px(y, vb.motion).cpu()
                res["m_epe_px"] = round(float(e.mean()), 3)
                if bool(none.any()):
                    res["m_epe_px_noblur"] = round(float(e[none].mean()), 3)
            else:
                p = psnr(y, vb.sharp).cpu()
                res[f"psnr_{name}"] = round(float(p[blurred].mean()), 3)
                res[f"gain_{name}"] = round(float(p[blurred].mean() - pb_all[blurred].mean()), 3)
                for kind in ("linear", "shake"):
                    sel = torch.tensor([k == kind for k in vb.kind])
                    if bool(sel.any()):
                        res[f"gain_{name}_{kind}"] = round(float(p[sel].mean() - pb_all[sel].mean()), 3)
                if bool(none.any()):
                    res[f"psnr_{name}_vs_input_noblur"] = round(float(psnr(y, vb.blurry).cpu()[none].mean()), 2)
        return res

    def checkpoint(self, path: Path | None = None) -> Path:
        path = path or self.run_dir / "last.pt"
        ck = {"format": CKPT_FORMAT, "step": self.step, "train_seconds": self.train_seconds,
              "config": asdict(self.cfg), "history": self.history[-200:],
              "nets": {n: {"arch": describe(net), "state": {k: v.detach().cpu() for k, v in net.state_dict().items()},
                           "opt": self.opts[n].state_dict(), "params": n_params(net)}
                       for n, net in self.nets.items()}}
        atomic_save(ck, path)
        return path

    def resume(self, path: Path | str) -> None:
        ck = load_checkpoint(path)
        for n, net in self.nets.items():
            load_net_state(net, ck, n, source=f"checkpoint {path}")
            if "opt" not in ck["nets"][n]:
                print(f"note: checkpoint {path} has no optimizer state for '{n}': Adam starts afresh", flush=True)
                continue
            try:
                self.opts[n].load_state_dict(ck["nets"][n]["opt"])
            except (ValueError, KeyError) as e:
                raise CheckpointError(f"checkpoint {path}: optimizer state for '{n}' does not fit: {e}") from e
        self.step = int(ck["step"])
        self.train_seconds = float(ck["train_seconds"])
        self.history = list(ck.get("history", []))

    def log(self, rec: dict) -> None:
        self.history.append(rec)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.run_dir / "log.jsonl", "a") as f:
            f.write(json.dumps(rec) + "\n")
        print(json.dumps(rec), flush=True)

    def run(self, minutes: float, stop: threading.Event | None = None) -> None:
        budget = minutes * 60.0
        t_start = time.time()
        last_ckpt = last_val = t_start
        last_log_t, last_log_step = t_start, self.step
        acc: dict[str, float] = {}
        nacc = 0
        self.log({**self.validate(), "event": "start"})
        while time.time() - t_start < budget and not (stop and stop.is_set()):
            t0 = time.time()
            losses = self.train_step()
            self.train_seconds += time.time() - t0
            for k, v in losses.items():
                acc[k] = acc.get(k, 0.0) + v
            nacc += 1
            now = time.time()
            if self.step % self.cfg.log_every == 0:
                rec = {"step": self.step, "train_min": round(self.train_seconds / 60, 2),
                       "it_s": round((self.step - last_log_step) / max(now - last_log_t, 1e-9), 3),
                       "lr_factor": round(self.lr_factor(), 4)}
                rec.update({f"loss_{k}": round(v / nacc, 5) for k, v in acc.items()})
                self.log(rec)
                acc, nacc = {}, 0
                last_log_t, last_log_step = now, self.step
            if now - last_val >= self.cfg.val_every_s:
                self.log(self.validate())
                last_val = time.time()
            if now - last_ckpt >= self.cfg.ckpt_every_s:
                self.checkpoint()
                last_ckpt = time.time()
        self.log({**self.validate(), "event": "end"})
        self.checkpoint()


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", default="run", help="run folder under training/runs/")
    ap.add_argument("--nets", default="g-fast,m", help="comma list from g-fast, g-fine, m")
    ap.add_argument("--minutes", type=float, required=True, help="wall-clock budget of this run")
    ap.add_argument("--schedule-minutes", type=float, default=None,
                    help="training minutes the LR schedule spans (default: this budget + minutes already done)")
    ap.add_argument("--resume", default=None, help="checkpoint to continue from")
    ap.add_argument("--crop", type=int, default=None)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--lr", type=float, default=None, help="learning rate of every net")
    ap.add_argument("--w-fft", type=float, default=None)
    ap.add_argument("--echo", type=int, default=None, help="gradient steps per synthesized batch (default 1)")
    ap.add_argument("--m-loss", choices=("sign-invariant", "canonical"), default=None, help="M's loss (default sign-invariant)")
    ap.add_argument("--synth", default=None, help="JSON overrides of SynthConfig, e.g. '{\"p_linear_light\": 1}'")
    ap.add_argument("--val-every", type=float, default=None, help="seconds")
    ap.add_argument("--ckpt-every", type=float, default=None, help="seconds")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--runs", type=Path, default=RUNS)
    ap.add_argument("--export", type=Path, default=None, help="export the nets as ONNX into this folder at the end")
    args = ap.parse_args(argv)

    device = pick_device(args.device)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    torch.set_flush_denormal(True)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    try:
        ck = load_checkpoint(args.resume) if args.resume else None
        cfg = config_from_dict(ck["config"]) if ck else TrainConfig()
        cfg.nets = tuple(n.strip() for n in args.nets.split(",") if n.strip())
        for k, v in (("crop", args.crop), ("batch", args.batch), ("w_fft", args.w_fft), ("echo", args.echo), ("m_loss", args.m_loss),
                     ("val_every_s", args.val_every), ("ckpt_every_s", args.ckpt_every)):
            if v is not None:
                setattr(cfg, k, v)
        if args.lr is not None:
            cfg.lr_g = cfg.lr_m = args.lr
        if args.synth:
            for k, v in json.loads(args.synth).items():
                if not hasattr(cfg.synth, k):
                    raise SystemExit(f"train: error: unknown synth setting '{k}'")
                setattr(cfg.synth, k, tuple(v) if isinstance(v, list) else v)
        if ck:  # before any photo is read: a wrong checkpoint is refused at once
            held = sorted(ck.get("nets", {}))
            for name in cfg.nets:
                if name not in held:
                    raise CheckpointError(f"checkpoint {args.resume} holds {held}, not '{name}'")
        done_min = float(ck["train_seconds"]) / 60 if ck else 0.0
        cfg.schedule_minutes = args.schedule_minutes or (done_min + args.minutes)
        trainer = Trainer(cfg, args.runs / args.name, device, data=args.data)
        if args.resume:
            trainer.resume(args.resume)
    except (CheckpointError, DataError) as e:
        print(f"train: error: {e}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum, frame):  # checkpoint and exit on kill (SIGTERM) or Ctrl-C
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(json.dumps({"event": "config", "device": str(device), "threads": torch.get_num_threads(),
                      "train_photos": len(trainer.train_set), "val_photos": len(trainer.val_set),
                      "config": asdict(cfg)}), flush=True)
    trainer.run(args.minutes, stop)
    if args.export:
        from .export import export_net
        for n, net in trainer.nets.items():
            export_net(net.cpu().eval(), args.export / EXPORT_NAMES[n])
    return 0


if __name__ == "__main__":
    sys.exit(main())
