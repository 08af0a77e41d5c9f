/**
 * The MAP core over a whole photo: estimate the blur (blur-estimate.ts), then deconvolve every channel at full
 * resolution in tiles, each tile with the kernel of its place (region kernels blended bilinearly), tiles
 * cross-faded over their overlaps (their weights sum to one, so no seams), and the result mixed with the photo by
 * the guard's confidence, region by region. Memory stays bounded: one band of tiles is in flight at a time.
 */
import type { Raster } from '../image/raster.ts';
import { maxValue } from '../image/raster.ts';
import type { DeblurResult } from '../infer/deblur.ts';
import type { BlurEstimate } from './blur-estimate.ts';
import { estimatePhotoBlur } from './photo-blur.ts';
import { DeconvPool } from './deconv-pool.ts';
import type { DeconvParams } from './deconvolve.ts';
import { centreKernel, normalise, padKernel, type Kernel } from './kernel.ts';
import { bracket } from './kernel-motion.ts';
import { dataWeight } from './data-weight.ts';
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
/** Cross-fade width between neighbouring tiles, px. */
const FEATHER = 32;


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

export async function mapDeblurRaster(raster: Raster, opts: MapDeblurOptions = {}): Promise<MapDeblurResult> {
  const started = performance.now();
  const { width: W, height: H } = raster;
  const report = (stage: 'estimating blur' | 'deconvolving', fraction: number) => {
    const elapsed = performance.now() - started;
    opts.onProgress?.({ stage, fraction, etaMs: fraction > 0.05 ? (elapsed / fraction) * (1 - fraction) : null });
  };
  const ESTIMATE_SHARE = 0.4;
  const estimate = opts.estimate ?? await estimatePhotoBlur(raster, {
    signal: opts.signal,
    onProgress: (f) => report('estimating blur', ESTIMATE_SHARE * f),
  });
  opts.signal?.throwIfAborted();
  const data = new Uint16Array(W * H * 3);
  const active = estimate.regions.some((r) => r.confidence > 0);
  const scale = 1 / maxValue(raster.depth);
  if (!active) {
    for (let i = 0; i < data.length; i++) data[i] = Math.round(raster.rgb[i] * scale * 65535);
    return result(raster, data, estimate, started, 0, 0, 0);
  }

  const core = opts.tileSize ?? 1024;
  const xs = cuts(W, core);
  const ys = cuts(H, core);
  const maxK = Math.max(...estimate.regions.map((r) => r.kernel.size));
  const margin = Math.max(64, 3 * maxK) + FEATHER / 2;
  // Luminance gets the hyper-Laplacian loop, the two colour differences one quadratic solve each.
  const params: DeconvParams = { lambda: dataWeight(estimate.noise), clipLevel: CLIP_LEVEL, quadraticPlanes: 2 };
  const prior = imagePrior(opts.learnedPrior, estimate.noise);
  const pool = new DeconvPool(opts.threads ?? 0);
  const tilesTotal = (xs.length - 1) * (ys.length - 1);
  let tilesDone = 0;
  // rows [accY0, accY0 + accRows) of the cross-faded sum, 3 floats a pixel
  let acc = new Float32Array(0);
  let accY0 = 0;
  const flush = (until: number) => {
    for (let y = accY0; y < until; y++) {
      const src = (y - accY0) * W * 3;
      const dst = y * W * 3;
      for (let i = 0; i < W * 3; i++) {
        const v = acc[src + i];
        data[dst + i] = v > 0 ? (v >= 1 ? 65535 : (v * 65535 + 0.5) | 0) : 0;
      }
    }
  };
  const abort = () => void pool.close();
  opts.signal?.addEventListener('abort', abort, { once: true });
  try {
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
      await Promise.all(
        xs.slice(0, -1).map(async (x0, bx) => {
          const x1 = xs[bx + 1];
          const ox0 = Math.max(0, x0 - h);
          const ox1 = Math.min(W, x1 + h);
          const { kernel, confidence } = kernelAt(estimate, (x0 + x1) / 2, (ys[by] + ys[by + 1]) / 2);
          const tx0 = ox0 - margin;
          const ty0 = oy0 - margin;
          const tw = ox1 - ox0 + 2 * margin;
          const th = oy1 - oy0 + 2 * margin;
          const input = readPlanes(raster, tx0, ty0, tw, th);
          const out = confidence > 0 ? fromLumaChroma(await pool.run({ planes: toLumaChroma(input), width: tw, height: th, kernel, params, prior })) : input;
          const confs = confidenceWindow(estimate, ox0, oy0, ox1, oy1);
          const fadeX = Array.from({ length: ox1 - ox0 }, (_, i) => fade(ox0 + i, x0, x1, W));
          for (let y = oy0; y < oy1; y++) {
            const wy = fade(y, ys[by], ys[by + 1], H);
            for (let x = ox0; x < ox1; x++) {
              const wgt = wy * fadeX[x - ox0];
              if (wgt === 0) continue;
              const conf = confs[(y - oy0) * (ox1 - ox0) + (x - ox0)];
              const t = (y - ty0) * tw + (x - tx0);
              const a = ((y - accY0) * W + x) * 3;
              for (let c = 0; c < 3; c++) acc[a + c] += wgt * (input[c][t] + conf * (out[c][t] - input[c][t]));
            }
          }
          tilesDone++;
          report('deconvolving', ESTIMATE_SHARE + (1 - ESTIMATE_SHARE) * (tilesDone / tilesTotal));
        }),
      );
      const done = by + 2 < ys.length ? Math.max(0, ys[by + 1] - h) : H;
      flush(done);
    }
  } catch (err) {
    opts.signal?.throwIfAborted(); // a tile stopped by the cancel fails with its own error: report the cancel
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', abort);
    await pool.close();
  }
  opts.signal?.throwIfAborted();
  return result(raster, data, estimate, started, tilesTotal, core, core);
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
  const xs = Array.from({ length: x1 - x0 }, (_, i) => bracket(cx, x0 + i));
  const at = (r: number, c: number) => e.regions[r * e.cols + c].confidence;
  const out = new Float32Array((x1 - x0) * (y1 - y0));
  for (let y = y0; y < y1; y++) {
    const [r0, r1, fy] = bracket(cy, y);
    for (let i = 0; i < xs.length; i++) {
      const [c0, c1, fx] = xs[i];
      out[(y - y0) * xs.length + i] = (1 - fy) * ((1 - fx) * at(r0, c0) + fx * at(r0, c1)) + fy * ((1 - fx) * at(r1, c0) + fx * at(r1, c1));
    }
  }
  return out;
}

