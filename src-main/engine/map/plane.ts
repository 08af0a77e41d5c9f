/** Single-channel float planes (row-major w×h): resampling, noise level, gradients. */
import { selectNth } from './select-nth.ts';

export interface Plane {
  width: number;
  height: number;
  data: Float32Array;
}

/** Separable resize with a triangle filter widened by the scale when shrinking (no aliasing). */
export function resizePlane(src: Plane, width: number, height: number): Plane {
  const tmp = resample1d(src.data, src.width, src.height, width, true);
  return { width, height, data: resample1d(tmp, width, src.height, height, false) };
}

function resample1d(src: Float32Array, w: number, h: number, n: number, alongX: boolean): Float32Array {
  const len = alongX ? w : h;
  const out = new Float32Array(alongX ? n * h : w * n);
  const scale = n / len;
  const support = scale < 1 ? 1 / scale : 1;
  const taps: Array<{ start: number; weights: Float32Array }> = [];
  for (let i = 0; i < n; i++) {
    const centre = (i + 0.5) / scale - 0.5;
    const start = Math.ceil(centre - support);
    const end = Math.floor(centre + support);
    const weights = new Float32Array(end - start + 1);
    let sum = 0;
    for (let j = start; j <= end; j++) {
      const wt = Math.max(0, 1 - Math.abs(j - centre) / support);
      weights[j - start] = wt;
      sum += wt;
    }
    for (let j = 0; j < weights.length; j++) weights[j] /= sum || 1;
    taps.push({ start, weights });
  }
  if (alongX) {
    for (let o = 0; o < h; o++) {
      for (let i = 0; i < n; i++) {
        const { start, weights } = taps[i];
        let s = 0;
        for (let j = 0; j < weights.length; j++) s += weights[j] * src[o * w + Math.min(len - 1, Math.max(0, start + j))];
        out[o * n + i] = s;
      }
    }
    return out;
  }
  // Down the columns a row at a time (a column walk would miss the cache at every tap), every column's sum side by
  // side, its terms added in the same order.
  const sums = new Float64Array(w);
  for (let i = 0; i < n; i++) {
    const { start, weights } = taps[i];
    sums.fill(0);
    for (let j = 0; j < weights.length; j++) {
      const row = Math.min(len - 1, Math.max(0, start + j)) * w;
      const wt = weights[j];
      for (let o = 0; o < w; o++) sums[o] += wt * src[row + o];
    }
    out.set(sums, i * w);
  }
  return out;
}

/**
 * Noise standard deviation from the finest diagonal wavelet band (median absolute deviation / 0.6745, Donoho):
 * blur leaves that band almost empty, so what remains is mostly noise. Clipped pixels are left out.
 */
export function noiseSigma(p: Plane): number {
  const { width: w, height: h, data } = p;
  const vals = new Float64Array((w >> 1) * (h >> 1));
  let n = 0;
  for (let y = 0; y + 1 < h; y += 2) {
    for (let x = 0; x + 1 < w; x += 2) {
      const a = data[y * w + x];
      const b = data[y * w + x + 1];
      const c = data[(y + 1) * w + x];
      const d = data[(y + 1) * w + x + 1];
      if (Math.max(a, b, c, d) >= 0.98 || Math.min(a, b, c, d) <= 0.02) continue;
      vals[n++] = Math.abs(a - b - c + d) / 2;
    }
  }
  if (n === 0) return 0;
  return selectNth(vals.subarray(0, n), n >> 1) / 0.6745;
}

/** Separable Gaussian blur (edges replicated). */
export function gaussianBlur(p: Plane, sigma: number): Plane {
  if (sigma <= 0) return { ...p, data: p.data.slice() };
  const r = Math.ceil(3 * sigma);
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  const { width: w, height: h } = p;
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let s = 0;
    for (let i = -r; i <= r; i++) s += k[i + r] * p.data[y * w + Math.min(w - 1, Math.max(0, x + i))];
    tmp[y * w + x] = s;
  }
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let s = 0;
    for (let i = -r; i <= r; i++) s += k[i + r] * tmp[Math.min(h - 1, Math.max(0, y + i)) * w + x];
    out[y * w + x] = s;
  }
  return { width: w, height: h, data: out };
}

/**
 * A Gaussian's stand-in at any width for the same cost: three box filters each way (Wells 1986), edges replicated;
 * for wide, soft masks, where a true Gaussian's taps would cost hundreds per pixel.
 */
export function boxBlur3(p: Plane, sigma: number): Plane {
  const { width: w, height: h } = p;
  // three boxes of width 2r+1 have variance 3·((2r+1)² − 1)/12
  const r = Math.max(0, Math.round((Math.sqrt(4 * sigma * sigma + 1) - 1) / 2));
  let a = p.data.slice();
  let b = new Float32Array(w * h);
  for (const alongX of [true, false]) {
    for (let pass = 0; pass < 3; pass++) {
      boxPass(a, b, w, h, r, alongX);
      [a, b] = [b, a];
    }
  }
  return { width: w, height: h, data: a };
}

function boxPass(src: Float32Array, dst: Float32Array, w: number, h: number, r: number, alongX: boolean): void {
  const n = 2 * r + 1;
  if (alongX) {
    const last = w - 1;
    for (let base = 0; base < w * h; base += w) {
      let sum = 0;
      for (let j = -r; j <= r; j++) sum += src[base + Math.min(last, Math.max(0, j))];
      for (let i = 0; i < w; i++) {
        dst[base + i] = sum / n;
        const add = i + r + 1;
        const drop = i - r;
        sum += src[base + (add < last ? add : last)] - src[base + (drop > 0 ? drop : 0)];
      }
    }
    return;
  }
  // Down the columns a row at a time, every column's running sum side by side: a column walk a pixel at a time
  // would miss the cache at every step. The sums add up in the same order as along x.
  const sums = new Float64Array(w);
  const row = (i: number) => Math.min(h - 1, Math.max(0, i)) * w;
  for (let j = -r; j <= r; j++) for (let x = 0, o = row(j); x < w; x++) sums[x] += src[o + x];
  for (let y = 0; y < h; y++) {
    const out = y * w;
    const add = row(y + r + 1);
    const drop = row(y - r);
    for (let x = 0; x < w; x++) {
      dst[out + x] = sums[x] / n;
      sums[x] += src[add + x] - src[drop + x];
    }
  }
}

/** 1 where a pixel is at or above `level`, grown by `radius` px (a clipped light blurs into its neighbours). */
export function clippedMask(p: Plane, level: number, radius: number): Uint8Array {
  const { width: w, height: h, data } = p;
  const rows = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    let last = -Infinity;
    for (let x = 0; x < w; x++) {
      if (data[y * w + x] >= level) last = x;
      if (x - last <= radius) rows[y * w + x] = 1;
    }
    last = Infinity;
    for (let x = w - 1; x >= 0; x--) {
      if (data[y * w + x] >= level) last = x;
      if (last - x <= radius) rows[y * w + x] = 1;
    }
  }
  const out = new Uint8Array(w * h);
  for (let x = 0; x < w; x++) {
    let last = -Infinity;
    for (let y = 0; y < h; y++) {
      if (rows[y * w + x]) last = y;
      if (y - last <= radius) out[y * w + x] = 1;
    }
    last = Infinity;
    for (let y = h - 1; y >= 0; y--) {
      if (rows[y * w + x]) last = y;
      if (last - y <= radius) out[y * w + x] = 1;
    }
  }
  return out;
}
