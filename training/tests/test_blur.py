import math

import torch

from training import blur as B


def _field(n, h, w, dx, dy):
    return torch.tensor([dx, dy], dtype=torch.float32).expand(n, h, w, 2).contiguous()


def test_zero_motion_returns_image():
    x = torch.rand(2, 3, 16, 24, generator=torch.Generator().manual_seed(0))
    off = torch.zeros(2, 15, 16, 24, 2)
    assert torch.allclose(B.blur_with_offsets(x, off), x, atol=1e-6)
    assert torch.allclose(B.blur_linear_light(x, off, 1.0), x, atol=5e-5)  # float error × sRGB slope


def test_constant_image_stays_constant():
    x = torch.full((1, 3, 20, 20), 0.37)
    off = B.linear_offsets(B.random_linear_field(torch.Generator().manual_seed(1), 1, 20, 20, 8.0), 17)
    assert torch.allclose(B.blur_with_offsets(x, off), x, atol=1e-6)
    traj, k = B.random_shake(torch.Generator().manual_seed(2), 1, 20, 20, 6.0)
    assert torch.allclose(B.blur_with_offsets(x, B.shake_offsets(traj, 20, 20)), x, atol=1e-6)


def test_point_becomes_line_of_right_length_and_direction():
    h = w = 41
    x = torch.zeros(1, 3, h, w)
    x[0, :, 20, 20] = 1.0
    # half-length 5 px along +x: the line covers x in [15, 25] on row 20
    off = B.linear_offsets(_field(1, h, w, 5.0, 0.0), 11)
    y = B.blur_with_offsets(x, off)[0, 0]
    row = y[20]
    assert torch.nonzero(row > 1e-6).flatten().tolist() == list(range(15, 26))
    assert torch.allclose(row[15:26], torch.full((11,), 1 / 11), atol=1e-6)
    assert float(y.sum() - row.sum()) < 1e-6          # nothing off the row
    assert abs(float(y.sum()) - 1.0) < 1e-5           # energy kept
    # diagonal (3, 4) px half-extent: 5 px each way along (0.6, 0.8)
    off = B.linear_offsets(_field(1, h, w, 3.0, 4.0), 11)
    y = B.blur_with_offsets(x, off)[0, 0]
    ys, xs = torch.nonzero(y > 1e-4, as_tuple=True)
    assert int(xs.min()) >= 16 and int(xs.max()) <= 24 and int(ys.min()) >= 15 and int(ys.max()) <= 25
    cov = torch.cov(torch.stack([xs.float(), ys.float()]), aweights=y[ys, xs])
    ev, evec = torch.linalg.eigh(cov)
    d = evec[:, -1]
    assert abs(abs(float(d[0])) - 0.6) < 0.05 and abs(abs(float(d[1])) - 0.8) < 0.05


def test_sampling_is_border_replicate_and_pixel_centred():
    x = torch.arange(5, dtype=torch.float32).view(1, 1, 1, 5).expand(1, 3, 1, 5).contiguous()
    off = torch.zeros(1, 1, 1, 5, 2)
    off[..., 0] = 0.5
    y = B.blur_with_offsets(x, off)[0, 0, 0]
    assert torch.allclose(y, torch.tensor([0.5, 1.5, 2.5, 3.5, 4.0]))
    off[..., 0] = -10
    assert torch.allclose(B.blur_with_offsets(x, off)[0, 0, 0], torch.zeros(5))


def test_srgb_curve_roundtrip_and_constants():
    v = torch.linspace(0, 1, 1001)
    assert torch.allclose(B.linear_to_srgb(B.srgb_to_linear(v)), v, atol=1e-6)
    assert abs(float(B.srgb_to_linear(torch.tensor(0.5))) - 0.21404) < 1e-4
    assert abs(float(B.srgb_to_linear(torch.tensor(0.04045))) - 0.04045 / 12.92) < 1e-7


