/**
 * The MAP core over a whole photo: estimate the blur (blur-estimate.ts), then deconvolve every channel at full
 * resolution in tiles, each tile with the kernel of its place (region kernels blended bilinearly), tiles
 * cross-faded over their overlaps (their weights sum to one, so no seams), and the result mixed with the photo by
 * the guard's confidence, region by region. Memory stays bounded: one band of rows is summed at a time, with a
 * few tiles in flight on the MAP core's threads (map-threads.ts), which also run the estimate's regions.
 */
import type { Raster } from '../image/raster.ts';
import { maxValue } from '../image/raster.ts';
import type { DeblurResult } from '../infer/deblur.ts';
import type { BlurEstimate } from './blur-estimate.ts';
import { estimatePhotoBlur } from './photo-blur.ts';
import { withMapThreads, type MapThreads } from './map-threads.ts';
import type { DeconvParams } from './deconvolve.ts';
import { centreKernel, normalise, padKernel, type Kernel } from './kernel.ts';
import { bracket } from './kernel-motion.ts';
import { dataWeight } from './data-weight.ts';
import { scaleEstimate } from './scale-estimate.ts';
import type { ImagePrior } from './image-prior.ts';

export interface MapDeblurOptions {
  signal?: AbortSignal;
  /** Stage and fraction of the whole run (estimation, then deconvolution). */
  onProgress?: (p: { stage: 'estimating blur' | 'deconvolving'; fraction: number; etaMs: number | null }) => void;
  /** Worker threads for the deconvolution (0: all cores). */
  threads?: number;
  /** Tile core side in px. */
  tileSize?: number;
  /** Use this estimate instead of estimating (the eval's oracle runs, a re-run at another setting). */
  estimate?: BlurEstimate;
  /** The learned image prior for the luminance (models/denoiser.onnx); absent: the hyper-Laplacian alone. */
  learnedPrior?: LearnedPriorOptions;
  /** Running MAP core threads (the session provider keeps them warm between runs); absent: `threads` new ones. */
  pool?: MapThreads;
}

export interface LearnedPriorOptions {
  model: string;
  iterations?: number;
  sigmaStart?: number;
  weight?: number;
}

export interface MapDeblurResult extends DeblurResult {
  estimate: BlurEstimate;
}

const CLIP_LEVEL = 0.98;
/** Share of a run's progress that the blur estimate takes (the rest is the deconvolution). */
export const ESTIMATE_SHARE = 0.4;
/** Cross-fade width between neighbouring tiles, px. */
const FEATHER = 32;


/** Whether a run with this estimate changes the photo at all (the guard may leave every region as shot). */
export function deconvolves(e: BlurEstimate): boolean {
  return e.regions.some((r) => r.confidence > 0);
}

/** The kernel at a point: region kernels blended bilinearly between region centres. */
export function kernelAt(e: BlurEstimate, x: number, y: number): { kernel: Kernel; confidence: number } {
  const cx = e.regions.slice(0, e.cols).map((r) => (r.x0 + r.x1) / 2);
  const cy = Array.from({ length: e.rows }, (_, i) => (e.regions[i * e.cols].y0 + e.regions[i * e.cols].y1) / 2);
  const [c0, c1, fx] = bracket(cx, x);
  const [r0, r1, fy] = bracket(cy, y);
  const parts: Array<[Kernel, number, number]> = [];
  for (const [r, wy] of [[r0, 1 - fy], [r1, fy]] as const) {
    for (const [c, wx] of [[c0, 1 - fx], [c1, fx]] as const) {
      const w = wx * wy;
      if (w > 0) {
        const reg = e.regions[r * e.cols + c];
        parts.push([reg.kernel, w, reg.confidence]);
      }
    }
  }
  const size = Math.max(...parts.map(([k]) => k.size));
  const data = new Float32Array(size * size);
  let confidence = 0;
  for (const [k, w, conf] of parts) {
    const p = padKernel(k, size);
    for (let i = 0; i < data.length; i++) data[i] += w * p.data[i];
    confidence += w * conf;
  }
  return { kernel: centreKernel(normalise({ size, data })), confidence };
}

/** Tile boundaries along one axis: cores of about `core` px. */
function cuts(len: number, core: number): number[] {
  const n = Math.max(1, Math.round(len / core));
  return Array.from({ length: n + 1 }, (_, i) => Math.round((i * len) / n));
}

