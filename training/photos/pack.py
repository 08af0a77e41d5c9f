"""Pack the fetched photos into a compact bundle movable to a GPU machine.

    /usr/bin/python3 -m training.photos.pack            # → training/data/bundle/{train,val,test}/*.jpg

Each photo is resized to a long side of at most 768 px and saved as JPEG quality 92 under its split,
named by its sha1; the manifest is copied beside it (bundle/manifest.jsonl). The whole bundle is kept
under --max-mib (default 50): the long side shrinks for all photos if the first pass is too large.
Training reads training/data/bundle/SPLIT/*.jpg when it exists.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "training" / "data"


def pack(data: Path, long_side: int, quality: int, max_mib: float, exclude: tuple[str, ...] = ()) -> Path:
    man = data / "manifest.jsonl"
    if not man.exists():
        raise SystemExit(f"pack: error: {man} does not exist (run training.photos.fetch first)")
    entries = [json.loads(l) for l in man.read_text().splitlines() if l.strip()]
    entries = [e for e in entries if e["package"] not in exclude]
    if not entries:
        raise SystemExit("pack: error: the manifest lists no photos")
    while True:
        stage = Path(tempfile.mkdtemp(prefix=".bundle-", dir=data))
        total = 0
        for e in entries:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                im = Image.open(data / "photos" / e["file"])
                im.draft("RGB", (long_side, long_side))
                im = im.convert("RGB")
            w, h = im.size
            s = long_side / max(w, h)
            if s < 1:
                im = im.resize((round(w * s), round(h * s)), Image.LANCZOS)
            out = stage / e["split"] / f"{e['sha1']}.jpg"
            out.parent.mkdir(exist_ok=True)
            im.save(out, "JPEG", quality=quality, subsampling=0)
            total += out.stat().st_size
        (stage / "manifest.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
        total += (stage / "manifest.jsonl").stat().st_size
        if total <= max_mib * 2 ** 20 or long_side <= 384:
            break
        shutil.rmtree(stage)
        long_side = int(long_side * 0.9)
    dst = data / "bundle"
    if dst.exists():
        old = data / ".bundle-old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dst, old)
        shutil.rmtree(old, ignore_errors=True)
    os.replace(stage, dst)
    os.chmod(dst, 0o755)
    print(f"bundle: {len(entries)} photos, {total / 2 ** 20:.1f} MiB, long side {long_side} → {dst}")
    return dst


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--long-side", type=int, default=768)
    ap.add_argument("--quality", type=int, default=92)
    ap.add_argument("--max-mib", type=float, default=50.0)
    ap.add_argument("--exclude", nargs="*", default=[], help="packages to leave out")
    a = ap.parse_args(argv)
    pack(a.data, a.long_side, a.quality, a.max_mib, tuple(a.exclude))
    return 0


if __name__ == "__main__":
    sys.exit(main())
