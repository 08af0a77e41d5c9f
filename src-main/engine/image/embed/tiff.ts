import {
  DESCRIPTIVE_IFD0_TAGS,
  TAG,
  TYPE,
  bufferSource,
  makeBytes,
  makeRational,
  makeShort,
  readTiffTree,
  toWritable,
  writeIfdTree,
  type IfdEntry,
  type VerbatimEntry,
  type WritableNode,
} from '../tiff-ifd.ts';
import type { EmbedMetadata, EmbedWarnings } from './types.ts';

/**
 * Put ICC (tag 34675), XMP (tag 700), the camera's IFD0 tags (Make, Model, DateTime…), the EXIF
 * and GPS sub-IFDs and the resolution into a TIFF written by sharp (libvips writes no EXIF to
 * TIFF). A new IFD0 is appended at the end of the file and the header pointed at it; the image
 * data and the old directory's values stay where they are. Maker notes are not carried (their
 * internal offsets do not survive the move).
 */
/** EXIF tags that describe JPEG-compressed data and have no place in a TIFF (the TIFF's own tags say it). */
const NOT_IN_TIFF = new Set<number>([0x9101 /* ComponentsConfiguration */, 0x9102, TAG.PixelXDimension, TAG.PixelYDimension]);

export function embedTiff(tif: Buffer, meta: EmbedMetadata, warnings: EmbedWarnings): Buffer {
  const tree = readTiffTree(bufferSource(tif));
  if (tree.big) {
    warnings.push('metadata left out: BigTIFF output is not supported');
    return tif;
  }
  const le = tree.littleEndian;
  let exifTree: ReturnType<typeof readTiffTree> | null = null;
  if (meta.exif) {
    try {
      exifTree = readTiffTree(bufferSource(meta.exif));
      if (exifTree.big) exifTree = null;
    } catch {
      warnings.push('EXIF left out: it could not be parsed');
    }
  }

  const replaced = new Set<number>([TAG.ICCProfile, TAG.XMP, TAG.Orientation, TAG.ExifIFD, TAG.GPSIFD]);
  if (meta.density) for (const t of [TAG.XResolution, TAG.YResolution, TAG.ResolutionUnit]) replaced.add(t);

  const entries: (IfdEntry | VerbatimEntry)[] = [];
  const present = new Set<number>();
  for (const e of tree.ifd0.entries) {
    if (replaced.has(e.tag) || e.entryOffset === undefined) continue;
    entries.push({ tag: e.tag, type: e.type, count: e.count, field: tif.subarray(e.entryOffset + 8, e.entryOffset + 12) });
    present.add(e.tag);
  }
  entries.push(makeShort(TAG.Orientation, 1, le));
  if (meta.icc) entries.push(makeBytes(TAG.ICCProfile, TYPE.UNDEFINED, meta.icc, le));
  if (meta.xmp) entries.push(makeBytes(TAG.XMP, TYPE.BYTE, meta.xmp, le));
  if (meta.density) {
    entries.push(makeRational(TAG.XResolution, meta.density, le), makeRational(TAG.YResolution, meta.density, le));
    entries.push(makeShort(TAG.ResolutionUnit, 2, le));
    for (const t of [TAG.XResolution, TAG.YResolution, TAG.ResolutionUnit]) present.add(t);
  }

  let children = new Map<number, WritableNode>();
  if (exifTree) {
    for (const e of exifTree.ifd0.entries) {
      if (DESCRIPTIVE_IFD0_TAGS.has(e.tag) && !present.has(e.tag) && !replaced.has(e.tag)) entries.push(e);
    }
    const sub = toWritable(exifTree.ifd0, (tag, depth) =>
      depth === 0 ? tag === TAG.ExifIFD || tag === TAG.GPSIFD : tag !== TAG.MakerNote && !NOT_IN_TIFF.has(tag),
    );
    children = sub.children;
  }

  const base = tif.length + (tif.length % 2);
  const dir = writeIfdTree({ entries, children, next: tree.ifd0.nextOffset ?? 0 }, base, le);
  const out = Buffer.alloc(base + dir.length);
  tif.copy(out, 0);
  out.set(dir, base);
  if (le) out.writeUInt32LE(base, 4);
  else out.writeUInt32BE(base, 4);
  return out;
}
