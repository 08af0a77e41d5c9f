/** A sharp sample photo, a known camera-shake kernel, and what the MAP-core tests measure with them. */
import path from 'node:path';
import sharp from 'sharp';
import { createRaster, type Raster } from '../../src-main/engine/image/raster.ts';
import { centreKernel, normalise, type Kernel } from '../../src-main/engine/map/kernel.ts';

const SAMPLE_PHOTO = path.resolve(import.meta.dirname, '..', '..', 'resources', 'samples', 'coffee-sharp.jpg');

export async function greyCrop(w: number, h: number, left = 100, top = 60): Promise<Float32Array> {
  const { data } = await sharp(SAMPLE_PHOTO).greyscale().extract({ left, top, width: w, height: h }).raw().toBuffer({ resolveWithObject: true });
  return Float32Array.from(data, (v) => v / 255);
}

/** A curved camera-shake path of about 17 px, centred on its centre of mass. */
export function shakeKernel(): Kernel {
  const n = 21;
  const d = new Float32Array(n * n);
  for (let t = 0; t <= 1; t += 0.005) d[Math.round(10 + 6 * Math.sin(t * 3) - 3) * n + Math.round(3 + 14 * t)] += 1;
  return centreKernel(normalise({ size: n, data: d }));
}

export function psnr(a: Float32Array, b: Float32Array, w: number, h: number, border = 16): number {
  let e = 0;
  let n = 0;
  for (let y = border; y < h - border; y++) for (let x = border; x < w - border; x++) {
    const d = a[y * w + x] - b[y * w + x];
    e += d * d;
    n++;
  }
  return 10 * Math.log10(n / e);
}

export const quantise = (p: Float32Array) => p.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255) / 255);

export function planeToRaster(p: Float32Array, w: number, h: number): Raster {
  const r = createRaster(w, h, 8);
  for (let i = 0; i < w * h; i++) r.rgb.fill(Math.round(Math.min(1, Math.max(0, p[i])) * 255), 3 * i, 3 * i + 3);
  return r;
}

/** The sample's top-left w×h crop. */
export function sampleRaster(w: number, h: number): Promise<Raster> {
  return toRaster(sharp(SAMPLE_PHOTO).extract({ left: 0, top: 0, width: w, height: h }));
}

/** The whole sample scaled to w×h. */
export function scaledSampleRaster(w: number, h: number): Promise<Raster> {
  return toRaster(sharp(SAMPLE_PHOTO).resize(w, h));
}

async function toRaster(image: sharp.Sharp): Promise<Raster> {
  const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const r = createRaster(info.width, info.height, 8);
  r.rgb.set(data);
  return r;
}

