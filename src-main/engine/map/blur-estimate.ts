/**
 * What blurred a photo: kernels on a grid of overlapping regions (efficient filter flow, Hirsch et al. 2010),
 * estimated on luminance at a working resolution, each with a confidence from the guard. A region refines the
 * photo's overall kernel, so neighbours agree unless the blur really differs; a region with no structure or an
 * implausible kernel takes its neighbours' (or the photo's) kernel.
 */
import type { Raster } from '../image/raster.ts';
import { maxValue } from '../image/raster.ts';
import type { FftCache } from './fft2d.ts';
import { estimateKernel } from './estimate-kernel.ts';
import type { KernelTask } from './map-tasks.ts';
import { cleanKernel, kernelRadius, kernelSimilarity, oddSize, resizeKernel, trimKernel, type Kernel } from './kernel.ts';
import { clippedMask, gaussianBlur, noiseSigma, resizePlane, type Plane } from './plane.ts';
import { blurPresent, kernelPlausible, ringing, secondOpinion, structure, type Verdict } from './region-guard.ts';
import { dataWeight } from './data-weight.ts';

export interface RegionKernel {
  /** The region in full-resolution px (half-open). */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Kernel at full resolution. */
  kernel: Kernel;
  /** 0 (leave as shot) … 1 (full deconvolution). */
  confidence: number;
  /**
   * The sharpness test's verdict, 0 (as sharp as the estimate can tell: the kernel is the estimator's own spread) …
   * 1 (blurred): the share of the kernel's motion the motion view and the blur score show.
   */
  blurred: number;
  /** Why the confidence is low, if it is. */
  reason: string | null;
}

export interface BlurEstimate {
  width: number;
  height: number;
  cols: number;
  rows: number;
  /** Row-major, cols × rows. */
  regions: RegionKernel[];
  /** Noise standard deviation of the photo (0…1 scale). */
  noise: number;
  /** Full-resolution px per working-resolution px. */
  downscale: number;
}

export interface EstimateOptions {
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  /** Where the regions' kernels and ringing trials run (the MAP core's threads); absent: this thread. */
  regions?: RegionWork;
}

/** The per-region work of an estimate, which can run on other threads (map-threads.ts). */
export interface RegionWork {
  kernel(plane: Plane, options: KernelTask, signal?: AbortSignal): Promise<Kernel>;
  ringing(plane: Plane, kernel: Kernel, lambda: number, signal?: AbortSignal): Promise<Verdict>;
}

/** Long side of the working image: enough for kernels, small enough to estimate in seconds. */
export const WORKING_SIDE = 1024;
/** Noise the estimator copes with; noisier photos are estimated further downscaled. */
const WORKING_NOISE = 0.004;
/** Side of the window the photo's kernel is estimated on, at working resolution. */
const GLOBAL_SIDE = 512;
/** Smallest region side at working resolution. */
const REGION_SIDE = 256;
const CLIP_LEVEL = 0.97;
/** Working px two estimates of one kernel may lie apart and still be the same kernel. */
const SECOND_OPINION_SHIFT = 3;
const MIN_CONFIDENCE = 0.1;

/** Luma of the raster in sRGB values (0…1), or its brightest or darkest channel. */
export function lumaPlane(r: Raster, of: 'luma' | 'max' | 'min' = 'luma'): Plane {
  const n = r.width * r.height;
  const data = new Float32Array(n);
  const s = 1 / maxValue(r.depth);
  const px = r.rgb;
  for (let i = 0; i < n; i++) {
    const a = px[3 * i];
    const b = px[3 * i + 1];
    const c = px[3 * i + 2];
    data[i] = (of === 'luma' ? 0.2126 * a + 0.7152 * b + 0.0722 * c : of === 'max' ? Math.max(a, b, c) : Math.min(a, b, c)) * s;
  }
  return { width: r.width, height: r.height, data };
}

function crop(p: Plane, x0: number, y0: number, x1: number, y1: number): Plane {
  const w = x1 - x0;
  const out = new Float32Array(w * (y1 - y0));
  for (let y = y0; y < y1; y++) out.set(p.data.subarray(y * p.width + x0, y * p.width + x1), (y - y0) * w);
  return { width: w, height: y1 - y0, data: out };
}

/** Region bounds along one axis: n overlapping spans of [0, len). */
function spans(len: number, n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const step = len / n;
  const pad = n > 1 ? step * 0.25 : 0;
  for (let i = 0; i < n; i++) out.push([Math.max(0, Math.floor(i * step - pad)), Math.min(len, Math.ceil((i + 1) * step + pad))]);
  return out;
}

