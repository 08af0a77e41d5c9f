"""Exact FLOPs per megapixel of every network (convolution MACs × 2; activations, adds, norms not counted).

    /usr/bin/python3 -m training.flops
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .models import NETS, build, n_params


def conv_macs(net: nn.Module, h: int, w: int) -> int:
    total = 0

    def hook(m: nn.Conv2d, inp, out):
        nonlocal total
        kh, kw = m.kernel_size
        total += out.numel() // out.shape[0] * (m.in_channels // m.groups) * kh * kw

    hs = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            net(torch.zeros(1, getattr(net, "in_channels", 3), h, w))
    finally:
        for x in hs:
            x.remove()
    return total


def gflops_per_mp(net: nn.Module, size: int = 256) -> float:
    """Conv FLOPs scale exactly with the pixel count for sizes that are multiples of the size multiple."""
    return 2 * conv_macs(net, size, size) * (1e6 / (size * size)) / 1e9


def table() -> list[dict]:
    rows = []
    for name in NETS:
        net = build(name).eval()
        rows.append({"net": name, "params": n_params(net), "gflop_per_mp": gflops_per_mp(net),
                     "size_multiple": net.size_multiple})
    return rows


def main() -> None:
    print(f"{'net':8} {'params':>10} {'GFLOP/MP':>9} {'multiple':>8}")
    for r in table():
        print(f"{r['net']:8} {r['params']:>10,} {r['gflop_per_mp']:>9.2f} {r['size_multiple']:>8}")


if __name__ == "__main__":
    main()