/** RGB planes → luma and two colour differences (BT.601 in sRGB values), new arrays. */
function toLumaChroma([r, g, b]: Float32Array[]): Float32Array[] {
  const y = new Float32Array(r.length);
  const cb = new Float32Array(r.length);
  const cr = new Float32Array(r.length);
  for (let i = 0; i < r.length; i++) {
    const l = 0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i];
    y[i] = l;
    cb[i] = b[i] - l;
    cr[i] = r[i] - l;
  }
  return [y, cb, cr];
}

function fromLumaChroma([y, cb, cr]: Float32Array[]): Float32Array[] {
  const r = new Float32Array(y.length);
  const g = new Float32Array(y.length);
  const b = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    r[i] = y[i] + cr[i];
    b[i] = y[i] + cb[i];
    g[i] = (y[i] - 0.299 * r[i] - 0.114 * b[i]) / 0.587;
  }
  return [r, g, b];
}

/** A coordinate reflected into [0, n) (repeatedly for windows wider than the image). */
function mirror(v: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((v % period) + period) % period;
  return m < n ? m : period - m;
}

/** Three float planes of a window of the raster, mirrored outside it (no false edge at the border to ring on). */
function readPlanes(r: Raster, x0: number, y0: number, w: number, h: number): Float32Array[] {
  const planes = [new Float32Array(w * h), new Float32Array(w * h), new Float32Array(w * h)];
  const s = 1 / maxValue(r.depth);
  for (let y = 0; y < h; y++) {
    const sy = mirror(y0 + y, r.height);
    for (let x = 0; x < w; x++) {
      const sx = mirror(x0 + x, r.width);
      const i = (sy * r.width + sx) * 3;
      const d = y * w + x;
      planes[0][d] = r.rgb[i] * s;
      planes[1][d] = r.rgb[i + 1] * s;
      planes[2][d] = r.rgb[i + 2] * s;
    }
  }
  return planes;
}
