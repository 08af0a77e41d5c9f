import { createRequire } from 'node:module';
import { ImageError, decodeError } from './errors.ts';
import { checkImageSize, type SizeLimits } from './limits.ts';
import type { Orientation } from './metadata.ts';
import { createRaster, type Raster } from './raster.ts';

/**
 * HEIC/HEIF decoding through libheif-js's WebAssembly build (sharp's prebuilt libvips has no HEVC
 * decoder). libheif applies the container's own rotation/mirror/crop properties (irot, imir,
 * clap), which is where HEIF keeps orientation: the EXIF Orientation tag inside a HEIF file is
 * informative only and must not be applied again (HEIF spec, and what libheif and libvips do).
 */

interface EmbindValue {
  value: number;
}
interface EmbindObject {
  $$: { ptr: number };
}
interface HeifError {
  code: EmbindValue;
  subcode?: EmbindValue;
  message: string;
}
interface HeifChannel {
  width: number;
  height: number;
  stride: number;
  bits_per_pixel: number;
  data: Uint8Array;
}
interface HeifDecodedImage {
  image: unknown;
  width: number;
  height: number;
  channels: HeifChannel[];
}
interface LibHeif {
  heif_context_alloc(): EmbindObject;
  heif_context_free(ctx: EmbindObject): void;
  heif_context_read_from_memory(ctx: EmbindObject, data: Uint8Array): HeifError;
  heif_js_context_get_primary_image_handle(ctx: EmbindObject): EmbindObject | HeifError;
  heif_image_handle_get_width(h: EmbindObject): number;
  heif_image_handle_get_height(h: EmbindObject): number;
  heif_image_handle_has_alpha_channel(h: EmbindObject): number;
  heif_image_handle_release(h: EmbindObject): void;
  heif_js_decode_image2(h: EmbindObject, colorspace: EmbindValue, chroma: EmbindValue): HeifDecodedImage | HeifError;
  heif_image_release(img: unknown): void;
  heif_colorspace: Record<string, EmbindValue>;
  heif_chroma: Record<string, EmbindValue>;
  _heif_image_handle_get_ispe_width(h: number): number;
  _heif_image_handle_get_ispe_height(h: number): number;
  _heif_image_handle_get_luma_bits_per_pixel(h: number): number;
  _heif_image_handle_get_chroma_bits_per_pixel(h: number): number;
  _heif_image_handle_get_item_id(h: number): number;
  _heif_image_handle_get_nclx_color_profile(ret: number, h: number, out: number): void;
  _heif_nclx_color_profile_free(p: number): void;
  _heif_item_get_transformation_properties(ctx: number, item: number, out: number, count: number): number;
  _heif_item_get_property_type(ctx: number, item: number, prop: number): number;
  _heif_item_get_property_transform_rotation_ccw(ctx: number, item: number, prop: number): number;
  _heif_item_get_property_transform_mirror(ctx: number, item: number, prop: number): number;
  _malloc(n: number): number;
  _free(p: number): void;
  HEAPU8: Uint8Array;
}

let lib: LibHeif | undefined;
function libheif(): LibHeif {
  if (!lib) {
    const require = createRequire(import.meta.url);
    lib = require('libheif-js/wasm-bundle') as LibHeif;
  }
  return lib;
}

function isError(v: unknown): v is HeifError {
  return typeof v === 'object' && v !== null && 'code' in v && typeof (v as HeifError).message === 'string';
}

export interface HeifDecoded {
  raster: Raster;
  /** Size as coded (the `ispe` property), before the container's rotation. */
  storedWidth: number;
  storedHeight: number;
  /** The EXIF orientation equivalent to the container's rotation/mirror properties (1 when none). */
  orientation: Orientation;
  /** Bits per sample as coded (8, 10 or 12). */
  bitDepth: number;
  /** The colour signalled by an nclx box when there is no ICC profile (Display P3 is the common one). */
  nclx: { primaries: number; transfer: number } | null;
}

const FOURCC_IROT = 0x69726f74;
const FOURCC_IMIR = 0x696d6972;

