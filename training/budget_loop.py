"""The wall-clock-budgeted training loop the learned parts share: Adam steps under a cosine learning rate until the
budget is spent or SIGTERM arrives, a JSON line of validation every few steps, an atomic checkpoint every two
minutes and at the end (so a stopped run resumes where it was)."""
from __future__ import annotations

import json
import math
import signal
import time
from pathlib import Path
from typing import Callable

import torch

CHECKPOINT_SECONDS = 120


def run_budgeted(opt: torch.optim.Optimizer, loss_at: Callable[[int], torch.Tensor], *, lr: float, minutes: float,
                 step: int, seconds: float, save: Callable[[int, float], Path], report: Callable[[], dict],
                 every: int, log: Path) -> tuple[int, float]:
    """loss_at(step) gives the loss of one batch; save(step, seconds) writes the checkpoint; report() validates.
    Returns the step count and training seconds reached (counting those of a resumed run)."""
    budget = seconds + minutes * 60
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.time() - seconds
    last_ckpt = time.time()
    while seconds < budget and not stop["now"]:
        rate = lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, seconds / budget))))
        for g in opt.param_groups:
            g["lr"] = rate
        loss = loss_at(step)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        seconds = time.time() - t0
        if step % every == 0:
            rec = {"step": step, "minutes": round(seconds / 60, 2), "lr": rate, "loss": float(loss)} | report()
            with log.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            print(json.dumps(rec), flush=True)
        if time.time() - last_ckpt > CHECKPOINT_SECONDS:
            save(step, seconds)
            last_ckpt = time.time()
    path = save(step, seconds)
    print(json.dumps({"checkpoint": str(path), "step": step} | report()), flush=True)
    return step, seconds