export async function estimateBlur(ffts: FftCache, raster: Raster, opts: EstimateOptions = {}): Promise<BlurEstimate> {
  const full = lumaPlane(raster);
  const noise = noiseSigma(full);
  const long = Math.max(raster.width, raster.height);
  // Downscaling averages noise away, but the working image must keep enough pixels to hold edges and kernels.
  const short = Math.min(raster.width, raster.height);
  const downscale = Math.max(1, long / WORKING_SIDE, Math.min(noise / WORKING_NOISE, 3, short / 192));
  const ww = Math.max(8, Math.round(raster.width / downscale));
  const wh = Math.max(8, Math.round(raster.height / downscale));
  const resized = downscale > 1 ? resizePlane(full, ww, wh) : full;
  // What downscaling left of the noise is smoothed before estimation (the kernel then carries that small blur too,
  // which the guard's sharpness test allows for).
  const residual = noise / downscale;
  const smoothing = residual > WORKING_NOISE ? Math.min(1.5, residual / WORKING_NOISE / 2) : 0;
  const workPlane = smoothing > 0 ? gaussianBlur(resized, smoothing) : resized;
  const workNoise = smoothing > 0 ? residual / (1 + 2 * smoothing) : residual;
  // The blur the estimation adds by itself, in working px²: the smoothing, and the downscaling's triangle filter
  // (variance 1/6 of a working pixel² per axis).
  const ownVariance = smoothing ** 2 + (downscale > 1 ? 1 / 6 : 0);
  const maxSize = oddSize(Math.min(65, Math.max(9, 0.15 * Math.min(ww, wh))));
  const clipped = clippedMask(workPlane, CLIP_LEVEL, 2);

  // The photo's kernel comes from its most informative window (the estimate costs grow with the area).
  const [gx0, gy0, gx1, gy1] = richestWindow(workPlane, GLOBAL_SIDE);
  // The mask as a plane once, so windows of it are cut like windows of the photo.
  const clippedPlane: Plane = { width: ww, height: wh, data: Float32Array.from(clipped) };
  const maskOf = (x0: number, y0: number, x1: number, y1: number) => Uint8Array.from(crop(clippedPlane, x0, y0, x1, y1).data);
  const here: RegionWork = {
    kernel: async (plane, options) => (await estimateKernel(ffts, plane, { ...options, signal: opts.signal })).kernel,
    ringing: async (plane, kernel, lambda) => ringing(ffts, plane, kernel, lambda),
  };
  const regionWork = opts.regions ?? here;
  const globalTask = { maxSize, noise: workNoise, clipped: maskOf(gx0, gy0, gx1, gy1) };
  const globalPlane = crop(workPlane, gx0, gy0, gx1, gy1);
  // The second opinion runs beside the photo's kernel (on the other thread where there is one).
  const estimatingGlobal = Promise.all([regionWork.kernel(globalPlane, globalTask, opts.signal), regionWork.kernel(globalPlane, { ...globalTask, edgeSelection: 'side' }, opts.signal)]);
  // Meanwhile (where the estimate runs on another thread): the brightest and darkest channels the trials need.
  const atWork = (p: Plane) => (downscale > 1 ? resizePlane(p, ww, wh) : p);
  const extremes = { max: atWork(lumaPlane(raster, 'max')), min: atWork(lumaPlane(raster, 'min')) };
  const [global, second] = await estimatingGlobal;
  opts.signal?.throwIfAborted();
  const agreement = secondOpinion(kernelSimilarity(global, second, SECOND_OPINION_SHIFT));
  const cols = Math.max(1, Math.min(4, Math.floor(ww / REGION_SIDE)));
  const rows = Math.max(1, Math.min(4, Math.floor(wh / REGION_SIDE)));
  const xs = spans(ww, cols);
  const ys = spans(wh, rows);
  const total = cols * rows + 1;
  let done = 1;
  opts.onProgress?.(done / total);

  // Each region refines the photo's kernel; they are independent, so they run side by side where threads allow.
  const found = await Promise.all(
    Array.from({ length: rows * cols }, async (_, i) => {
      const [x0, x1] = xs[i % cols];
      const [y0, y1] = ys[Math.floor(i / cols)];
      const s = structure(workPlane, x0, y0, x1, y1);
      let kernel = global;
      let own = cols * rows === 1; // a single region's kernel is the photo's
      if (!own && s.factor > 0) {
        kernel = await regionWork.kernel(crop(workPlane, x0, y0, x1, y1), { maxSize, noise: workNoise, clipped: maskOf(x0, y0, x1, y1), init: global }, opts.signal);
        opts.signal?.throwIfAborted();
        own = true;
      }
      opts.onProgress?.(++done / total);
      return { kernel, own, structure: s.factor, reason: s.reason, bounds: [x0, y0, x1, y1] as [number, number, number, number] };
    }),
  );
  // Neighbour consistency: a region kernel unlike both the photo's and every neighbour's is an outlier.
  for (let i = 0; i < found.length; i++) {
    const w = found[i];
    if (!w.own) continue;
    const r = Math.floor(i / cols);
    const c = i % cols;
    const near = [[r - 1, c], [r + 1, c], [r, c - 1], [r, c + 1]].filter(([rr, cc]) => rr >= 0 && cc >= 0 && rr < rows && cc < cols).map(([rr, cc]) => found[rr * cols + cc].kernel);
    const agree = Math.max(kernelSimilarity(w.kernel, global), ...near.map((k) => kernelSimilarity(w.kernel, k)));
    if (agree < 0.5 || kernelPlausible(w.kernel).factor === 0) {
      w.kernel = global;
      w.reason = 'kernel unlike its neighbours';
    }
  }

  const regions: RegionKernel[] = await Promise.all(found.map(async (w) => {
    const kFull = toFullResolution(w.kernel, downscale);
    const sharpness = blurPresent(w.kernel, ownVariance);
    const verdicts = [sharpness, kernelPlausible(w.kernel), { factor: Math.max(w.structure, w.own ? 0 : 0.5), reason: w.reason }, agreement];
    if (verdicts.every((v) => v.factor > 0)) {
      const [x0, y0, x1, y1] = w.bounds;
      // A colour channel can ring where the luminance does not (a light clipped in one channel): the trial runs on
      // the luminance and on the brightest and darkest channel.
      const trials = await Promise.all([resized, extremes.max, extremes.min].map((p) => regionWork.ringing(crop(p, x0, y0, x1, y1), w.kernel, dataWeight(workNoise), opts.signal)));
      opts.signal?.throwIfAborted();
      verdicts.push(trials.reduce((a, b) => (b.factor < a.factor ? b : a)));
    }
    const product = verdicts.reduce((a, v) => a * v.factor, 1);
    // A sliver of a doubtful deconvolution only adds noise: below this the region is left exactly as shot.
    const confidence = product < MIN_CONFIDENCE ? 0 : product;
    const reason = verdicts.find((v) => v.factor < 1 && v.reason)?.reason ?? null;
    const [x0, y0, x1, y1] = w.bounds;
    return {
      x0: Math.round(x0 * downscale),
      y0: Math.round(y0 * downscale),
      x1: Math.min(raster.width, Math.round(x1 * downscale)),
      y1: Math.min(raster.height, Math.round(y1 * downscale)),
      kernel: kFull,
      confidence,
      blurred: sharpness.factor,
      reason,
    };
  }));
  return { width: raster.width, height: raster.height, cols, rows, regions, noise, downscale };
}

