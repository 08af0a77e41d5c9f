import sharp from 'sharp';
import type { Raster } from '../image/raster.ts';
import type { DeblurResult } from '../infer/deblur.ts';

/** Display-sized renderings: long side at most this many pixels. */
export const PREVIEW_MAX_SIDE = 2048;
export const THUMBNAIL_MAX_SIDE = 240;

export interface Rendering {
  bytes: Buffer;
  width: number;
  height: number;
}

export function previewSize(width: number, height: number, maxSide = PREVIEW_MAX_SIDE): { width: number; height: number } {
  const k = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) };
}

function rawSharp(pixels: Uint8Array | Uint16Array, width: number, height: number, depth: 8 | 16): sharp.Sharp {
  // sharp reads a Buffer as 8-bit samples; 16-bit data must be given as the Uint16Array itself.
  const input = depth === 16 ? pixels : Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  return sharp(input, { raw: { width, height, channels: 3, ...(depth === 16 ? { depth: 'ushort' as const } : {}) }, limitInputPixels: false });
}

async function render(img: sharp.Sharp, width: number, height: number, maxSide: number): Promise<Rendering> {
  const size = previewSize(width, height, maxSide);
  // Both before and after previews go through exactly this path, so the renderer can blend them pixel for pixel.
  const bytes = await img.resize(size.width, size.height, { fit: 'fill', kernel: 'lanczos3' }).toColourspace('srgb').jpeg({ quality: 92, chromaSubsampling: '4:4:4' }).toBuffer();
  return { bytes, ...size };
}

export function rasterPreview(r: Raster, maxSide = PREVIEW_MAX_SIDE): Promise<Rendering> {
  return render(rawSharp(r.rgb, r.width, r.height, r.depth), r.width, r.height, maxSide);
}

export function resultPreview(res: DeblurResult, maxSide = PREVIEW_MAX_SIDE): Promise<Rendering> {
  return render(rawSharp(res.data, res.width, res.height, 16), res.width, res.height, maxSide);
}

/** A smaller 8-bit copy (for blur scores of whole folders), and the factor from its pixels to the photo's. */
export async function downscaleRaster(r: Raster, maxSide: number): Promise<{ raster: Raster; factor: number }> {
  const size = previewSize(r.width, r.height, maxSide);
  if (size.width === r.width && size.height === r.height && r.depth === 8) return { raster: r, factor: 1 };
  const { data } = await rawSharp(r.rgb, r.width, r.height, r.depth)
    .resize(size.width, size.height, { fit: 'fill' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const rgb = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { raster: { width: size.width, height: size.height, depth: 8, rgb, alpha: null, grey: r.grey }, factor: r.width / size.width };
}
