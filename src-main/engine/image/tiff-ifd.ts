/**
 * A small reader and writer of TIFF image file directories (IFDs), the structure EXIF is made of.
 * Used to take EXIF out of TIFF photos (where it is not one blob), to patch a camera's EXIF blob in
 * place (orientation, pixel size) and to put EXIF into the TIFF files sharp writes (libvips writes
 * no EXIF to TIFF). Classic TIFF only (BigTIFF is left alone by the callers).
 */

export const TAG = {
  ImageWidth: 256,
  ImageLength: 257,
  ImageDescription: 270,
  Make: 271,
  Model: 272,
  Orientation: 274,
  XResolution: 282,
  YResolution: 283,
  ResolutionUnit: 296,
  Software: 305,
  DateTime: 306,
  Artist: 315,
  HostComputer: 316,
  XMP: 700,
  Rating: 18246,
  RatingPercent: 18249,
  Copyright: 33432,
  ExifIFD: 34665,
  ICCProfile: 34675,
  GPSIFD: 34853,
  MakerNote: 37500,
  PixelXDimension: 40962,
  PixelYDimension: 40963,
  InteropIFD: 40965,
} as const;

/** TIFF field types: 1 BYTE, 2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL, 6 SBYTE, 7 UNDEFINED, 8 SSHORT, 9 SLONG, 10 SRATIONAL, 11 FLOAT, 12 DOUBLE, 13 IFD. */
export const TYPE = { BYTE: 1, ASCII: 2, SHORT: 3, LONG: 4, RATIONAL: 5, UNDEFINED: 7 } as const;

const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4 };
/** Size of one byte-swappable unit per type (rationals are two LONGs). */
const SWAP_UNIT: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 1, 7: 1, 8: 2, 9: 4, 10: 4, 11: 4, 12: 8, 13: 4 };

/** IFD0 tags that describe the photo (not the pixel layout) and so may move from one file to another. */
export const DESCRIPTIVE_IFD0_TAGS: ReadonlySet<number> = new Set([
  TAG.ImageDescription, TAG.Make, TAG.Model, TAG.Orientation, TAG.XResolution, TAG.YResolution, TAG.ResolutionUnit,
  TAG.Software, TAG.DateTime, TAG.Artist, TAG.HostComputer, TAG.Rating, TAG.RatingPercent, TAG.Copyright,
]);

export interface IfdEntry {
  tag: number;
  type: number;
  count: number;
  /** The value's bytes in `littleEndian` byte order (as read, or as made). */
  data: Uint8Array;
  littleEndian: boolean;
  /** Where the 12-byte entry sits in the source (for in-place patches), when read from one. */
  entryOffset?: number;
  /** Where the value sits in the source (inline or not), when read from one. */
  valueOffset?: number;
}

/** An IFD with its sub-IFDs keyed by the pointer tag that leads to each (Exif, GPS, Interop). */
export interface IfdNode {
  entries: IfdEntry[];
  children: Map<number, IfdNode>;
  /** Offset of the next IFD in the chain (IFD1 after IFD0), as read. */
  nextOffset?: number;
  /** Where the 4-byte next-IFD pointer sits in the source. */
  nextPointerOffset?: number;
}

export interface TiffTree {
  littleEndian: boolean;
  ifd0: IfdNode;
  /** True when the header says BigTIFF (not parsed further). */
  big?: boolean;
}