/** Cross-fade weight of position v for the span [a, b) whose interior edges fade over FEATHER px. */
function fade(v: number, a: number, b: number, len: number): number {
  const h = FEATHER / 2;
  let w = 1;
  if (a > 0) w = Math.min(w, Math.max(0, Math.min(1, (v - (a - h) + 0.5) / FEATHER)));
  if (b < len) w = Math.min(w, Math.max(0, Math.min(1, (b + h - v - 0.5) / FEATHER)));
  return w;
}

export function mapDeblurRaster(raster: Raster, opts: MapDeblurOptions = {}): Promise<MapDeblurResult> {
  return withMapThreads(opts.pool ?? opts.threads ?? 0, opts.signal, (threads) => deblurOnThreads(raster, opts, threads));
}

/**
 * How to deblur a smaller copy of a photo (the editor's display-sized preview) with the photo's estimate: the
 * estimate scaled to the copy, and about one tile a thread (fewer tiles, less overlap to deconvolve twice).
 */
export function previewOptions(small: Raster, estimate: BlurEstimate, threads: number): Pick<MapDeblurOptions, 'estimate' | 'tileSize'> {
  const long = Math.max(small.width, small.height);
  const short = Math.min(small.width, small.height);
  return { estimate: scaleEstimate(estimate, small.width, small.height), tileSize: Math.ceil(Math.max(long / threads, short / 1.4)) };
}

async function deblurOnThreads(raster: Raster, opts: MapDeblurOptions, threads: MapThreads): Promise<MapDeblurResult> {
  const started = performance.now();
  const { width: W, height: H } = raster;
  const report = (stage: 'estimating blur' | 'deconvolving', fraction: number) => {
    const elapsed = performance.now() - started;
    opts.onProgress?.({ stage, fraction, etaMs: fraction > 0.05 ? (elapsed / fraction) * (1 - fraction) : null });
  };
  const estimate = opts.estimate ?? await estimatePhotoBlur(raster, {
    signal: opts.signal,
    regions: threads,
    onProgress: (f) => report('estimating blur', ESTIMATE_SHARE * f),
  });
  opts.signal?.throwIfAborted();
  const active = deconvolves(estimate);
  const data = new Uint16Array(W * H * 3);
  const rgb = raster.rgb;
  const scale = 1 / maxValue(raster.depth);
  if (!active) {
    for (let i = 0; i < data.length; i++) data[i] = Math.round(rgb[i] * scale * 65535);
    return result(raster, data, estimate, started, 0, 0, 0);
  }

  const core = opts.tileSize ?? 1024;
  const xs = cuts(W, core);
  const ys = cuts(H, core);
  const maxK = Math.max(...estimate.regions.map((r) => r.kernel.size));
  const margin = Math.max(64, 3 * maxK) + FEATHER / 2;
  const params: DeconvParams = { lambda: dataWeight(estimate.noise), clipLevel: CLIP_LEVEL };
  const prior = imagePrior(opts.learnedPrior, estimate.noise);
  const tilesTotal = (xs.length - 1) * (ys.length - 1);
  let tilesDone = 0;
  // rows [accY0, accY0 + accRows) of the cross-faded sum, 3 floats a pixel
  let acc = new Float32Array(0);
  let accY0 = 0;
  const flush = (until: number) => writeRows(acc, accY0, until, W, data);
  for (let by = 0; by + 1 < ys.length; by++) {
    opts.signal?.throwIfAborted();
    const h = FEATHER / 2;
    const oy0 = Math.max(0, ys[by] - h);
    const oy1 = Math.min(H, ys[by + 1] + h);
    // the new band's accumulator keeps the previous band's unfinished rows on top
    const next = new Float32Array((oy1 - oy0) * W * 3);
    if (acc.length) next.set(acc.subarray((oy0 - accY0) * W * 3));
    acc = next;
    accY0 = oy0;
    // A few tiles run ahead of the one being added up (enough to keep every thread busy, few enough to bound the
    // memory); they are added up in order, so the sums do not depend on which thread finished first.
    const start = (bx: number) => {
      const x0 = xs[bx];
      const x1 = xs[bx + 1];
      const ox0 = Math.max(0, x0 - h);
      const ox1 = Math.min(W, x1 + h);
      const { kernel, confidence } = kernelAt(estimate, (x0 + x1) / 2, (ys[by] + ys[by + 1]) / 2);
      // The margins stop at the photo's border: beyond it the deconvolution's own smooth periodic continuation
      // takes over (a mirrored border would be blurred by the mirrored kernel, data no kernel explains).
      const tx0 = Math.max(0, ox0 - margin);
      const ty0 = Math.max(0, oy0 - margin);
      const tw = Math.min(W, ox1 + margin) - tx0;
      const th = Math.min(H, oy1 + margin) - ty0;
      const out = confidence > 0 ? threads.deconvolve({ planes: readPlanes(raster, tx0, ty0, tw, th), width: tw, height: th, kernel, params, prior }, opts.signal) : null;
      // a tile that fails while an earlier one is awaited is reported when its turn comes
      out?.catch(() => {});
      return { x0, x1, ox0, ox1, tx0, ty0, tw, out };
    };
    const count = xs.length - 1;
    const ahead = threads.threads + 1;
    const running: Array<ReturnType<typeof start> | null> = [];
    try {
      for (let bx = 0; bx < count; bx++) {
        for (let next = running.length; next < Math.min(count, bx + ahead); next++) running.push(start(next));
        const { x0, x1, ox0, ox1, tx0, ty0, tw, out } = running[bx]!;
        running[bx] = null; // its planes go once they are added up
        // a tile the guard leaves as shot is its own input
        const [o0, o1, o2] = out ? await out : [null, null, null];
        const confs = confidenceWindow(estimate, ox0, oy0, ox1, oy1);
        const fadeX = Float64Array.from({ length: ox1 - ox0 }, (_, i) => fade(ox0 + i, x0, x1, W));
        const fadeY = Float64Array.from({ length: oy1 - oy0 }, (_, i) => fade(oy0 + i, ys[by], ys[by + 1], H));
        addTile(acc, accY0, raster, { ox0, oy0, ox1, oy1, tx0, ty0, tw }, o0 && o1 && o2 ? [o0, o1, o2] : null, confs, fadeX, fadeY);
        tilesDone++;
        report('deconvolving', ESTIMATE_SHARE + (1 - ESTIMATE_SHARE) * (tilesDone / tilesTotal));
      }
    } finally {
      // a failed tile leaves the others running: wait for them, so nothing outlives this call
      await Promise.allSettled(running.map((t) => t?.out));
    }
    const done = by + 2 < ys.length ? Math.max(0, ys[by + 1] - h) : H;
    flush(done);
  }
  opts.signal?.throwIfAborted();
  return result(raster, data, estimate, started, tilesTotal, core, core);
}