/**
 * The side×side window (on a coarse grid of positions) with the most strong edges in its weakest direction:
 * where the kernel is best pinned down. The whole plane when it is no larger.
 */
function richestWindow(p: Plane, side: number): [number, number, number, number] {
  const { width: w, height: h, data } = p;
  if (w <= side && h <= side) return [0, 0, w, h];
  const sw = Math.min(side, w);
  const sh = Math.min(side, h);
  const cell = 32;
  const cw = Math.ceil(w / cell);
  const ch = Math.ceil(h / cell);
  // per cell: energy of strong gradients along x and along y
  const ex = new Float64Array(cw * ch);
  const ey = new Float64Array(cw * ch);
  for (let y = 0; y + 1 < h; y++) {
    for (let x = 0; x + 1 < w; x++) {
      const gx = data[y * w + x + 1] - data[y * w + x];
      const gy = data[(y + 1) * w + x] - data[y * w + x];
      const c = Math.floor(y / cell) * cw + Math.floor(x / cell);
      if (gx * gx > 4e-4) ex[c] += gx * gx;
      if (gy * gy > 4e-4) ey[c] += gy * gy;
    }
  }
  let best: [number, number, number, number] = [0, 0, sw, sh];
  let bestScore = -1;
  for (let y0 = 0; y0 + sh <= h; y0 += cell) {
    for (let x0 = 0; x0 + sw <= w; x0 += cell) {
      let sx = 0;
      let sy = 0;
      for (let cy = Math.floor(y0 / cell); cy < Math.ceil((y0 + sh) / cell); cy++) {
        for (let cx = Math.floor(x0 / cell); cx < Math.ceil((x0 + sw) / cell); cx++) {
          sx += ex[cy * cw + cx];
          sy += ey[cy * cw + cx];
        }
      }
      const score = Math.min(sx, sy);
      if (score > bestScore) {
        bestScore = score;
        best = [x0, y0, x0 + sw, y0 + sh];
      }
    }
  }
  return best;
}

function toFullResolution(k: Kernel, downscale: number): Kernel {
  if (downscale <= 1) return trimKernel(k);
  const size = oddSize(k.size * downscale);
  return trimKernel(cleanKernel(resizeKernel(k, size, downscale)));
}
