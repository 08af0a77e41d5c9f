/**
 * The in-memory photo every engine part works on: display-oriented RGB pixels kept at their source
 * bit depth (8 or 16), so 16-bit inputs keep their precision until export and a 48 MP photo costs
 * 288 MB rather than 576 MB as float. Networks read float tiles through `readFloatTile`.
 */
export type Depth = 8 | 16;
export type PixelArray = Uint8Array | Uint16Array;

export interface Raster {
  width: number;
  height: number;
  depth: Depth;
  /** HWC interleaved RGB, always 3 channels (a grey source is expanded; `grey` remembers it). */
  rgb: PixelArray;
  /** H·W alpha at the same depth, carried through untouched, or null. */
  alpha: PixelArray | null;
  /** The source had one colour channel: export writes one channel again. */
  grey: boolean;
}

export function maxValue(depth: Depth): number {
  return depth === 16 ? 65535 : 255;
}

export function createRaster(width: number, height: number, depth: Depth, withAlpha = false, grey = false): Raster {
  const n = width * height;
  const make = (len: number): PixelArray => (depth === 16 ? new Uint16Array(len) : new Uint8Array(len));
  return { width, height, depth, rgb: make(n * 3), alpha: withAlpha ? make(n) : null, grey };
}

/** A float CHW tile in [0,1] (the networks' NCHW layout without N), with edge pixels replicated outside the image. */
export function readFloatTile(src: Raster, x0: number, y0: number, w: number, h: number, out?: Float32Array): Float32Array {
  const res = out ?? new Float32Array(3 * w * h);
  const scale = 1 / maxValue(src.depth);
  const plane = w * h;
  for (let y = 0; y < h; y++) {
    const sy = Math.min(src.height - 1, Math.max(0, y0 + y));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(src.width - 1, Math.max(0, x0 + x));
      const s = (sy * src.width + sx) * 3;
      const d = y * w + x;
      res[d] = src.rgb[s] * scale;
      res[plane + d] = src.rgb[s + 1] * scale;
      res[2 * plane + d] = src.rgb[s + 2] * scale;
    }
  }
  return res;
}

/** The whole image as float HWC RGB in [0,1]. */
export function toFloatRGB(src: Raster): Float32Array {
  const scale = 1 / maxValue(src.depth);
  const res = new Float32Array(src.rgb.length);
  for (let i = 0; i < res.length; i++) res[i] = src.rgb[i] * scale;
  return res;
}

/** A raster from float HWC RGB in [0,1] (values outside are clipped, rounding to nearest). */
export function fromFloatRGB(data: Float32Array, width: number, height: number, depth: Depth): Raster {
  const r = createRaster(width, height, depth);
  const m = maxValue(depth);
  for (let i = 0; i < data.length; i++) r.rgb[i] = Math.round(Math.min(1, Math.max(0, data[i])) * m);
  return r;
}