/**
 * Adds one tile's cross-faded contribution to the running sum (rows from `accY0`, 3 floats a pixel): the photo
 * blended toward the tile's result by the guard's confidence, or the photo itself where the tile was left as shot.
 * Kept out of the async tile scheduling: a plain loop over every pixel of the tile's window.
 */
function addTile(
  acc: Float32Array,
  accY0: number,
  raster: Raster,
  t: { ox0: number; oy0: number; ox1: number; oy1: number; tx0: number; ty0: number; tw: number },
  out: Float32Array[] | null,
  confs: Float32Array,
  fadeX: Float64Array,
  fadeY: Float64Array,
): void {
  const { ox0, oy0, ox1, oy1, tx0, ty0, tw } = t;
  const W = raster.width;
  const rgb = raster.rgb;
  const scale = 1 / maxValue(raster.depth);
  const w = ox1 - ox0;
  for (let y = oy0; y < oy1; y++) {
    const wy = fadeY[y - oy0];
    if (wy === 0) continue;
    const a0 = ((y - accY0) * W + ox0) * 3;
    const p0 = (y * W + ox0) * 3;
    const j0 = (y - oy0) * w;
    const t0 = (y - ty0) * tw + ox0 - tx0;
    for (let i = 0; i < w; i++) {
      const wgt = wy * fadeX[i];
      if (wgt === 0) continue;
      const a = a0 + 3 * i;
      const p = p0 + 3 * i;
      // the photo's values as the tile read them (float32)
      const v0 = Math.fround(rgb[p] * scale);
      const v1 = Math.fround(rgb[p + 1] * scale);
      const v2 = Math.fround(rgb[p + 2] * scale);
      if (out) {
        const conf = confs[j0 + i];
        const k = t0 + i;
        acc[a] += wgt * (v0 + conf * (out[0][k] - v0));
        acc[a + 1] += wgt * (v1 + conf * (out[1][k] - v1));
        acc[a + 2] += wgt * (v2 + conf * (out[2][k] - v2));
      } else {
        acc[a] += wgt * v0;
        acc[a + 1] += wgt * v1;
        acc[a + 2] += wgt * v2;
      }
    }
  }
}

