"""G (deblur), M (motion) and D (PatchGAN) for NeurMAP Studio.

G and M come from ONE parametrised U-Net family (UNet below):
  patchify: Conv 2×2 stride 2 (space-to-depth by 2 with learned mixing; exports as a plain Conv)
  encoder:  per level residual blocks (Conv3×3-ReLU-Conv3×3 + identity), then a 2×2 stride-2 Conv down
  decoder:  Conv3×3 to 4·C then pixel_shuffle(2) (exports as DepthToSpace), skip merged by Add
            (or Concat + Conv1×1), residual blocks
  head:     Conv3×3 to 4·out then pixel_shuffle(2): full input resolution
  G: output = input + r (residual, no clamp inside); M: Tanh on 2 channels.
Only Conv, Relu, Add, Concat, DepthToSpace, Tanh (and InstanceNormalization, LeakyRelu in D) appear in
the exported graphs: see src-main/engine/graph/supported-ops.json.

Input height and width must be multiples of `size_multiple` (2 · 2^(levels−1)).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from .denoiser import Denoiser


@dataclass(frozen=True)
class UNetSpec:
    channels: tuple[int, ...]
    enc_blocks: tuple[int, ...]
    dec_blocks: tuple[int, ...]
    mid_blocks: int
    in_ch: int = 3
    out_ch: int = 3
    skip: str = "add"            # "add" or "concat"
    output: str = "residual"     # "residual" (G: x + r) or "tanh" (M)
    head_init_scale: float = 0.0     # G starts as the identity (residual output r = 0)
    up_kernel: int = 3           # kernel of the Conv before each pixel_shuffle (1 is 9× cheaper)


SPECS: dict[str, UNetSpec] = {
    # ≤ 60 GFLOP/MP (the default deblur network)
    "g-fast": UNetSpec(channels=(24, 48, 96, 128), enc_blocks=(1, 1, 1), dec_blocks=(1, 1, 1), mid_blocks=2),
    # ≤ 250 GFLOP/MP, for GPUs and for quality over speed
    "g-fine": UNetSpec(channels=(48, 96, 160, 256), enc_blocks=(1, 2, 2), dec_blocks=(2, 2, 2), mid_blocks=2,
                       up_kernel=1),
    # NEURMAP.md's reference M, slimmed: space-to-depth by 2, stages 16/32/64, skips; 2 channels, Tanh
    "m": UNetSpec(channels=(16, 32, 64), enc_blocks=(1, 1), dec_blocks=(0, 1), mid_blocks=1, out_ch=2,
                  output="tanh", up_kernel=1, head_init_scale=0.1),
    # the refiner of the MAP core's result: in the MAP output and the blurry photo (6 channels), out the MAP
    # output plus a residual, so that it starts as the MAP core alone
    "g-refine": UNetSpec(channels=(16, 32, 64, 96), enc_blocks=(1, 1, 1), dec_blocks=(1, 1, 1), mid_blocks=1,
                         in_ch=6, up_kernel=1),
}


class ResBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class Up(nn.Module):
    """Conv to 4·c_out, pixel_shuffle(2) (DepthToSpace), merge with the skip."""

    def __init__(self, c_in: int, c_out: int, skip: str, kernel: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, 4 * c_out, kernel, padding=kernel // 2)
        self.skip = skip
        self.merge = nn.Conv2d(2 * c_out, c_out, 1) if skip == "concat" else None

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        y = F.pixel_shuffle(self.conv(x), 2)
        if self.merge is not None:
            return F.relu(self.merge(torch.cat([y, s], 1)))
        return y + s


class UNet(nn.Module):
    def __init__(self, spec: UNetSpec, name: str = "") -> None:
        super().__init__()
        self.spec = spec
        self.name = name
        ch = spec.channels
        levels = len(ch)
        assert len(spec.enc_blocks) == levels - 1 and len(spec.dec_blocks) == levels - 1
        self.size_multiple = 2 * 2 ** (levels - 1)
        self.in_channels = spec.in_ch
        self.stem = nn.Conv2d(spec.in_ch, ch[0], 2, stride=2)
        self.enc = nn.ModuleList(nn.Sequential(*[ResBlock(ch[i]) for _ in range(spec.enc_blocks[i])])
                                 for i in range(levels - 1))
        self.down = nn.ModuleList(nn.Conv2d(ch[i], ch[i + 1], 2, stride=2) for i in range(levels - 1))
        self.mid = nn.Sequential(*[ResBlock(ch[-1]) for _ in range(spec.mid_blocks)])
        self.up = nn.ModuleList(Up(ch[i + 1], ch[i], spec.skip, spec.up_kernel) for i in range(levels - 1))
        self.dec = nn.ModuleList(nn.Sequential(*[ResBlock(ch[i]) for _ in range(spec.dec_blocks[i])])
                                 for i in range(levels - 1))
        self.head = nn.Conv2d(ch[0], 4 * spec.out_ch, 3, padding=1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        if spec.output == "residual" and spec.in_ch != spec.out_ch:
            # the residual is added to the first out_ch input channels, picked by a fixed 1×1 conv (not a Slice,
            # which the in-app interpreter does not have)
            pick = torch.zeros(spec.out_ch, spec.in_ch, 1, 1)
            for c in range(spec.out_ch):
                pick[c, c] = 1.0
            self.register_buffer("pick", pick)
        with torch.no_grad():
            self.head.weight.mul_(spec.head_init_scale)
            for m in self.modules():  # residual branches start small: the net starts near identity
                if isinstance(m, ResBlock):
                    m.conv2.weight.mul_(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.stem(x))
        skips = []
        for enc, down in zip(self.enc, self.down):
            h = enc(h)
            skips.append(h)
            h = F.relu(down(h))
        h = self.mid(h)
        for i in reversed(range(len(self.up))):
            h = self.dec[i](self.up[i](h, skips[i]))
        y = F.pixel_shuffle(self.head(h), 2)
        if self.spec.output == "tanh":
            return torch.tanh(y)
        if self.spec.in_ch != self.spec.out_ch:
            return F.conv2d(x, self.pick) + y
        return x + y


class PatchD(nn.Module):
    """PatchGAN discriminator: 3 strided 4×4 convs of 64·2^k channels, InstanceNorm, LeakyReLU 0.2, then a
    4×4 conv to one logit map (LSGAN: 1 = natural, 0 = generated). Exports with pads, size multiple 8."""

    def __init__(self, in_ch: int = 3, base: int = 64, layers: int = 3) -> None:
        super().__init__()
        self.name = "d"
        self.size_multiple = 2 ** layers
        mods: list[nn.Module] = []
        c = in_ch
        for k in range(layers):
            co = base * 2 ** k
            mods.append(nn.Conv2d(c, co, 4, stride=2, padding=1))
            if k > 0:
                mods.append(nn.InstanceNorm2d(co, affine=True))
            mods.append(nn.LeakyReLU(0.2))
            c = co
        mods.append(nn.Conv2d(c, 1, 3, padding=1))
        self.net = nn.Sequential(*mods)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


NETS = ("g-fast", "g-fine", "g-refine", "m", "d", "dn")


def build(name: str) -> nn.Module:
    if name == "d":
        return PatchD()
    if name == "dn":
        return Denoiser()
    if name not in SPECS:
        raise ValueError(f"unknown network '{name}' (known: {', '.join(NETS)})")
    return UNet(SPECS[name], name)


def describe(net: nn.Module) -> dict:
    """Architecture identity stored in checkpoints: a checkpoint only loads into the same description."""
    if isinstance(net, UNet):
        return {"name": net.name, "family": "unet", "spec": asdict(net.spec)}
    if isinstance(net, Denoiser):
        return net.arch()
    return {"name": getattr(net, "name", type(net).__name__), "family": type(net).__name__}


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def check_size(net: nn.Module, h: int, w: int) -> None:
    m = getattr(net, "size_multiple", 1)
    if h % m or w % m:
        raise ValueError(f"{getattr(net, 'name', 'net')}: input {h}×{w} is not a multiple of {m}")