/** The EXIF orientation code equal to a sequence of HEIF rotate/mirror properties, applied in order. */
function orientationFromTransforms(ops: ({ rotateCcw: number } | { mirror: 'vertical' | 'horizontal' })[]): Orientation {
  // Track where the stored image's x and y axes end up on screen as a 2×2 integer matrix.
  let m = [1, 0, 0, 1]; // display = m · stored
  const mul = (a: number[], b: number[]) => [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3]];
  for (const op of ops) {
    if ('rotateCcw' in op) {
      const turns = (((op.rotateCcw / 90) % 4) + 4) % 4;
      // anticlockwise on screen (y down): (x, y) → (y, -x)
      for (let i = 0; i < turns; i++) m = mul([0, 1, -1, 0], m);
    } else if (op.mirror === 'horizontal') {
      m = mul([-1, 0, 0, 1], m); // left ↔ right
    } else {
      m = mul([1, 0, 0, -1], m); // top ↔ bottom
    }
  }
  const key = m.join(',');
  const table: Record<string, Orientation> = {
    '1,0,0,1': 1,
    '-1,0,0,1': 2,
    '-1,0,0,-1': 3,
    '1,0,0,-1': 4,
    '0,1,1,0': 5,
    '0,-1,1,0': 6,
    '0,-1,-1,0': 7,
    '0,1,-1,0': 8,
  };
  return table[key] ?? 1;
}

function readTransforms(h: LibHeif, ctxPtr: number, handlePtr: number): Orientation {
  const item = h._heif_image_handle_get_item_id(handlePtr);
  const max = 16;
  const list = h._malloc(4 * max);
  try {
    const n = Math.min(max, h._heif_item_get_transformation_properties(ctxPtr, item, list, max));
    const ids = new DataView(h.HEAPU8.buffer, list, 4 * max);
    const ops: ({ rotateCcw: number } | { mirror: 'vertical' | 'horizontal' })[] = [];
    for (let i = 0; i < n; i++) {
      const prop = ids.getUint32(4 * i, true);
      const type = h._heif_item_get_property_type(ctxPtr, item, prop) >>> 0;
      if (type === FOURCC_IROT) ops.push({ rotateCcw: h._heif_item_get_property_transform_rotation_ccw(ctxPtr, item, prop) });
      else if (type === FOURCC_IMIR) {
        ops.push({ mirror: h._heif_item_get_property_transform_mirror(ctxPtr, item, prop) === 1 ? 'horizontal' : 'vertical' });
      }
    }
    return orientationFromTransforms(ops);
  } catch {
    return 1;
  } finally {
    h._free(list);
  }
}

function readNclx(h: LibHeif, handlePtr: number): { primaries: number; transfer: number } | null {
  const ret = h._malloc(16);
  const out = h._malloc(4);
  try {
    new DataView(h.HEAPU8.buffer).setUint32(out, 0, true);
    h._heif_image_handle_get_nclx_color_profile(ret, handlePtr, out);
    const view = new DataView(h.HEAPU8.buffer);
    if (view.getInt32(ret, true) !== 0) return null;
    const p = view.getUint32(out, true);
    if (!p) return null;
    // struct heif_color_profile_nclx { uint8 version; int color_primaries; int transfer_characteristics; … }
    const res = { primaries: view.getInt32(p + 4, true), transfer: view.getInt32(p + 8, true) };
    h._heif_nclx_color_profile_free(p);
    return res;
  } catch {
    return null;
  } finally {
    h._free(ret);
    h._free(out);
  }
}

/** Runs `use` with the primary image handle of a HEIF file in `data`; the handle and context are freed after. */
function withPrimaryImage<T>(path: string, data: Uint8Array, use: (h: LibHeif, handle: EmbindObject, ctx: EmbindObject) => T): T {
  const h = libheif();
  const ctx = h.heif_context_alloc();
  try {
    const err = h.heif_context_read_from_memory(ctx, data);
    if (err.code.value !== 0) throw decodeError(path, 'HEIC/HEIF', new Error(err.message));
    const handle = h.heif_js_context_get_primary_image_handle(ctx);
    if (isError(handle)) throw decodeError(path, 'HEIC/HEIF', new Error(handle.message));
    try {
      return use(h, handle, ctx);
    } finally {
      h.heif_image_handle_release(handle);
    }
  } finally {
    h.heif_context_free(ctx);
  }
}

/** The primary image's display size (after the container's rotation), without decoding pixels. */
export function probeHeif(path: string, data: Uint8Array): { width: number; height: number } {
  return withPrimaryImage(path, data, (h, handle) => ({ width: h.heif_image_handle_get_width(handle), height: h.heif_image_handle_get_height(handle) }));
}