/** Random access to bytes: a Buffer, or a file read piece by piece. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

export function bufferSource(buf: Uint8Array): ByteSource {
  return {
    size: buf.length,
    read: (offset, length) => {
      if (offset < 0 || offset + length > buf.length) throw new RangeError('TIFF structure points outside the data');
      return buf.subarray(offset, offset + length);
    },
  };
}

const SUB_IFD_TAGS = new Set<number>([TAG.ExifIFD, TAG.GPSIFD, TAG.InteropIFD]);
const MAX_ENTRIES = 1000;

function u16(b: Uint8Array, le: boolean): number {
  return le ? b[0] | (b[1] << 8) : (b[0] << 8) | b[1];
}
function u32(b: Uint8Array, le: boolean): number {
  return (le ? b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24) : (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

/** Parse a TIFF structure (a TIFF file, or an EXIF blob without its "Exif\0\0" prefix). */
export function readTiffTree(src: ByteSource): TiffTree {
  const head = src.read(0, 8);
  const order = String.fromCharCode(head[0], head[1]);
  if (order !== 'II' && order !== 'MM') throw new Error('not a TIFF structure (bad byte order mark)');
  const le = order === 'II';
  const magic = u16(head.subarray(2, 4), le);
  if (magic === 43) return { littleEndian: le, ifd0: { entries: [], children: new Map() }, big: true };
  if (magic !== 42) throw new Error('not a TIFF structure (bad magic number)');
  const seen = new Set<number>();

  const readIfd = (offset: number, depth: number): IfdNode => {
    if (seen.has(offset) || depth > 4) throw new Error('TIFF structure has a loop');
    seen.add(offset);
    const n = u16(src.read(offset, 2), le);
    if (n > MAX_ENTRIES) throw new Error('TIFF directory is implausibly large');
    const raw = src.read(offset + 2, n * 12 + 4);
    const node: IfdNode = { entries: [], children: new Map() };
    for (let i = 0; i < n; i++) {
      const e = raw.subarray(i * 12, i * 12 + 12);
      const tag = u16(e.subarray(0, 2), le);
      const type = u16(e.subarray(2, 4), le);
      const count = u32(e.subarray(4, 8), le);
      const size = TYPE_SIZE[type];
      if (size === undefined) continue; // unknown type: skip the entry
      const bytes = size * count;
      if (bytes > src.size) continue;
      const valueOffset = bytes <= 4 ? offset + 2 + i * 12 + 8 : u32(e.subarray(8, 12), le);
      if (valueOffset + bytes > src.size) continue;
      const data = Uint8Array.from(src.read(valueOffset, bytes));
      const entry: IfdEntry = { tag, type, count, data, littleEndian: le, entryOffset: offset + 2 + i * 12, valueOffset };
      node.entries.push(entry);
      if (SUB_IFD_TAGS.has(tag) && count >= 1 && (type === 4 || type === 13)) {
        const childOffset = u32(data.subarray(0, 4), le);
        if (childOffset > 0 && childOffset + 2 <= src.size) {
          try {
            node.children.set(tag, readIfd(childOffset, depth + 1));
          } catch {
            // a broken sub-IFD is dropped, the rest is kept
          }
        }
      }
    }
    node.nextPointerOffset = offset + 2 + n * 12;
    node.nextOffset = u32(raw.subarray(n * 12, n * 12 + 4), le);
    return node;
  };

  const ifd0Offset = u32(head.subarray(4, 8), le);
  return { littleEndian: le, ifd0: readIfd(ifd0Offset, 0) };
}

export function findEntry(node: IfdNode, tag: number): IfdEntry | undefined {
  return node.entries.find((e) => e.tag === tag);
}

/** The first value of a SHORT or LONG entry. */
export function entryInt(e: IfdEntry): number {
  return e.type === 3 ? u16(e.data, e.littleEndian) : u32(e.data, e.littleEndian);
}

/** The entry's data in another byte order. */
function swapped(e: IfdEntry, le: boolean): Uint8Array {
  if (e.littleEndian === le) return e.data;
  const unit = SWAP_UNIT[e.type] ?? 1;
  if (unit === 1) return e.data;
  const out = new Uint8Array(e.data.length);
  for (let p = 0; p + unit <= e.data.length; p += unit) for (let k = 0; k < unit; k++) out[p + k] = e.data[p + unit - 1 - k];
  return out;
}

export function makeShort(tag: number, value: number, le: boolean): IfdEntry {
  const data = new Uint8Array(2);
  new DataView(data.buffer).setUint16(0, value, le);
  return { tag, type: TYPE.SHORT, count: 1, data, littleEndian: le };
}

export function makeLong(tag: number, value: number, le: boolean): IfdEntry {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, value, le);
  return { tag, type: TYPE.LONG, count: 1, data, littleEndian: le };
}

export function makeRational(tag: number, value: number, le: boolean): IfdEntry {
  let den = 1;
  while (den < 10000 && Math.abs(value * den - Math.round(value * den)) > 1e-9) den *= 10;
  const data = new Uint8Array(8);
  const v = new DataView(data.buffer);
  v.setUint32(0, Math.round(value * den), le);
  v.setUint32(4, den, le);
  return { tag, type: TYPE.RATIONAL, count: 1, data, littleEndian: le };
}