/** Rows [accY0, until) of the finished sum into the 16-bit result. */
function writeRows(acc: Float32Array, accY0: number, until: number, W: number, data: Uint16Array): void {
  for (let y = accY0; y < until; y++) {
    const src = (y - accY0) * W * 3;
    const dst = y * W * 3;
    for (let i = 0; i < W * 3; i++) {
      const v = acc[src + i];
      data[dst + i] = v > 0 ? (v >= 1 ? 65535 : (v * 65535 + 0.5) | 0) : 0;
    }
  }
}

/** The plug-and-play schedule for a photo's noise level (image-prior.ts). */
function imagePrior(o: LearnedPriorOptions | undefined, noise: number): ImagePrior {
  if (!o) return { kind: 'hyper-laplacian' };
  return {
    kind: 'denoiser',
    model: o.model,
    iterations: o.iterations ?? 4,
    sigmaStart: o.sigmaStart ?? 0.03,
    sigmaEnd: Math.max(noise, 0.004),
    weight: o.weight ?? 0.02,
  };
}

function result(raster: Raster, data: Uint16Array, estimate: BlurEstimate, started: number, tiles: number, tw: number, th: number): MapDeblurResult {
  return {
    width: raster.width,
    height: raster.height,
    data,
    model: 'MAP core',
    provider: 'cpu',
    tiles,
    tileWidth: tw,
    tileHeight: th,
    seconds: (performance.now() - started) / 1000,
    waitSeconds: 0,
    estimate,
  };
}

/**
 * The guard's confidence over a window: region confidences interpolated bilinearly between region centres
 * (brackets computed once per column and row, not per pixel).
 */
function confidenceWindow(e: BlurEstimate, x0: number, y0: number, x1: number, y1: number): Float32Array {
  const cx = e.regions.slice(0, e.cols).map((r) => (r.x0 + r.x1) / 2);
  const cy = Array.from({ length: e.rows }, (_, i) => (e.regions[i * e.cols].y0 + e.regions[i * e.cols].y1) / 2);
  const w = x1 - x0;
  const out = new Float32Array(w * (y1 - y0));
  const first = e.regions[0].confidence;
  if (e.regions.every((r) => r.confidence === first)) return out.fill(first);
  // typed arrays, not a tuple a pixel: this runs over every pixel of the photo
  const c0s = new Int32Array(w);
  const c1s = new Int32Array(w);
  const fxs = new Float64Array(w);
  for (let i = 0; i < w; i++) [c0s[i], c1s[i], fxs[i]] = bracket(cx, x0 + i);
  // per row: the region confidences interpolated down to it, then across
  const across = new Float64Array(e.cols);
  for (let y = y0; y < y1; y++) {
    const [r0, r1, fy] = bracket(cy, y);
    for (let c = 0; c < e.cols; c++) across[c] = (1 - fy) * e.regions[r0 * e.cols + c].confidence + fy * e.regions[r1 * e.cols + c].confidence;
    for (let i = 0, o = (y - y0) * w; i < w; i++, o++) out[o] = (1 - fxs[i]) * across[c0s[i]] + fxs[i] * across[c1s[i]];
  }
  return out;
}

/** Three float planes of a window inside the raster. */
function readPlanes(r: Raster, x0: number, y0: number, w: number, h: number): Float32Array[] {
  const [p0, p1, p2] = [new Float32Array(w * h), new Float32Array(w * h), new Float32Array(w * h)];
  const s = 1 / maxValue(r.depth);
  const rgb = r.rgb;
  for (let y = 0; y < h; y++) {
    for (let x = 0, d = y * w, i = ((y0 + y) * r.width + x0) * 3; x < w; x++, d++, i += 3) {
      p0[d] = rgb[i] * s;
      p1[d] = rgb[i + 1] * s;
      p2[d] = rgb[i + 2] * s;
    }
  }
  return [p0, p1, p2];
}
