import sharp from 'sharp';
import { linearToSrgb, srgbToLinear } from './colour.ts';
import type { FloatImage } from './float-image.ts';
import type { Rng } from './random.ts';

export interface NoiseLevel {
  /** Shot-noise variance per unit of linear signal. */
  shot: number;
  /** Read-noise variance. */
  read: number;
}

/** A phone-like ISO: shot plus read noise, drawn log-uniformly from low to high light. */
export function randomNoiseLevel(rng: Rng): NoiseLevel {
  const iso = Math.exp(rng.uniform(Math.log(1), Math.log(16)));
  return { shot: 2.5e-4 * iso, read: 2e-6 * iso * iso };
}

/** Signal-dependent noise added in linear light after blurring, as a sensor does. */
export function addSensorNoise(img: FloatImage, level: NoiseLevel, rng: Rng): FloatImage {
  const d = img.data;
  for (let i = 0; i < d.length; i++) {
    const lin = srgbToLinear(d[i]);
    const noisy = lin + Math.sqrt(level.shot * lin + level.read) * rng.normal();
    d[i] = linearToSrgb(Math.min(1, Math.max(0, noisy)));
  }
  return img;
}

/** A JPEG round trip at a phone's quality, in place. */
export async function jpegRoundTrip(img: FloatImage, quality: number): Promise<FloatImage> {
  const { width: w, height: h } = img;
  const plane = w * h;
  const rgb = Buffer.alloc(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) rgb[3 * i + c] = Math.round(Math.min(1, Math.max(0, img.data[c * plane + i])) * 255);
  }
  const decoded = await sharp(await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer())
    .raw()
    .toBuffer();
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) img.data[c * plane + i] = decoded[3 * i + c] / 255;
  }
  return img;
}