export function makeBytes(tag: number, type: number, bytes: Uint8Array, le: boolean): IfdEntry {
  return { tag, type, count: bytes.length, data: bytes, littleEndian: le };
}

/**
 * An entry whose 4-byte value field is copied verbatim: used for the entries of a TIFF file's own
 * IFD0 when a new IFD0 is appended to it (their out-of-line values stay where they are).
 */
export interface VerbatimEntry {
  tag: number;
  type: number;
  count: number;
  field: Uint8Array;
}

type AnyEntry = IfdEntry | VerbatimEntry;
const isVerbatim = (e: AnyEntry): e is VerbatimEntry => 'field' in e;

export interface WritableNode {
  entries: AnyEntry[];
  children: Map<number, WritableNode>;
  next?: number;
}

/**
 * Lay out `node` (and its sub-IFDs) as bytes that will sit at absolute position `base` of a TIFF
 * structure in byte order `le`. Sub-IFD pointer entries are created for each child.
 */
export function writeIfdTree(node: WritableNode, base: number, le: boolean): Uint8Array {
  const chunks: Uint8Array[] = [];
  let pos = base;
  const align = () => {
    if (pos % 2) {
      chunks.push(new Uint8Array(1));
      pos += 1;
    }
  };
  const writeNode = (n: WritableNode): number => {
    align();
    const start = pos;
    // sub-IFD pointers are made here from `children`; stale ones among the entries are dropped
    const all: AnyEntry[] = n.entries.filter((e) => !SUB_IFD_TAGS.has(e.tag) && !n.children.has(e.tag));
    for (const t of n.children.keys()) all.push({ tag: t, type: TYPE.LONG, count: 1, data: new Uint8Array(4), littleEndian: le });
    all.sort((a, b) => a.tag - b.tag);
    const dirSize = 2 + all.length * 12 + 4;
    const dir = new Uint8Array(dirSize);
    const dv = new DataView(dir.buffer);
    dv.setUint16(0, all.length, le);
    dv.setUint32(2 + all.length * 12, n.next ?? 0, le);
    chunks.push(dir);
    pos += dirSize;
    const pointerFixups: { at: number; tag: number }[] = [];
    all.forEach((e, i) => {
      const at = 2 + i * 12;
      dv.setUint16(at, e.tag, le);
      dv.setUint16(at + 2, e.type, le);
      dv.setUint32(at + 4, e.count, le);
      if (isVerbatim(e)) {
        dir.set(e.field, at + 8);
        return;
      }
      if (n.children.has(e.tag)) {
        pointerFixups.push({ at: at + 8, tag: e.tag });
        return;
      }
      const data = swapped(e, le);
      if (data.length <= 4) {
        dir.set(data, at + 8);
      } else {
        align();
        dv.setUint32(at + 8, pos, le);
        chunks.push(data);
        pos += data.length;
      }
    });
    for (const f of pointerFixups) {
      const childStart = writeNode(n.children.get(f.tag)!);
      dv.setUint32(f.at, childStart, le);
    }
    return start;
  };
  writeNode(node);
  const out = new Uint8Array(pos - base);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/** A read tree as a writable one, keeping only what `keep` accepts (sub-IFD pointers are rebuilt). */
export function toWritable(node: IfdNode, keep: (tag: number, depth: number) => boolean, depth = 0): WritableNode {
  const children = new Map<number, WritableNode>();
  for (const [tag, child] of node.children) {
    if (!keep(tag, depth)) continue;
    const w = toWritable(child, keep, depth + 1);
    if (w.entries.length > 0) children.set(tag, w);
  }
  return {
    entries: node.entries.filter((e) => !SUB_IFD_TAGS.has(e.tag) && keep(e.tag, depth)),
    children,
  };
}

/** A standalone EXIF blob (TIFF header + IFD0 + sub-IFDs, no "Exif\0\0" prefix). */
export function writeExifBlob(node: WritableNode, le: boolean): Uint8Array {
  const header = new Uint8Array(8);
  const dv = new DataView(header.buffer);
  header[0] = header[1] = le ? 0x49 : 0x4d;
  dv.setUint16(2, 42, le);
  dv.setUint32(4, 8, le);
  const body = writeIfdTree(node, 8, le);
  const out = new Uint8Array(8 + body.length);
  out.set(header);
  out.set(body, 8);
  return out;
}
