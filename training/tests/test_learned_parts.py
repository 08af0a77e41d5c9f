"""The MAP core's learned parts train from their data and export: the refiner from the engine's MAP cache, the
denoiser from photo crops."""
import json

import numpy as np
import torch
from PIL import Image

from training import train_refiner as R
from training.models import build


def write_cache(folder, photos):
    folder.mkdir(parents=True)
    rng = np.random.RandomState(0)
    lines = []
    for photo in photos:
        for recipe in ("shake", "none"):
            stem = f"{recipe}-{photo}"
            sharp = rng.randint(0, 256, (48, 48, 3)).astype(np.uint8)
            blurry = sharp if recipe == "none" else (sharp // 2 + 64).astype(np.uint8)
            mapped = sharp if recipe == "none" else (sharp * 3 // 4 + 32).astype(np.uint8)
            for kind, img in (("sharp", sharp), ("blurry", blurry), ("map", mapped)):
                Image.fromarray(img).save(folder / f"{stem}.{kind}.png")
            lines.append(json.dumps({"id": f"{recipe}/{photo}.jpg", "recipe": recipe, "stem": stem, "maxHalfExtentPx": 6}))
    (folder / "index.jsonl").write_text("\n".join(lines) + "\n")


def photos_on_both_sides(n_train=3):
    train, val = [], []
    for i in range(200):
        name = f"p{i}"
        (val if R.is_val({"id": f"x/{name}.jpg"}) else train).append(name)
    return train[:n_train] + val[:1]


def test_refiner_trains_on_the_map_cache_and_exports(tmp_path, monkeypatch, capsys):
    write_cache(tmp_path / "cache", photos_on_both_sides())
    monkeypatch.setattr(R, "RUNS", tmp_path / "runs")
    rc = R.main(["--cache", str(tmp_path / "cache"), "--minutes", "0.05", "--crop", "32", "--batch", "2",
                 "--export", str(tmp_path / "models")])
    assert rc == 0
    final = next(r for r in map(json.loads, capsys.readouterr().out.splitlines()) if "checkpoint" in r)
    assert {"map_shake", "g_shake", "g_worst_vs_map_none", "g_none"} <= set(final)
    assert (tmp_path / "models" / "refiner.onnx").exists() and (tmp_path / "runs" / "refine" / "last.pt").exists()


def test_refiner_without_a_cache_or_with_another_architecture_is_a_clear_error(tmp_path, monkeypatch, capsys):
    assert R.main(["--cache", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    write_cache(tmp_path / "cache", photos_on_both_sides())
    monkeypatch.setattr(R, "RUNS", tmp_path / "runs")
    bad = tmp_path / "g.pt"
    torch.save({"format": "neurmap-train-1", "nets": {"g-refine": {"arch": {"name": "g-fast"}, "state": {}}}}, bad)
    assert R.main(["--cache", str(tmp_path / "cache"), "--resume", str(bad)]) == 2
    assert "another architecture" in capsys.readouterr().err


def test_refiner_training_steps_lower_the_loss_on_a_fixed_batch():
    net = build("g-refine")
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.rand(2, 6, 32, 32)
    y = (x[:, :3] * 0.5 + x[:, 3:] * 0.5).clamp(0, 1)
    first = None
    for _ in range(30):
        loss = torch.nn.functional.l1_loss(net(x), y)
        first = first if first is not None else float(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss) < 0.7 * first


def test_denoiser_trains_on_photo_crops_resumes_and_exports(tmp_path, monkeypatch, capsys):
    from training import train_denoiser as D
    rng = np.random.RandomState(1)
    for split, n in (("train", 3), ("val", 1)):
        (tmp_path / "bundle" / split).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.randint(0, 256, (160, 160, 3)).astype(np.uint8)).save(tmp_path / "bundle" / split / f"{i}.jpg")
    monkeypatch.setattr(D, "RUNS", tmp_path / "runs")
    args = ["--data", str(tmp_path), "--crop", "32", "--batch", "2", "--channels", "8", "--layers", "2"]
    assert D.main(args + ["--minutes", "0.02"]) == 0
    first = next(r for r in map(json.loads, capsys.readouterr().out.splitlines()) if "checkpoint" in r)
    assert {"psnr_5", "psnr_noisy_5", "psnr_30"} <= set(first)
    assert D.main(args + ["--minutes", "0.02", "--resume", first["checkpoint"], "--export", str(tmp_path / "models")]) == 0
    again = next(r for r in map(json.loads, capsys.readouterr().out.splitlines()) if "checkpoint" in r)
    assert again["step"] > first["step"]
    assert (tmp_path / "models" / "denoiser.onnx").exists()
    assert D.main(["--data", str(tmp_path), "--resume", first["checkpoint"]]) == 2  # 24 channels ≠ the checkpoint's 8
    assert "holds" in capsys.readouterr().err