/**
 * Decode the primary image of a HEIF file held in `data` into a display-oriented raster: 8-bit
 * sources to an 8-bit raster, 10/12-bit ones to a 16-bit raster (scaled to the full 16-bit range),
 * alpha separated untouched. Refuses images over the limits before decoding any pixel.
 */
export function decodeHeif(path: string, data: Uint8Array, limits: Required<SizeLimits>): HeifDecoded {
  return withPrimaryImage(path, data, (h, handle, ctx) => {
    const hp = handle.$$.ptr;
    const width = h.heif_image_handle_get_width(handle);
    const height = h.heif_image_handle_get_height(handle);
    checkImageSize(path, width, height, limits);
    const storedWidth = h._heif_image_handle_get_ispe_width(hp) || width;
    const storedHeight = h._heif_image_handle_get_ispe_height(hp) || height;
    const bitDepth = Math.max(8, h._heif_image_handle_get_luma_bits_per_pixel(hp));
    const grey = h._heif_image_handle_get_chroma_bits_per_pixel(hp) <= 0;
    const hasAlpha = h.heif_image_handle_has_alpha_channel(handle) !== 0;
    const deep = bitDepth > 8;
    const chromaName = `heif_chroma_interleaved_${deep ? (hasAlpha ? 'RRGGBBAA_LE' : 'RRGGBB_LE') : hasAlpha ? 'RGBA' : 'RGB'}`;
    const orientation = readTransforms(h, ctx.$$.ptr, hp);
    const nclx = readNclx(h, hp);

    const img = h.heif_js_decode_image2(handle, h.heif_colorspace.heif_colorspace_RGB, h.heif_chroma[chromaName]);
    if (isError(img) || !img || !Array.isArray(img.channels) || img.channels.length === 0) {
      throw decodeError(path, 'HEIC/HEIF', new Error(isError(img) ? img.message : 'decoding failed'));
    }
    try {
      const ch = img.channels[0];
      if (ch.width !== width || ch.height !== height) {
        throw new ImageError('failed', path, `the HEIF decoder returned ${ch.width}×${ch.height} instead of ${width}×${height}`);
      }
      const raster = copyInterleaved(ch, deep ? 16 : 8, hasAlpha, deep ? bitDepth : 8, grey);
      return { raster, storedWidth, storedHeight, orientation, bitDepth, nclx };
    } finally {
      h.heif_image_release(img.image);
    }
  });
}

/** Copy libheif's interleaved RGB(A) rows (with stride) into a raster, rescaling deep samples to 16 bits. */
function copyInterleaved(ch: HeifChannel, depth: 8 | 16, hasAlpha: boolean, sourceBits: number, grey: boolean): Raster {
  const { width: w, height: hgt, stride, data } = ch;
  const raster = createRaster(w, hgt, depth, hasAlpha, grey);
  const n = hasAlpha ? 4 : 3;
  if (depth === 8) {
    for (let y = 0; y < hgt; y++) {
      const row = y * stride;
      for (let x = 0; x < w; x++) {
        const s = row + x * n;
        const d = y * w + x;
        raster.rgb[d * 3] = data[s];
        raster.rgb[d * 3 + 1] = data[s + 1];
        raster.rgb[d * 3 + 2] = data[s + 2];
        if (raster.alpha) raster.alpha[d] = data[s + 3];
      }
    }
    return raster;
  }
  const maxIn = (1 << sourceBits) - 1;
  const lut = new Uint16Array(maxIn + 1);
  for (let v = 0; v <= maxIn; v++) lut[v] = Math.round((v * 65535) / maxIn);
  const clamp = (v: number) => lut[v > maxIn ? maxIn : v];
  for (let y = 0; y < hgt; y++) {
    const row = y * stride;
    for (let x = 0; x < w; x++) {
      const s = row + x * n * 2;
      const d = y * w + x;
      raster.rgb[d * 3] = clamp(data[s] | (data[s + 1] << 8));
      raster.rgb[d * 3 + 1] = clamp(data[s + 2] | (data[s + 3] << 8));
      raster.rgb[d * 3 + 2] = clamp(data[s + 4] | (data[s + 5] << 8));
      if (raster.alpha) raster.alpha[d] = clamp(data[s + 6] | (data[s + 7] << 8));
    }
  }
  return raster;
}
