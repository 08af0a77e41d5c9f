import { colourLuminance } from './luminance.ts';
import { linearToSrgb, mapInPlace, srgbToLinear } from './colour.ts';
import { createFloatImage, type FloatImage } from './float-image.ts';
import type { OffsetField } from './offset-field.ts';

/**
 * The deterministic core of the blur model, twin of training/blur.py's blur_with_offsets:
 * the mean over the K steps of bilinear samples at p + offsets_k(p), coordinates clamped to the
 * image (border replicate), i.e. torch's grid_sample with align_corners=True and padding 'border'.
 */
export function blurWithOffsets(img: FloatImage, field: OffsetField): FloatImage {
  const { width: w, height: h } = img;
  if (field.width !== w || field.height !== h) throw new Error(`offset field is ${field.width}×${field.height}, image is ${w}×${h}`);
  const plane = w * h;
  const out = createFloatImage(w, h);
  const dx = new Float32Array(plane);
  const dy = new Float32Array(plane);
  const src = img.data;
  const acc = out.data;
  for (let k = 0; k < field.steps; k++) {
    field.fill(k, dx, dy);
    for (let y = 0, i = 0; y < h; y++) {
      for (let x = 0; x < w; x++, i++) {
        const sx = Math.min(w - 1, Math.max(0, x + dx[i]));
        const sy = Math.min(h - 1, Math.max(0, y + dy[i]));
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const x1 = Math.min(x0 + 1, w - 1);
        const y1 = Math.min(y0 + 1, h - 1);
        const fx = sx - x0;
        const fy = sy - y0;
        const w00 = (1 - fx) * (1 - fy);
        const w01 = fx * (1 - fy);
        const w10 = (1 - fx) * fy;
        const w11 = fx * fy;
        const i00 = y0 * w + x0;
        const i01 = y0 * w + x1;
        const i10 = y1 * w + x0;
        const i11 = y1 * w + x1;
        for (let c = 0, o = 0; c < 3; c++, o += plane) {
          acc[o + i] += w00 * src[o + i00] + w01 * src[o + i01] + w10 * src[o + i10] + w11 * src[o + i11];
        }
      }
    }
  }
  const inv = 1 / field.steps;
  for (let i = 0; i < acc.length; i++) acc[i] *= inv;
  return out;
}

export interface BlurOptions {
  /** Blur in linear light (as a camera does) rather than on the sRGB values (as many public test sets do). */
  linearLight: boolean;
  /** Linear-light highlights whose luminance exceeds `threshold` are multiplied by `gain` before blurring, then clipped: bright streaks. */
  highlight?: { threshold: number; gain: number };
}

/** A sharp sRGB image blurred along a field, with the camera's linear-light and clipping behaviour. */
export function blurPhoto(sharp: FloatImage, field: OffsetField, opts: BlurOptions): FloatImage {
  if (!opts.linearLight) return clip(blurWithOffsets(sharp, field));
  const lin = { ...sharp, data: mapInPlace(sharp.data.slice(), srgbToLinear) };
  if (opts.highlight && opts.highlight.gain !== 1) boostHighlights(lin, opts.highlight.threshold, opts.highlight.gain);
  const blurred = clip(blurWithOffsets(lin, field));
  mapInPlace(blurred.data, linearToSrgb);
  return blurred;
}

function boostHighlights(lin: FloatImage, threshold: number, gain: number): void {
  const plane = lin.width * lin.height;
  const d = lin.data;
  for (let i = 0; i < plane; i++) {
    if (colourLuminance(d[i], d[plane + i], d[2 * plane + i]) > threshold) {
      d[i] *= gain;
      d[plane + i] *= gain;
      d[2 * plane + i] *= gain;
    }
  }
}

function clip(img: FloatImage): FloatImage {
  const d = img.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i] < 0 ? 0 : d[i] > 1 ? 1 : d[i];
  return img;
}
