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

  const core = opts.tileSize ?? 512;
  const xs = cuts(W, core);
  const ys = cuts(H, core);
  const maxK = Math.max(...estimate.regions.map((r) => r.kernel.size));
  const margin = Math.max(64, 3 * maxK) + FEATHER / 2;
  const params: DeconvParams = { lambda: dataWeight(estimate.noise), clipLevel: CLIP_LEVEL };
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
          const planes = readPlanes(raster, tx0, ty0, tw, th);
          const input = planes.map((p) => p.slice());
          const out = confidence > 0 ? await pool.run({ planes, width: tw, height: th, kernel, params }) : input;
          for (let y = oy0; y < oy1; y++) {
            const wy = fade(y, ys[by], ys[by + 1], H);
            for (let x = ox0; x < ox1; x++) {
              const wgt = wy * fade(x, x0, x1, W);
              if (wgt === 0) continue;
              const conf = confidenceAt(estimate, x, y);
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
  } finally {
    opts.signal?.removeEventListener('abort', abort);
    await pool.close();
  }
  opts.signal?.throwIfAborted();
  return result(raster, data, estimate, started, tilesTotal, core, core);
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

/** The guard's confidence at a pixel: region confidences interpolated between region centres. */
function confidenceAt(e: BlurEstimate, x: number, y: number): number {
  if (e.regions.length === 1) return e.regions[0].confidence;
  return kernelAtConfidence(e, x, y);
}

function kernelAtConfidence(e: BlurEstimate, x: number, y: number): number {
  const cx = e.regions.slice(0, e.cols).map((r) => (r.x0 + r.x1) / 2);
  const cy = Array.from({ length: e.rows }, (_, i) => (e.regions[i * e.cols].y0 + e.regions[i * e.cols].y1) / 2);
  const [c0, c1, fx] = bracket(cx, x);
  const [r0, r1, fy] = bracket(cy, y);
  const at = (r: number, c: number) => e.regions[r * e.cols + c].confidence;
  return (1 - fy) * ((1 - fx) * at(r0, c0) + fx * at(r0, c1)) + fy * ((1 - fx) * at(r1, c0) + fx * at(r1, c1));
}

/** Three float planes of a window of the raster, edges replicated outside it. */
function readPlanes(r: Raster, x0: number, y0: number, w: number, h: number): Float32Array[] {
  const planes = [new Float32Array(w * h), new Float32Array(w * h), new Float32Array(w * h)];
  const s = 1 / maxValue(r.depth);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(r.height - 1, Math.max(0, y0 + y));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(r.width - 1, Math.max(0, x0 + x));
      const i = (sy * r.width + sx) * 3;
      const d = y * w + x;
      planes[0][d] = r.rgb[i] * s;
      planes[1][d] = r.rgb[i + 1] * s;
      planes[2][d] = r.rgb[i + 2] * s;
    }
  }
  return planes;
}
