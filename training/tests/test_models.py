import pytest
import torch

from training.flops import gflops_per_mp
from training.models import build, check_size


@pytest.mark.parametrize("name,cout", [("g-fast", 3), ("g-fine", 3), ("m", 2)])
def test_shapes_and_size_multiple(name, cout):
    net = build(name).eval()
    assert net.size_multiple == (16 if name != "m" else 8)
    with torch.no_grad():
        y = net(torch.rand(1, 3, 32, 48))
    assert y.shape == (1, cout, 32, 48)
    if name == "m":
        assert float(y.abs().max()) < 1
    with pytest.raises(ValueError, match="multiple"):
        check_size(net, 30, 48)


def test_g_starts_as_identity():
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(build("g-fast")(x), x)


def test_d_shape():
    with torch.no_grad():
        assert build("d")(torch.rand(2, 3, 64, 64)).shape == (2, 1, 8, 8)


def test_flop_budgets():
    fast, fine, m = (gflops_per_mp(build(n), 64) for n in ("g-fast", "g-fine", "m"))
    assert fast <= 60 and fine <= 250 and m < fast / 4
    assert abs(gflops_per_mp(build("g-fast"), 64) - gflops_per_mp(build("g-fast"), 128)) < 1e-9


def test_refiner_takes_map_and_photo_and_starts_as_the_map_result():
    net = build("g-refine").eval()
    assert net.in_channels == 6 and net.size_multiple == 16
    x = torch.rand(1, 6, 32, 48)
    with torch.no_grad():
        assert torch.allclose(net(x), x[:, :3])
    assert gflops_per_mp(net, 64) <= 25


def test_denoiser_is_conditioned_on_sigma_and_starts_as_identity():
    net = build("dn").eval()
    x = torch.rand(1, 2, 16, 24)
    with torch.no_grad():
        assert torch.allclose(net(x), x[:, :1])
        net.head.weight.normal_(0, 0.1)
        lo, hi = x.clone(), x.clone()
        lo[:, 1], hi[:, 1] = 0.01, 0.2
        assert not torch.allclose(net(lo), net(hi))  # σ reaches the output
    assert gflops_per_mp(net, 64) <= 20
