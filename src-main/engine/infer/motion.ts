/**
 * Motion estimation with M: the full-resolution blur field in pixels, its statistics and per-photo blur score,
 * and a coarse quiver grid for the UI. Pictures of it (heat map, quiver overlay, PNG) are motion-render.ts's.
 *
 * Units: M outputs m = (u, v) through tanh, in units of MOTION_UNIT_PX (20 px): m = 1 means a linear blur of
 * 20 px each way (40 px streak). The field stores 20·m, i.e. the HALF-extent of the blur in px, flipped to the
 * canonical sign (v ≥ 0; on v = 0, u ≥ 0) since a blur along v is the same as along −v. A model may override
 * the unit with metadata_props "motion_unit_px".
 */
import { MOTION_UNIT_PX } from '../synth/motion-vector.ts';
import type { Raster } from '../image/raster.ts';
import { runTiled, type Progress, type TileOptions, type TileRunner } from './tiling.ts';
import type { ProviderName } from './providers.ts';

export { MOTION_UNIT_PX };
const Q = 32767;

/** The motion map at full resolution, 4 bytes a pixel. */
export interface MotionField {
  width: number;
  height: number;
  /** Interleaved (u, v) per pixel, canonical sign, in counts: px = count × pxPerCount. */
  data: Int16Array;
  /** Pixels per count: unitPx / 32767 (≈ 0.0006 px). */
  pxPerCount: number;
  /** The motion unit of the model (20 px): |u|, |v| ≤ unitPx. */
  unitPx: number;
}

export interface QuiverCell {
  /** Cell centre in image px. */
  x: number;
  y: number;
  /**
   * Mean blur vector of the cell in image px (half-extent: the streak runs from centre − (u,v) to centre + (u,v)),
   * canonical sign. Averaged in the doubled-angle representation, so (u,v) and (−u,−v) reinforce each other and
   * crossing directions cancel: its length is the coherent part of the motion.
   */
  u: number;
  v: number;
  /** Mean motion magnitude in the cell, px (direction-free). */
  magnitude: number;
  /** Direction agreement in [0,1]: |(u,v)| / magnitude. */
  coherence: number;
}

export interface QuiverGrid {
  /** Size of the image the grid describes (draw scaled by displayWidth / width). */
  width: number;
  height: number;
  /** Cell side in image px; the last column / row may be narrower. */
  step: number;
  cols: number;
  rows: number;
  /** Row-major, cols × rows. */
  cells: QuiverCell[];
}

export interface MotionStats {
  /** Magnitude statistics over all pixels, px (half-extent). */
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface MotionResult {
  field: MotionField;
  grid: QuiverGrid;
  /** Blur score: the 90th percentile of the motion magnitude, px (see blurScore()). */
  blurScore: number;
  stats: MotionStats;
  model: string;
  provider: ProviderName | string;
  tiles: number;
  seconds: number;
}

export interface MotionOptions extends TileOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** Quiver arrows across the longer side (default 40). */
  gridAcross?: number;
}

export type MotionSession = TileRunner & {
  readonly file?: string;
  readonly provider?: ProviderName | string;
  readonly metadata?: Record<string, string>;
};

/** Run M (a 3→2 session) over a raster. */
export async function estimateMotion(session: MotionSession, raster: Raster, opts: MotionOptions = {}): Promise<MotionResult> {
  if (session.outChannels !== 2) throw new Error(`${session.file ?? 'model'}: a motion model must output 2 channels, this one outputs ${session.outChannels}`);
  const unitMeta = Number(session.metadata?.motion_unit_px);
  const unitPx = Number.isFinite(unitMeta) && unitMeta > 0 ? unitMeta : MOTION_UNIT_PX;
  const { width, height } = raster;
  const data = new Int16Array(width * height * 2);
  const sink = (y0: number, rows: number, band: Float32Array, offset: number) => {
    const n = rows * width;
    let d = y0 * width * 2;
    let s = offset;
    for (let i = 0; i < n; i++, s += 2) {
      let u = band[s];
      let v = band[s + 1];
      if (!(u === u)) u = 0; // NaN
      if (!(v === v)) v = 0;
      if (v < 0 || (v === 0 && u < 0)) { u = -u; v = -v; }
      data[d++] = Math.round((u > 1 ? 1 : u < -1 ? -1 : u) * Q);
      data[d++] = Math.round((v > 1 ? 1 : v) * Q);
    }
  };
  const run = await runTiled(session, raster, sink, opts);
  const field: MotionField = { width, height, data, pxPerCount: unitPx / Q, unitPx };
  const stats = motionStats(field);
  return {
    field,
    grid: quiverGrid(field, { across: opts.gridAcross }),
    blurScore: stats.p90,
    stats,
    model: session.file ?? '',
    provider: session.provider ?? 'cpu',
    tiles: run.plan.tiles,
    seconds: run.seconds,
  };
}

/** The motion vector (px, canonical sign) at a pixel. */
export function motionAt(f: MotionField, x: number, y: number): [number, number] {
  const i = 2 * (y * f.width + x);
  return [f.data[i] * f.pxPerCount, f.data[i + 1] * f.pxPerCount];
}

