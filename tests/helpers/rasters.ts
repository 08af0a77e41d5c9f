/** Test rasters. */
import { createRaster, type Depth, type Raster } from '../../src-main/engine/image/raster.ts';
import { rng } from './tiny-onnx.ts';

export function randomRaster(width: number, height: number, depth: Depth = 8, seed = 11): Raster {
  const r = createRaster(width, height, depth);
  const rand = rng(seed);
  const max = depth === 16 ? 65535 : 255;
  for (let i = 0; i < r.rgb.length; i++) r.rgb[i] = Math.floor(rand() * (max + 1));
  return r;
}

/** A smooth diagonal gradient (different per channel). */
export function gradientRaster(width: number, height: number, depth: Depth = 16): Raster {
  const r = createRaster(width, height, depth);
  const max = depth === 16 ? 65535 : 255;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 3 * (y * width + x);
      r.rgb[i] = Math.round((x / (width - 1)) * max);
      r.rgb[i + 1] = Math.round((y / (height - 1)) * max);
      r.rgb[i + 2] = Math.round(((x + y) / (width + height - 2)) * max);
    }
  }
  return r;
}

export function fillRect(r: Raster, x0: number, y0: number, w: number, h: number, rgb: [number, number, number]): void {
  for (let y = y0; y < y0 + h; y++) {
    for (let x = x0; x < x0 + w; x++) {
      const i = 3 * (y * r.width + x);
      r.rgb[i] = rgb[0];
      r.rgb[i + 1] = rgb[1];
      r.rgb[i + 2] = rgb[2];
    }
  }
}