def test_linear_light_and_highlight_clipping():
    h = w = 31
    x = torch.full((1, 3, h, w), 0.1)
    x[0, :, 15, 15] = 1.0
    off = B.linear_offsets(_field(1, h, w, 4.0, 0.0), 9)
    pix = B.blur_pixel_values(x, off)
    lin = B.blur_linear_light(x, off, gain=1.0)
    boosted = B.blur_linear_light(x, off, gain=4.0, threshold=0.9)
    # a saturated point blurred in linear light is brighter than in pixel mode, and brighter still boosted
    assert float(lin[0, 0, 15, 15]) > float(pix[0, 0, 15, 15]) + 0.05
    assert float(boosted[0, 0, 15, 15]) > float(lin[0, 0, 15, 15]) + 0.05
    # clipping: a large saturated area stays at 1, never above
    x2 = torch.ones(1, 3, h, w)
    assert float(B.blur_linear_light(x2, off, gain=4.0).max()) <= 1.0 + 1e-6
    # dark pixels are not boosted
    assert torch.allclose(B.boost_highlights(torch.full((1, 3, 2, 2), 0.5), 4.0, 0.9), torch.full((1, 3, 2, 2), 0.5))


def test_canonical_sign():
    m = torch.tensor([[1.0, -2.0], [-1.0, 2.0], [-3.0, 0.0], [3.0, 0.0], [0.0, 0.0]])
    c = B.canonical_sign(m)
    assert c.tolist() == [[-1.0, 2.0], [-1.0, 2.0], [3.0, 0.0], [3.0, 0.0], [0.0, 0.0]]


def test_motion_target_linear_equals_principal_axis():
    f = _field(1, 8, 8, -6.0, -8.0)
    for k in (15, 21, 41):
        m = B.motion_from_offsets(B.linear_offsets(f, k))
        assert torch.allclose(m[0, :, 3, 3], torch.tensor([0.3, 0.4]), atol=1e-5)
    assert torch.allclose(B.motion_from_field(f)[0, :, 0, 0], torch.tensor([0.3, 0.4]))


def test_steps_rule():
    assert B.steps_for(0) == 15 and B.steps_for(7.0) == 15 and B.steps_for(7.2) == 17 and B.steps_for(20) == 41
    f = B.random_linear_field(torch.Generator().manual_seed(3), 4, 32, 32, 20.0)
    assert float(f.norm(dim=-1).max()) <= 20.0 + 1e-4


def test_shake_trajectory_centred_and_bounded():
    traj, k = B.random_shake(torch.Generator().manual_seed(5), 3, 64, 48, 10.0)
    assert k % 2 == 1 and k >= 15
    assert torch.allclose(traj.mean(1), torch.zeros(3, 3), atol=1e-5)
    off = B.shake_offsets(traj, 64, 48)
    assert float(off.norm(dim=-1).max()) <= 10.0 + 1e-3
    # consecutive samples are close (K is capped at twice the linear rule)
    assert float((off[:, 1:] - off[:, :-1]).norm(dim=-1).max()) <= 3.0


def test_synthesize_shapes_determinism_and_unblurred():
    x = torch.rand(6, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    cfg = B.SynthConfig(margin=8, p_none=0.3)
    a = B.synthesize(x, torch.Generator().manual_seed(9), cfg)
    b = B.synthesize(x, torch.Generator().manual_seed(9), cfg)
    assert a.blurry.shape == (6, 3, 32, 32) and a.motion.shape == (6, 2, 32, 32)
    assert torch.equal(a.blurry, b.blurry) and torch.equal(a.motion, b.motion)
    for i, k in enumerate(a.kind):
        if k == "none":
            assert torch.equal(a.blurry[i], a.sharp[i]) and float(a.motion[i].abs().max()) == 0
        else:
            assert float(a.motion[i].abs().max()) > 0
    assert float(a.motion[:, 1].min()) >= 0  # canonical: v ≥ 0
    assert a.blurry.min() >= 0 and a.blurry.max() <= 1


def test_echo_views_keep_blur_and_motion_consistent():
    from training.train import echo_view
    h = w = 24
    x = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(4))
    f = _field(1, h, w, 3.0, 1.0)
    b = B.SynthBatch(B.blur_with_offsets(x, B.linear_offsets(f, 15)), x, B.motion_from_field(f), torch.zeros(1),
                     ["linear"])
    for view in (1, 2, 3):
        e = echo_view(b, view)
        again = B.blur_with_offsets(e.sharp, B.linear_offsets((e.motion.permute(0, 2, 3, 1) * 20).contiguous(), 15))
        assert float((again - e.blurry)[..., 3:-3, 3:-3].abs().max()) < 1e-5
