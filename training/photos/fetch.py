"""Fetch sharp photographs from Debian packages, with provenance.

    /usr/bin/python3 -m training.photos.fetch                 # default package list
    /usr/bin/python3 -m training.photos.fetch --packages mate-backgrounds opencv-doc

For every package: `apt-get download` + `dpkg -x` into a temporary folder, every image file (and every
image inside Qt .rcc archives) is decoded, filtered (tiny, greyscale, drawings, text, abstract art,
blurry; see filters.py), de-duplicated (exact sha1 and a small perceptual hash, keeping the largest
version), and stored under training/data/photos/<sha1>.<ext> with its original bytes. The manifest
training/data/manifest.jsonl records package, version, path inside the package, licence (from the
package's /usr/share/doc/PKG/copyright), sha1, size, filter statistics and the split (train/val/test,
from a hash of the sha1: stable across runs). Every file is written to a temporary name and renamed.
Unknown packages or a failing download stop the run with a one-line error before anything is written.
"""
from __future__ import annotations

import argparse
import fnmatch
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

from ..atomic import atomic_write_bytes
from .filters import MIN_SHORT_SIDE, compute_stats, reject_reason
from .rcc import RccArchive, RccError

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "training" / "data"
PROVENANCE = REPO / "training" / "photos" / "PROVENANCE.md"

# (package, required). Optional ones are skipped with a note when the archive lacks them.
DEFAULT_PACKAGES: list[tuple[str, bool]] = [
    ("gcompris-qt-data", True), ("opencv-doc", True), ("lomiri-wallpapers", False),
    ("lomiri-wallpapers-16.04", False), ("lomiri-wallpapers-20.04", False), ("mate-backgrounds", True),
    ("plasma-workspace-wallpapers", True), ("python3-skimage", False), ("python3-skimage-lib", False),
    ("palapeli-data", True), ("hugin-data", False), ("digikam-data", False),
    # found by looking further (apt-cache search wallpaper / photo / puzzle / textures ...)
    ("jigzo-data", False), ("stellarium-data", False), ("python3-sklearn", False),
    ("python-matplotlib-data", False), ("wordpress", False), ("wordpress-theme-twentytwentythree", False),
    ("scribus-template", False), ("gimp-data-extras", False), ("sddm-theme-maui", False),
    ("visp-images-data", False), ("gnome-photos-tests", False), ("lomiri-gallery-app-common", False),
    ("photofilmstrip", False), ("kirigami-gallery", False), ("pysiogame", False), ("kanagram", False),
    ("khangman", False), ("xscreensaver-data-extra", False), ("imagemagick-6-doc", False),
    ("gthumb-data", False), ("photoqt", False), ("darktable", False), ("mypaint-data-extras", False),
    ("sweethome3d-textures-editor", False), ("colobot-common-textures", False), ("kstars-data", False),
    ("tuxpaint-data", False), ("kalzium-data", False), ("devede", False), ("sddm-theme-maldives", False),
    ("sddm-theme-elarun", False), ("extremetuxracer-data", False), ("neverball-data", False),
    ("trigger-rally-data", False), ("fotoxx-common", False),
    ("kdenlive-data", False), ("calligrastage-data", False), ("bzflag-data", False),
    ("tuxpaint-stamps-default", False),
]

IMAGE_EXT = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".ppm")
SPLITS = (("train", 85), ("val", 5), ("test", 10))


class FetchError(RuntimeError):
    pass


def split_for(sha1: str) -> str:
    """Deterministic split from the photo's sha1 (a source photo is one sha1 after de-duplication)."""
    v = int(hashlib.sha256(("split:" + sha1).encode()).hexdigest()[:8], 16) % 100
    acc = 0
    for name, pct in SPLITS:
        acc += pct
        if v < acc:
            return name
    return SPLITS[-1][0]


def run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def check_packages(names: list[str]) -> list[str]:
    """Names the archive knows; raises FetchError for a name it does not know."""
    known = []
    for n in names:
        if not re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", n):
            raise FetchError(f"unknown package '{n}' (not a Debian package name)")
        r = run(["apt-cache", "show", "--no-all-versions", n])
        if r.returncode != 0 or "Package:" not in r.stdout:
            raise FetchError(f"unknown package '{n}': apt-cache does not know it "
                             "(misspelt, or run 'apt-get update' first)")
        known.append(n)
    return known


def download(pkg: str, debs: Path) -> Path:
    """The package's .deb in the cache folder (downloaded once; written to a temp name, then renamed)."""
    debs.mkdir(parents=True, exist_ok=True)
    for f in debs.glob(f"{pkg}_*.deb"):
        return f
    with tempfile.TemporaryDirectory(dir=debs, prefix=".dl-") as tmp:
        r = run(["apt-get", "download", "-q", pkg], cwd=Path(tmp))
        got = list(Path(tmp).glob("*.deb"))
        if r.returncode != 0 or not got:
            msg = (r.stderr.strip().splitlines() or ["no .deb produced"])[-1]
            raise FetchError(f"could not download '{pkg}' (no network or no mirror?): {msg}")
        dst = debs / got[0].name
        os.replace(got[0], dst)
        return dst


