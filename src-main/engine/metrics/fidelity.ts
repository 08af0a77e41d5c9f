import type { FloatImage } from '../synth/float-image.ts';

/** PSNR in dB of two images in [0, 1] (values clipped first, as a saved photo would be). */
export function psnr(a: FloatImage, b: FloatImage): number {
  assertSameSize(a, b);
  let se = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = clip01(a.data[i]) - clip01(b.data[i]);
    se += d * d;
  }
  const mse = se / a.data.length;
  return mse === 0 ? Infinity : -10 * Math.log10(mse);
}

/**
 * SSIM (Wang et al. 2004) with an 11×11 Gaussian window of σ 1.5 and K1 = 0.01, K2 = 0.03,
 * per RGB channel and averaged, over the window positions that fit inside the image.
 */
export function ssim(a: FloatImage, b: FloatImage): number {
  assertSameSize(a, b);
  const { width: w, height: h } = a;
  const plane = w * h;
  const c1 = 0.01 ** 2;
  const c2 = 0.03 ** 2;
  const g = gaussianKernel(11, 1.5);
  const r = 5;
  if (w <= 2 * r || h <= 2 * r) throw new Error(`SSIM needs images larger than 11×11, got ${w}×${h}`);
  let total = 0;
  let count = 0;
  for (let c = 0; c < 3; c++) {
    const x = a.data.subarray(c * plane, (c + 1) * plane).map(clip01);
    const y = b.data.subarray(c * plane, (c + 1) * plane).map(clip01);
    const mx = blurValid(x, w, h, g);
    const my = blurValid(y, w, h, g);
    const xx = blurValid(product(x, x), w, h, g);
    const yy = blurValid(product(y, y), w, h, g);
    const xy = blurValid(product(x, y), w, h, g);
    for (let i = 0; i < mx.length; i++) {
      const vx = xx[i] - mx[i] * mx[i];
      const vy = yy[i] - my[i] * my[i];
      const cov = xy[i] - mx[i] * my[i];
      total += ((2 * mx[i] * my[i] + c1) * (2 * cov + c2)) / ((mx[i] ** 2 + my[i] ** 2 + c1) * (vx + vy + c2));
      count++;
    }
  }
  return total / count;
}

function gaussianKernel(size: number, sigma: number): Float64Array {
  const k = new Float64Array(size);
  const r = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) s += k[i] = Math.exp(-((i - r) ** 2) / (2 * sigma * sigma));
  return k.map((v) => v / s);
}

/** Separable filtering keeping only positions where the whole window fits ("valid"). */
function blurValid(src: Float32Array, w: number, h: number, k: Float64Array): Float64Array {
  const n = k.length;
  const ow = w - n + 1;
  const oh = h - n + 1;
  const tmp = new Float64Array(ow * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += k[i] * src[y * w + x + i];
      tmp[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += k[i] * tmp[(y + i) * ow + x];
      out[y * ow + x] = s;
    }
  }
  return out;
}

function product(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * b[i];
  return out;
}

function clip01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function assertSameSize(a: FloatImage, b: FloatImage): void {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`images differ in size: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
}
