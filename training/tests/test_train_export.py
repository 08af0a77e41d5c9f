import json
from pathlib import Path

import numpy as np
import pytest
import torch

from training import train as T
from training.data import PhotoSet
from training.export import check_ops, export_net, onnx_bytes, supported_ops, ExportError
from training.models import build


class FakeSet(PhotoSet):
    def __init__(self, n=3, seed=0):
        rng = np.random.RandomState(seed)
        ys, xs = np.mgrid[0:96, 0:96]
        self.images = []
        for i in range(n):
            base = (np.sin(xs / (3 + i)) * np.cos(ys / 5) * 90 + 128)[..., None] + rng.randint(0, 60, (96, 96, 3))
            self.images.append(np.clip(base, 0, 255).astype(np.uint8))
        self.paths = []


def small_cfg(nets=("g-fast", "m")):
    cfg = T.TrainConfig(nets=nets, crop=32, batch=4, val_crops=4, val_size=32, lr_g=1e-3, lr_m=1e-3,
                        schedule_minutes=10, log_every=1000, warmup=0.0)
    cfg.synth.margin = 8
    return cfg


def make_trainer(tmp_path, nets=("g-fast", "m")):
    return T.Trainer(small_cfg(nets), tmp_path / "run", torch.device("cpu"), train_set=FakeSet(), val_set=FakeSet(2, 1))


def test_a_few_steps_lower_the_loss(tmp_path):
    tr = make_trainer(tmp_path)
    tr.batch = lambda step, _b=tr.batch(0): _b  # one fixed batch: the loss must go down on it
    with torch.no_grad():  # start G away from its identity init, as after a bad step
        tr.nets["g-fast"].head.weight.normal_(0, 0.02)
    first = tr.train_step()
    for _ in range(15):
        last = tr.train_step()
    assert last["g-fast"] < 0.9 * first["g-fast"] and last["m"] < first["m"]


def test_checkpoint_resume_and_mismatch(tmp_path):
    tr = make_trainer(tmp_path)
    tr.run(minutes=0.02)
    ck = tmp_path / "run" / "last.pt"
    assert ck.exists() and (tmp_path / "run" / "log.jsonl").exists()
    log = [json.loads(l) for l in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert any("psnr_g-fast" in r for r in log)
    step = tr.step
    tr2 = make_trainer(tmp_path)
    tr2.resume(ck)
    assert tr2.step == step and tr2.train_seconds == tr.train_seconds
    for a, b in zip(tr.nets["g-fast"].parameters(), tr2.nets["g-fast"].parameters()):
        assert torch.equal(a, b)
    tr2.train_step()
    assert tr2.step == step + 1
    # another architecture: a clear error
    tr3 = T.Trainer(small_cfg(("g-fine",)), tmp_path / "r3", torch.device("cpu"), train_set=FakeSet(),
                    val_set=FakeSet(2, 1))
    with pytest.raises(T.CheckpointError, match="holds"):
        tr3.resume(ck)
    ckd = torch.load(ck)
    ckd["nets"]["g-fine"] = dict(ckd["nets"]["g-fast"])
    torch.save(ckd, tmp_path / "bad.pt")
    with pytest.raises(T.CheckpointError, match="another architecture"):
        tr3.resume(tmp_path / "bad.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(T.CheckpointError):
        tr3.resume(tmp_path / "junk.pt")


def test_cli_mismatched_checkpoint_is_a_clear_error(tmp_path, capsys):
    tr = make_trainer(tmp_path, nets=("m",))
    tr.checkpoint()
    rc = T.main(["--nets", "g-fast", "--minutes", "0", "--resume", str(tmp_path / "run" / "last.pt"),
                 "--runs", str(tmp_path / "runs"), "--crop", "32"])
    assert rc == 2 and "holds ['m'], not 'g-fast'" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["g-fast", "m", "d", "g-refine", "dn"])
def test_export_supported_ops_and_io_json(tmp_path, name):
    net = build(name)
    torch.manual_seed(0)
    with torch.no_grad():  # non-trivial weights
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    info = export_net(net, tmp_path / f"{name}.onnx")
    assert set(info["ops"]) <= supported_ops()
    ref = json.loads((tmp_path / f"{name}.io.json").read_text())
    assert ref["input"]["shape"] == [1, getattr(net, "in_channels", 3), 32, 48]
    x = torch.tensor(ref["input"]["data"]).view(ref["input"]["shape"])
    with torch.no_grad():
        y = net.eval()(x)
    assert np.abs(y.flatten().numpy() - np.array(ref["output"]["data"], np.float32)).max() < 1e-5
    import onnx
    m = onnx.load(str(tmp_path / f"{name}.onnx"))
    assert [i.name for i in m.graph.input] == ["input"] and [o.name for o in m.graph.output] == ["output"]
    dims = m.graph.input[0].type.tensor_type.shape.dim
    assert dims[2].dim_param and dims[3].dim_param  # dynamic height and width


def test_export_refuses_unsupported_ops():
    data = onnx_bytes(build("m"))
    with pytest.raises(ExportError, match="Tanh"):
        check_ops(data, allowed=supported_ops() - {"Tanh"})


def test_m_loss_canonical_is_plain_l1_to_the_canonical_target():
    target = torch.tensor([[[[0.3]], [[0.2]]]])  # (u, v) with v ≥ 0: canonical
    assert float(T.m_loss(-target, target)) == 0.0  # sign-invariant: −m is the same blur
    assert float(T.m_loss(-target, target, "canonical")) == pytest.approx(0.5)
    assert float(T.m_loss(target, target, "canonical")) == 0.0