def deb_field(deb: Path, field: str) -> str:
    return run(["dpkg-deb", "-f", str(deb), field]).stdout.strip()


# ---------------------------------------------------------------- licences (DEP-5 or free text)
def parse_copyright(text: str) -> list[tuple[list[str], str]]:
    """[(file patterns, licence short name)] in file order; patterns ['*'] for a global licence."""
    stanzas: list[tuple[list[str], str]] = []
    for block in re.split(r"\n\s*\n", text):
        files: list[str] = []
        lic = ""
        field = None
        for line in block.splitlines():
            m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
            if m:
                field = m.group(1).lower()
                if field == "files":
                    files = m.group(2).split()
                elif field == "license" and not lic:
                    lic = m.group(2).strip()
            elif line.startswith((" ", "\t")) and field == "files":
                files += line.split()
        if files and lic:
            stanzas.append((files, lic))
    return stanzas


def licence_for(stanzas: list[tuple[list[str], str]], text: str, inner_path: str) -> str:
    parts = inner_path.strip("/").split("/")
    suffixes = ["/".join(parts[i:]) for i in range(len(parts))]
    best = None
    for files, lic in stanzas:  # DEP-5: the last matching stanza wins
        for pat in files:
            if pat == "*":
                if best is None:
                    best = lic
                continue
            if any(fnmatch.fnmatch(s, pat) for s in suffixes):
                best = lic
    if best:
        return best
    for pat, name in ((r"GNU General Public License.*version 3|GPL-3", "GPL-3"),
                      (r"GNU General Public License.*version 2|GPL-2", "GPL-2"),
                      (r"Creative Commons Attribution-ShareAlike|CC-BY-SA", "CC-BY-SA"),
                      (r"Creative Commons Attribution|CC-BY", "CC-BY"),
                      (r"LGPL", "LGPL"), (r"BSD", "BSD"), (r"public domain", "public-domain")):
        if re.search(pat, text, re.I):
            return name + " (from free-text copyright)"
    return "unknown (see copyright file)"


# ---------------------------------------------------------------- image candidates in an extracted tree
def candidates(root: Path) -> Iterator[tuple[str, bytes]]:
    """(path inside the package, bytes) for every image file and image inside .rcc archives."""
    files = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    # Wallpaper themes ship one photo at many resolutions: keep only the largest per folder.
    by_dir: dict[Path, list[Path]] = defaultdict(list)
    for p in files:
        if p.suffix.lower() in IMAGE_EXT and p.parent.name in ("images", "images_dark"):
            by_dir[p.parent].append(p)
    skip = set()
    for ps in by_dir.values():
        ps.sort(key=lambda q: q.stat().st_size)
        skip.update(ps[:-1])
    for p in sorted(files):
        rel = "/" + str(p.relative_to(root))
        low = p.name.lower()
        if low.endswith(IMAGE_EXT) and p not in skip and p.stat().st_size > 20_000:
            yield rel, p.read_bytes()
        elif low.endswith(".rcc"):
            try:
                arc = RccArchive.open(str(p))
                for f in arc.files():
                    if f.path.lower().endswith(IMAGE_EXT):
                        b = arc.read(f)
                        if b is not None and len(b) > 20_000:
                            yield rel + "!" + f.path, b
            except (RccError, OSError, ValueError) as e:
                print(f"  note: skipping {rel}: {e}", file=sys.stderr)


def small_hash(im: Image.Image) -> np.ndarray:
    g = np.asarray(im.convert("L").resize((16, 16), Image.BILINEAR), np.float32)
    return (g - g.mean()) / (g.std() + 1e-3)


def process_package(pkg: str, deb: Path, work: Path, photos: Path, kept: dict, hashes: dict,
                    rejects: Counter, log) -> int:
    version = deb_field(deb, "Version")
    root = work / pkg
    root.mkdir(parents=True, exist_ok=True)
    r = run(["dpkg-deb", "-x", str(deb), str(root)])
    if r.returncode != 0:
        raise FetchError(f"could not unpack {deb.name}: {r.stderr.strip()}")
    cr = root / "usr/share/doc" / pkg / "copyright"
    text = cr.read_text(errors="replace") if cr.exists() else ""
    stanzas = parse_copyright(text)
    n_new = 0
    for inner, data in candidates(root):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                im = Image.open(io.BytesIO(data))
                im.load()
        except Exception:
            rejects["undecodable"] += 1
            continue
        if min(im.size) < MIN_SHORT_SIDE:
            rejects["tiny"] += 1
            continue
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            alpha = np.asarray(im.convert("RGBA"))[..., 3]
            if (alpha < 250).mean() > 0.01:
                rejects["transparent (cut-out)"] += 1
                continue
        stats = compute_stats(im)
        why = reject_reason(stats, inner)
        log.write(json.dumps({"package": pkg, "path": inner, "reject": why, **stats.as_dict()}) + "\n")
        if why:
            rejects[why] += 1
            continue
        sha1 = hashlib.sha1(data).hexdigest()
        if sha1 in kept:
            rejects["duplicate"] += 1
            continue
        h = small_hash(im)
        dup = None
        for other, oh in hashes.items():
            if np.abs(oh - h).mean() < 0.12:
                dup = other
                break
        if dup is not None:
            o = kept[dup]
            if o["width"] * o["height"] >= im.size[0] * im.size[1]:
                rejects["duplicate"] += 1
                continue
            (photos / o["file"]).unlink(missing_ok=True)
            del kept[dup], hashes[dup]
        ext = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "TIFF": "tif", "BMP": "bmp", "PPM": "ppm"}.get(
            im.format or "", "img")
        fname = f"{sha1}.{ext}"
        atomic_write_bytes(photos / fname, data)
        kept[sha1] = {
            "file": fname, "package": pkg, "version": version, "path": inner,
            "licence": licence_for(stanzas, text, inner.split("!")[-1]),
            "copyright_file": f"/usr/share/doc/{pkg}/copyright", "sha1": sha1, "bytes": len(data),
            "width": im.size[0], "height": im.size[1], "split": split_for(sha1), "stats": stats.as_dict(),
        }
        hashes[sha1] = h
        n_new += 1
    shutil.rmtree(root, ignore_errors=True)
    return n_new


