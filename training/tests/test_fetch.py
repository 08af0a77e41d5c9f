import subprocess
import sys
from pathlib import Path

from training.photos import fetch
from training.photos.rcc import RccArchive

REPO = Path(__file__).resolve().parents[2]


def test_unknown_package_is_a_clear_error_and_writes_nothing(tmp_path):
    data = tmp_path / "data"
    prov = tmp_path / "PROVENANCE.md"
    r = subprocess.run([sys.executable, "-m", "training.photos.fetch", "--packages", "no-such-package-xyz",
                        "--data", str(data), "--provenance", str(prov)], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown package 'no-such-package-xyz'" in lines[0]
    assert not data.exists() and not prov.exists()


def test_split_is_deterministic_and_roughly_85_5_10():
    import hashlib
    splits = [fetch.split_for(hashlib.sha1(str(i).encode()).hexdigest()) for i in range(4000)]
    assert splits == [fetch.split_for(hashlib.sha1(str(i).encode()).hexdigest()) for i in range(4000)]
    assert 0.82 < splits.count("train") / 4000 < 0.88 and 0.03 < splits.count("val") / 4000 < 0.07


def test_dep5_licence_lookup():
    text = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Files: *
Copyright: 2020 Someone
License: GPL-3+

Files: src/activities/erase/resource/*
Copyright: 2019 Photographer
License: CC-BY-SA-4.0
"""
    st = fetch.parse_copyright(text)
    assert fetch.licence_for(st, text, "/gcompris/src/activities/erase/resource/bee.webp") == "CC-BY-SA-4.0"
    assert fetch.licence_for(st, text, "/usr/share/x.jpg") == "GPL-3+"


def _rcc(files: dict[str, bytes], compress: set[str]) -> bytes:
    """A version-2 rcc with one directory level, for the reader test."""
    import struct
    import zlib
    names = b""
    name_off = {}
    for n in ["root", "dir", *files]:
        name_off[n] = len(names)
        u = n.encode("utf-16-be")
        names += struct.pack(">HI", len(n), 0) + u
    data = b""
    data_off = {}
    for n, b in files.items():
        payload = struct.pack(">I", len(b)) + zlib.compress(b) if n in compress else b
        data_off[n] = len(data)
        data += struct.pack(">I", len(payload)) + payload
    tree = b""
    tree += struct.pack(">IHII", name_off["root"], 2, 1, 1) + b"\0" * 8
    tree += struct.pack(">IHII", name_off["dir"], 2, len(files), 2) + b"\0" * 8
    for n in files:
        tree += struct.pack(">IHHHI", name_off[n], 1 if n in compress else 0, 0, 0, data_off[n]) + b"\0" * 8
    head = 20
    return b"qres" + struct.pack(">IIII", 2, head, head + len(tree), head + len(tree) + len(data)) + tree + data + names


def test_rcc_reader():
    blob = _rcc({"a.jpg": b"hello" * 10, "b.png": b"world" * 20}, compress={"b.png"})
    arc = RccArchive(blob)
    got = {f.path: arc.read(f) for f in arc.files()}
    assert got == {"/dir/a.jpg": b"hello" * 10, "/dir/b.png": b"world" * 20}
