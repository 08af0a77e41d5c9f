"""Minimal reader for Qt binary resource archives (.rcc).

Format (qtbase/src/corelib/io/qresource.cpp, tools/rcc/rcc.cpp):
  header: b'qres', u32 version, u32 tree_offset, u32 data_offset, u32 names_offset
          (+ u32 flags when version >= 3); all big-endian.
  tree:   entries of 14 bytes (version 1) or 22 bytes (version >= 2):
          u32 name_offset, u16 flags,
          directory (flags & 2): u32 child_count, u32 first_child_index
          file:                  u16 territory, u16 language, u32 data_offset
          (+ u64 last-modified for version >= 2). Entry 0 is the root directory.
  names:  u16 length, u32 hash, UTF-16BE characters.
  data:   u32 size, bytes. Flag 1: zlib, the bytes start with a u32 uncompressed length.
          Flag 4: zstd (not decodable here without an extra package: skipped).
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Iterator

FLAG_COMPRESSED = 0x01
FLAG_DIRECTORY = 0x02
FLAG_ZSTD = 0x04


class RccError(ValueError):
    pass


@dataclass
class RccFile:
    path: str
    flags: int
    offset: int  # absolute offset of the u32 size field


class RccArchive:
    def __init__(self, blob: bytes) -> None:
        if len(blob) < 20 or blob[:4] != b"qres":
            raise RccError("not a Qt resource archive (missing 'qres' magic)")
        self.blob = blob
        self.version, self.tree, self.data, self.names = struct.unpack(">IIII", blob[4:20])
        if self.version not in (1, 2, 3):
            raise RccError(f"unsupported rcc version {self.version}")
        self.entry_size = 14 if self.version == 1 else 22

    @classmethod
    def open(cls, path: str) -> "RccArchive":
        with open(path, "rb") as f:
            return cls(f.read())

    def _name(self, off: int) -> str:
        p = self.names + off
        (n,) = struct.unpack(">H", self.blob[p:p + 2])
        return self.blob[p + 6:p + 6 + 2 * n].decode("utf-16-be")

    def _entry(self, index: int) -> tuple[int, int, int, int]:
        p = self.tree + index * self.entry_size
        name_off, flags = struct.unpack(">IH", self.blob[p:p + 6])
        if flags & FLAG_DIRECTORY:
            count, first = struct.unpack(">II", self.blob[p + 6:p + 14])
            return name_off, flags, count, first
        (data_off,) = struct.unpack(">I", self.blob[p + 10:p + 14])
        return name_off, flags, data_off, 0

    def files(self) -> Iterator[RccFile]:
        stack: list[tuple[int, str]] = [(0, "")]
        seen = set()
        while stack:
            idx, prefix = stack.pop()
            if idx in seen:
                continue
            seen.add(idx)
            name_off, flags, a, b = self._entry(idx)
            if flags & FLAG_DIRECTORY:
                for child in range(b, b + a):
                    cname_off = self._entry(child)[0]
                    stack.append((child, prefix + "/" + self._name(cname_off)))
            else:
                yield RccFile(prefix, flags, self.data + a)

    def read(self, f: RccFile) -> bytes | None:
        """File bytes, or None for zstd-compressed entries (not decodable here)."""
        (size,) = struct.unpack(">I", self.blob[f.offset:f.offset + 4])
        raw = self.blob[f.offset + 4:f.offset + 4 + size]
        if f.flags & FLAG_ZSTD:
            return None
        if f.flags & FLAG_COMPRESSED:
            (n,) = struct.unpack(">I", raw[:4])
            out = zlib.decompress(raw[4:])
            if len(out) != n:
                raise RccError(f"bad zlib length in {f.path}")
            return out
        return raw