def write_provenance(entries: list[dict], path: Path) -> None:
    per_pkg = Counter(e["package"] for e in entries)
    versions = {e["package"]: e["version"] for e in entries}
    per_lic = Counter(e["licence"] for e in entries)
    per_split = Counter(e["split"] for e in entries)
    pk_lic = Counter((e["package"], e["licence"]) for e in entries)
    lines = ["# Training photographs: provenance", "",
             "Generated by `training/photos/fetch.py` (do not edit by hand). The photos themselves are not",
             "in the repository: the script fetches them from Debian packages into training/data/ and",
             "`training/data/manifest.jsonl` lists each one (package, version, path inside the package,",
             "licence from the package's copyright file, sha1, size, split).", "",
             f"Photos kept: **{len(entries)}** (train {per_split['train']}, val {per_split['val']}, "
             f"test {per_split['test']}).", "", "## Per package", "", "| package | version | photos |",
             "| --- | --- | ---: |"]
    lines += [f"| {p} | {versions[p]} | {n} |" for p, n in sorted(per_pkg.items(), key=lambda x: -x[1])]
    lines += ["", "## Per licence", "", "| licence | photos |", "| --- | ---: |"]
    lines += [f"| {l} | {n} |" for l, n in sorted(per_lic.items(), key=lambda x: -x[1])]
    lines += ["", "## Per package and licence", "", "| package | licence | photos |", "| --- | --- | ---: |"]
    lines += [f"| {p} | {l} | {n} |" for (p, l), n in sorted(pk_lic.items())]
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packages", nargs="+", help="packages to fetch (default: the built-in list)")
    ap.add_argument("--data", type=Path, default=DATA, help="output folder (default training/data)")
    ap.add_argument("--provenance", type=Path, default=PROVENANCE)
    args = ap.parse_args(argv)
    try:
        if args.packages:
            pkgs = check_packages(args.packages)
        else:
            pkgs = []
            for name, required in DEFAULT_PACKAGES:
                try:
                    pkgs += check_packages([name])
                except FetchError as e:
                    if required:
                        raise
                    print(f"note: {e}; skipped", file=sys.stderr)
        # Everything is built in a staging folder and moved into place at the end.
        data: Path = args.data
        debs = data / "debs"
        stage = Path(tempfile.mkdtemp(prefix=".stage-", dir=_mkdir(data)))
        try:
            photos = stage / "photos"
            photos.mkdir()
            kept: dict = {}
            hashes: dict = {}
            rejects: Counter = Counter()
            with open(stage / "filter-log.jsonl", "w") as log:
                for pkg in pkgs:
                    deb = download(pkg, debs)
                    n = process_package(pkg, deb, stage / "x", photos, kept, hashes, rejects, log)
                    print(f"{pkg}: +{n} photos (total {len(kept)})", flush=True)
            entries = sorted(kept.values(), key=lambda e: (e["package"], e["path"]))
            with open(stage / "manifest.jsonl", "w") as f:
                for e in entries:
                    f.write(json.dumps(e) + "\n")
            shutil.rmtree(stage / "x", ignore_errors=True)
            for name in ("photos", "manifest.jsonl", "filter-log.jsonl"):
                dst = data / name
                if dst.is_dir():
                    old = data / (".old-" + name)
                    shutil.rmtree(old, ignore_errors=True)
                    os.replace(dst, old)
                    shutil.rmtree(old, ignore_errors=True)
                os.replace(stage / name, dst)
            if args.provenance:
                write_provenance(entries, args.provenance)
            print(f"kept {len(entries)} photos; rejected: {dict(rejects)}")
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    except FetchError as e:
        print(f"fetch: error: {e}", file=sys.stderr)
        return 2
    return 0


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


if __name__ == "__main__":
    sys.exit(main())
