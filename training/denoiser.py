"""D_prior, the learned image prior of the MAP core's non-blind step: a small noise-level-conditioned denoiser
(FFDNet-style: it works at half resolution behind a 2×2 stride-2 conv, with the noise level as an input channel)
that the deconvolution calls as its proximal step (plug-and-play half-quadratic splitting, Zhang et al. 2017,
IRCNN; 2021, DPIR).

Input `input` 1×2×H×W: luminance in [0, 1] and a constant plane holding σ (noise std on the same scale);
output `output` 1×1×H×W: the denoised luminance. H and W even. Only Conv, Relu, Add and DepthToSpace appear in
the graph (the luminance is picked by a fixed 1×1 conv rather than a Slice).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

NAME = "dn"


class Denoiser(nn.Module):
    size_multiple = 2
    in_channels = 2

    def __init__(self, channels: int = 24, layers: int = 5) -> None:
        super().__init__()
        self.name = NAME
        self.channels = channels
        self.layers = layers
        self.down = nn.Conv2d(2, channels, 2, stride=2)
        self.body = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1) for _ in range(layers))
        self.head = nn.Conv2d(channels, 4, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        pick = torch.zeros(1, 2, 1, 1)
        pick[0, 0] = 1.0
        self.register_buffer("pick", pick)  # the luminance channel, as a conv the exporter keeps as Conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.down(x))
        for conv in self.body:
            h = F.relu(conv(h))
        return F.conv2d(x, self.pick) + F.pixel_shuffle(self.head(h), 2)

    def arch(self) -> dict:
        return {"name": NAME, "family": "denoiser", "channels": self.channels, "layers": self.layers}


def noisy_input(clean: torch.Tensor, sigma: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
    """clean N×1×H×W, sigma N → the net's N×2×H×W input with Gaussian noise of that std added."""
    n = clean.shape[0]
    s = sigma.view(n, 1, 1, 1)
    noise = torch.randn(clean.shape, generator=gen) * s
    return torch.cat([clean + noise, s.expand_as(clean)], dim=1)
