import { openSync, closeSync, fstatSync, readSync } from 'node:fs';
import {
  DESCRIPTIVE_IFD0_TAGS,
  TAG,
  bufferSource,
  findEntry,
  readTiffTree,
  toWritable,
  writeExifBlob,
  type ByteSource,
  type IfdEntry,
  type IfdNode,
} from './tiff-ifd.ts';

/**
 * EXIF as one blob: a TIFF structure ("II*\0…" or "MM\0*…") without the "Exif\0\0" prefix JPEG uses.
 * Kept byte for byte from the source so that every tag (maker notes included) survives export; only
 * the orientation, the pixel size and the link to the stale thumbnail are patched in place.
 */

const EXIF_PREFIX = Buffer.from('Exif\0\0', 'latin1');

/** The blob without a JPEG-style "Exif\0\0" prefix, or null when it is no TIFF structure. */
export function normalizeExif(raw: Uint8Array | null | undefined): Buffer | null {
  if (!raw || raw.length < 8) return null;
  let b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (b.subarray(0, 6).equals(EXIF_PREFIX)) b = b.subarray(6);
  const ok = (b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a);
  return ok ? Buffer.from(b) : null;
}

function writeIntAt(blob: Buffer, e: IfdEntry, value: number): boolean {
  if (e.valueOffset === undefined || e.entryOffset === undefined || e.count !== 1) return false;
  const le = e.littleEndian;
  if (e.type === 3 && value <= 0xffff) {
    if (le) blob.writeUInt16LE(value, e.valueOffset);
    else blob.writeUInt16BE(value, e.valueOffset);
    return true;
  }
  if (e.type === 3 || e.type === 4) {
    // a SHORT that must hold a larger value becomes a LONG (both fit inline)
    if (le) {
      blob.writeUInt16LE(4, e.entryOffset + 2);
      blob.writeUInt32LE(value, e.entryOffset + 8);
    } else {
      blob.writeUInt16BE(4, e.entryOffset + 2);
      blob.writeUInt32BE(value, e.entryOffset + 8);
    }
    return true;
  }
  return false;
}

/**
 * A copy of `exif` ready to travel with exported pixels: Orientation = 1 (the pixels are already
 * display-oriented), PixelXDimension/PixelYDimension = the exported size, and no IFD1 thumbnail
 * (it shows the unprocessed photo in the old orientation). Null if the blob cannot be parsed.
 */
export function exifForExport(exif: Uint8Array, size: { width: number; height: number }): Buffer | null {
  const blob = Buffer.from(exif);
  let tree;
  try {
    tree = readTiffTree(bufferSource(blob));
  } catch {
    return null;
  }
  if (tree.big) return null;
  const ifd0 = tree.ifd0;
  const orientation = findEntry(ifd0, TAG.Orientation);
  if (orientation) writeIntAt(blob, orientation, 1);
  const exifIfd = ifd0.children.get(TAG.ExifIFD);
  if (exifIfd) {
    const px = findEntry(exifIfd, TAG.PixelXDimension);
    const py = findEntry(exifIfd, TAG.PixelYDimension);
    if (px) writeIntAt(blob, px, size.width);
    if (py) writeIntAt(blob, py, size.height);
  }
  if (ifd0.nextPointerOffset !== undefined && ifd0.nextOffset) {
    if (tree.littleEndian) blob.writeUInt32LE(0, ifd0.nextPointerOffset);
    else blob.writeUInt32BE(0, ifd0.nextPointerOffset);
  }
  return blob;
}

/** The parsed IFD tree of an EXIF blob (for re-serialising into a TIFF file), or null. */
export function readExifTree(exif: Uint8Array): { littleEndian: boolean; ifd0: IfdNode } | null {
  try {
    const tree = readTiffTree(bufferSource(exif));
    return tree.big ? null : tree;
  } catch {
    return null;
  }
}

function fileSource(fd: number): ByteSource {
  const size = fstatSync(fd).size;
  return {
    size,
    read(offset, length) {
      if (offset < 0 || offset + length > size) throw new RangeError('TIFF structure points outside the file');
      const out = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) throw new RangeError('TIFF file ends early');
        done += n;
      }
      return out;
    },
  };
}

/**
 * EXIF of a TIFF photo, which lives in the file's own IFD0 (camera, dates…) and its Exif/GPS
 * sub-IFDs rather than in one blob: gathered into a standalone blob. Reads only the directories,
 * never the pixels. Maker notes are left out (their internal offsets do not survive moving).
 */
export function exifFromTiffFile(path: string): Buffer | null {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const tree = readTiffTree(fileSource(fd));
    if (tree.big) return null;
    const keep = (tag: number, depth: number) =>
      depth === 0 ? DESCRIPTIVE_IFD0_TAGS.has(tag) || tag === TAG.ExifIFD || tag === TAG.GPSIFD : tag !== TAG.MakerNote;
    const node = toWritable(tree.ifd0, keep);
    const hasCameraData = node.children.size > 0 || node.entries.some((e) => e.tag === TAG.Make || e.tag === TAG.Model || e.tag === TAG.DateTime);
    if (!hasCameraData) return null;
    return Buffer.from(writeExifBlob(node, tree.littleEndian));
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
