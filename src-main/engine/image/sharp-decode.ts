import { decodeError } from './errors.ts';
import type { Depth, PixelArray, Raster } from './raster.ts';
import { sharp, type SharpMetadata } from './sharp-setup.ts';

/**
 * JPEG, PNG, TIFF, WebP and AVIF through sharp: EXIF orientation applied (all eight), pixel values
 * kept in the photo's own RGB space (its ICC profile is neither applied nor dropped), 16-bit kept
 * 16-bit, grey kept as one channel until the raster expands it. Non-RGB sources (CMYK, Lab…) are
 * converted to sRGB with their embedded profile.
 */

const RGB_SPACES = new Set(['srgb', 'rgb', 'rgb16']);
const GREY_SPACES = new Set(['b-w', 'grey16']);
/** Sample formats with more than 8 bits of precision: decoded to 16 bits. */
const DEEP_DEPTHS = new Set(['ushort', 'short', 'uint', 'int', 'float', 'double', 'complex', 'dpcomplex']);

export interface SharpDecoded {
  raster: Raster;
  /** The pixels were converted to sRGB (the source was CMYK, Lab or another non-RGB space). */
  convertedToSrgb: boolean;
}

export async function decodeWithSharp(
  path: string,
  formatName: string,
  header: SharpMetadata,
  maxPixels: number,
): Promise<SharpDecoded> {
  const space = header.space ?? 'srgb';
  const deep = DEEP_DEPTHS.has(header.depth ?? 'uchar');
  const grey = GREY_SPACES.has(space);
  const rgb = RGB_SPACES.has(space);
  const convertedToSrgb = !grey && !rgb;
  const depth: Depth = deep ? 16 : 8;

  let pipeline = sharp(path, { failOn: 'error', limitInputPixels: maxPixels, sequentialRead: true }).rotate();
  // keep the source's pixel values: no ICC transform unless the space is not RGB/grey at all
  if (!convertedToSrgb) pipeline = pipeline.keepIccProfile();
  const target = grey ? (deep ? 'grey16' : 'b-w') : deep ? 'rgb16' : 'srgb';
  pipeline = pipeline.toColourspace(target).raw({ depth: deep ? 'ushort' : 'uchar' });

  let data: Buffer;
  let info: { width: number; height: number; channels: number };
  try {
    ({ data, info } = await pipeline.toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw decodeError(path, formatName, e);
  }
  return { raster: toRaster(data, info.width, info.height, info.channels, depth, grey), convertedToSrgb };
}

function view(data: Buffer, depth: Depth): PixelArray {
  if (depth === 8) return new Uint8Array(data.buffer, data.byteOffset, data.length);
  if (data.byteOffset % 2 === 0) return new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
  const copy = new Uint16Array(data.length / 2);
  new Uint8Array(copy.buffer).set(data);
  return copy;
}

/** sharp's interleaved 1–4 channel output as a Raster; 3-channel output is used in place, not copied. */
export function toRaster(data: Buffer, width: number, height: number, channels: number, depth: Depth, grey: boolean): Raster {
  const src = view(data, depth);
  const n = width * height;
  const make = (len: number): PixelArray => (depth === 16 ? new Uint16Array(len) : new Uint8Array(len));
  const isGrey = channels <= 2;
  const hasAlpha = channels === 2 || channels === 4;
  if (channels === 3) return { width, height, depth, rgb: src, alpha: null, grey: false };
  const rgb = make(n * 3);
  const alpha = hasAlpha ? make(n) : null;
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    if (isGrey) {
      const v = src[s];
      rgb[i * 3] = v;
      rgb[i * 3 + 1] = v;
      rgb[i * 3 + 2] = v;
    } else {
      rgb[i * 3] = src[s];
      rgb[i * 3 + 1] = src[s + 1];
      rgb[i * 3 + 2] = src[s + 2];
    }
    if (alpha) alpha[i] = src[s + channels - 1];
  }
  return { width, height, depth, rgb, alpha, grey: grey && isGrey };
}