/** The motion field as float px, interleaved (u, v): 8 bytes a pixel, for small images and tests. */
export function motionToFloat(f: MotionField): Float32Array {
  const out = new Float32Array(f.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f.data[i] * f.pxPerCount;
  return out;
}

/** Motion magnitude of every pixel, px. */
export function motionMagnitude(f: MotionField): Float32Array {
  const n = f.width * f.height;
  const out = new Float32Array(n);
  const k = f.pxPerCount;
  for (let i = 0; i < n; i++) {
    const u = f.data[2 * i];
    const v = f.data[2 * i + 1];
    out[i] = Math.sqrt(u * u + v * v) * k;
  }
  return out;
}

const HIST_BINS_PER_PX = 32;

/**
 * Magnitude statistics from a histogram (1/32 px bins, linear inside a bin), one pass, no sort.
 * The blur score is `p90`: the motion half-extent (px) that 10 % of the photo exceeds. A high percentile
 * rather than the mean, so a photo with a blurred subject on a sharp background still scores as blurry once
 * the blur covers a tenth of the frame; a percentile rather than the max, so a few noisy pixels or a small
 * moving object do not. The full streak length is twice the score.
 */
export function motionStats(f: MotionField): MotionStats {
  const n = f.width * f.height;
  const maxPx = f.unitPx * Math.SQRT2;
  const bins = Math.ceil(maxPx * HIST_BINS_PER_PX) + 1;
  const hist = new Float64Array(bins);
  const k = f.pxPerCount * HIST_BINS_PER_PX;
  let sum = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const u = f.data[2 * i];
    const v = f.data[2 * i + 1];
    const r = Math.sqrt(u * u + v * v) * k; // in bins
    sum += r;
    if (r > max) max = r;
    hist[Math.min(bins - 1, Math.floor(r))]++;
  }
  const pct = (p: number): number => {
    const target = p * n;
    let acc = 0;
    for (let b = 0; b < bins; b++) {
      const c = hist[b];
      if (acc + c >= target && c > 0) return (b + (target - acc) / c) / HIST_BINS_PER_PX;
      acc += c;
    }
    return max / HIST_BINS_PER_PX;
  };
  const clampMax = (v: number) => Math.min(v, max / HIST_BINS_PER_PX);
  return {
    mean: n ? sum / n / HIST_BINS_PER_PX : 0,
    p50: clampMax(pct(0.5)),
    p90: clampMax(pct(0.9)),
    p99: clampMax(pct(0.99)),
    max: max / HIST_BINS_PER_PX,
  };
}

/** The per-photo blur score in px: the 90th percentile of the motion magnitude (see motionStats). */
export function blurScore(f: MotionField): number {
  return motionStats(f).p90;
}

/**
 * Average the field over a coarse grid. `across`: arrows along the longer side (default 40); `step` overrides
 * the cell side in px.
 */
export function quiverGrid(f: MotionField, opts: { across?: number; step?: number } = {}): QuiverGrid {
  const { width: W, height: H } = f;
  const step = Math.max(1, Math.round(opts.step ?? Math.max(W, H) / (opts.across ?? 40)));
  const cols = Math.ceil(W / step);
  const rows = Math.ceil(H / step);
  const nc = cols * rows;
  const sumR = new Float64Array(nc);
  const sumX = new Float64Array(nc); // r·cos 2θ
  const sumY = new Float64Array(nc); // r·sin 2θ
  const k = f.pxPerCount;
  const colCell = new Int32Array(W);
  for (let x = 0; x < W; x++) colCell[x] = Math.floor(x / step);
  for (let y = 0; y < H; y++) {
    const rowCell = Math.floor(y / step) * cols;
    let i = 2 * y * W;
    for (let x = 0; x < W; x++, i += 2) {
      const u = f.data[i];
      const v = f.data[i + 1];
      const r2 = u * u + v * v;
      if (r2 === 0) continue;
      const r = Math.sqrt(r2);
      const c = rowCell + colCell[x];
      sumR[c] += r;
      sumX[c] += (u * u - v * v) / r; // r cos 2θ
      sumY[c] += (2 * u * v) / r; // r sin 2θ
    }
  }
  const cells: QuiverCell[] = new Array(nc);
  for (let cy = 0; cy < rows; cy++) {
    const y0 = cy * step;
    const h = Math.min(step, H - y0);
    for (let cx = 0; cx < cols; cx++) {
      const x0 = cx * step;
      const w = Math.min(step, W - x0);
      const c = cy * cols + cx;
      const count = w * h;
      const magnitude = (sumR[c] / count) * k;
      const zx = sumX[c] / count;
      const zy = sumY[c] / count;
      const len = Math.hypot(zx, zy) * k;
      let theta = Math.atan2(zy, zx) / 2; // (−π/2, π/2]
      if (theta < 0) theta += Math.PI; // canonical: v ≥ 0
      let u = len * Math.cos(theta);
      let v = len * Math.sin(theta);
      if (len === 0) { u = 0; v = 0; }
      cells[c] = {
        x: x0 + w / 2,
        y: y0 + h / 2,
        u: round4(u),
        v: round4(Math.max(0, v)),
        magnitude: round4(magnitude),
        coherence: magnitude > 0 ? round4(Math.min(1, len / magnitude)) : 0,
      };
    }
  }
  return { width: W, height: H, step, cols, rows, cells };
}

function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
