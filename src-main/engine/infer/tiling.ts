/**
 * Tiled inference for any photo size with bounded memory.
 *
 * Plan (per axis, the 2-D plan is the product of the two):
 * - Tiles ("windows") of `tileSize` (rounded up to the network's size multiple) overlap by at least `overlap` px.
 *   A photo smaller than one tile is one window of the photo's size rounded up to the multiple.
 * - The image is read with `margin` = overlap/4 px of edge-replicated context beyond its borders, and windows that
 *   reach past the image (right/bottom rounding to the multiple) are edge-replicated too.
 * - Blend weights: between two neighbouring windows a linear ramp of width overlap/2 centred in their overlap;
 *   the outer `margin` px of every window edge that touches a neighbour get weight 0 (the network's own zero
 *   padding makes them wrong). The ramps of one window never touch each other, so on every pixel the weights of
 *   the windows covering it sum to exactly 1 (partition of unity): no weight buffer, no normalisation, no seam.
 *   A network whose receptive-field radius is below `margin` gives the same result tiled as whole.
 * - Output: tiles are run row by row; a float accumulator holds one band of tile rows (tileSize × width ×
 *   channels) and rows that no later tile touches are handed to a sink (which stores them compactly) and dropped.
 *   Memory: band + two input tiles + one output tile, whatever the photo size.
 * - Pipelining: session.run executes in the session's worker thread while this thread reads the next tile and
 *   blends the previous one.
 */
import type { Raster } from '../image/raster.ts';
import { maxValue } from '../image/raster.ts';

export const DEFAULT_TILE_SIZE = 512;
export const DEFAULT_OVERLAP = 64;

export interface TileOptions {
  /** Tile side in px (rounded up to the size multiple). Default 512. */
  tileSize?: number;
  /** Minimum overlap between neighbouring tiles in px, at most tileSize/2. Default 64 (a quarter of smaller tiles). */
  overlap?: number;
}

export interface AxisWindow {
  /** First pixel of the window in image coordinates (may be negative: replicated context). */
  start: number;
  size: number;
  /** Blend weight of each window pixel along this axis. */
  weights: Float32Array;
  /** Window-relative range [lo, hi) where the weight is > 0 and the pixel lies inside the image. */
  lo: number;
  hi: number;
}

export interface TilePlan {
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
  overlap: number;
  margin: number;
  sizeMultiple: number;
  cols: AxisWindow[];
  rows: AxisWindow[];
  tiles: number;
}

export interface TileRunner {
  /** 3, or 6 when the tiles carry a guide raster too (absent: 3). */
  readonly inChannels?: number;
  readonly outChannels: number;
  readonly sizeMultiple: number;
  readonly fixedSize: { width: number; height: number } | null;
  run(input: Float32Array, height: number, width: number): Promise<{ output: Float32Array; input: Float32Array }>;
}

export interface Progress {
  done: number;
  total: number;
  fraction: number;
  elapsedMs: number;
  /** Estimated time left, null before the first tile. */
  etaMs: number | null;
}

export interface TiledRunOptions extends TileOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /**
   * A second raster of the same size whose channels come first in each tile (6 channels in all): the MAP
   * core's result for the refiner, which reads it beside the photo.
   */
  guide?: Raster;
}

export interface TiledRunStats {
  plan: TilePlan;
  seconds: number;
  /** Time this thread spent waiting for the network (the rest went to reading, blending, storing). */
  waitSeconds: number;
}

/**
 * Receives final output rows: `rows` image rows starting at image row `y0`, as HWC float32 with the runner's
 * channel count, at `data[offset…]` (row stride width × channels). The data is only valid during the call.
 */
export type RowSink = (y0: number, rows: number, data: Float32Array, offset: number) => void;

function roundUp(v: number, k: number): number {
  return Math.ceil(v / k) * k;
}

/** The windows along one axis of `length` px. */
export function planAxis(length: number, tile: number, overlap: number, multiple: number, fixed = false): AxisWindow[] {
  const margin = Math.floor(overlap / 4);
  const half = overlap / 2 - margin; // half-width of the blend ramp
  const ext = length + 2 * margin; // the image plus replicated context on both sides
  let starts: number[];
  let size: number;
  if (ext <= tile) {
    size = fixed ? tile : Math.min(tile, roundUp(ext, multiple));
    starts = [0 - margin];
  } else {
    size = tile;
    const n = Math.ceil((ext - overlap) / (tile - overlap));
    starts = Array.from({ length: n }, (_, i) => 0 - margin + Math.round((i * (ext - tile)) / (n - 1)));
  }
  const n = starts.length;
  // cut i lies between window i and i + 1, in the middle of their overlap
  const cuts = starts.slice(0, -1).map((s, i) => (s + size + starts[i + 1]) / 2);
  return starts.map((start, i) => {
    const w = new Float32Array(size);
    let lo = size;
    let hi = 0;
    for (let t = 0; t < size; t++) {
      const p = start + t + 0.5; // pixel centre
      let v = 1;
      if (i > 0) v *= ramp(p - (cuts[i - 1] - half), half);
      if (i < n - 1) v *= 1 - ramp(p - (cuts[i] - half), half);
      w[t] = v;
      const x = start + t;
      if (v > 0 && x >= 0 && x < length) {
        if (t < lo) lo = t;
        hi = t + 1;
      }
    }
    return { start, size, weights: w, lo, hi: Math.max(hi, lo) };
  });
}

/** 0 → 1 over [0, 2·half] (a step at `half` when half is 0). */
function ramp(d: number, half: number): number {
  if (half <= 0) return d >= 0 ? 1 : 0;
  const v = d / (2 * half);
  return v <= 0 ? 0 : v >= 1 ? 1 : v;
}

export function planTiles(
  width: number,
  height: number,
  sizeMultiple: number,
  opts: TileOptions = {},
  fixedSize: { width: number; height: number } | null = null,
): TilePlan {
  if (!(width > 0 && height > 0)) throw new RangeError(`planTiles: empty image ${width}×${height}`);
  const k = Math.max(1, Math.floor(sizeMultiple));
  const tw = fixedSize ? fixedSize.width : roundUp(Math.max(k, Math.floor(opts.tileSize ?? DEFAULT_TILE_SIZE)), k);
  const th = fixedSize ? fixedSize.height : roundUp(Math.max(k, Math.floor(opts.tileSize ?? DEFAULT_TILE_SIZE)), k);
  // the default overlap shrinks to a quarter of a small tile; an explicit one is checked
  const overlap = opts.overlap === undefined ? Math.min(DEFAULT_OVERLAP, Math.floor(Math.min(tw, th) / 4)) : Math.floor(opts.overlap);
  if (!(overlap >= 0) || 2 * overlap > Math.min(tw, th)) {
    throw new RangeError(`tile overlap ${opts.overlap} must be between 0 and half the tile size (${Math.min(tw, th) / 2})`);
  }
  const cols = planAxis(width, tw, overlap, k, !!fixedSize);
  const rows = planAxis(height, th, overlap, k, !!fixedSize);
  return {
    width, height, tileWidth: cols[0].size, tileHeight: rows[0].size, overlap, margin: Math.floor(overlap / 4),
    sizeMultiple: k, cols, rows, tiles: cols.length * rows.length,
  };
}

/**
 * Read a CHW float tile in [0,1] from a raster, replicating edge pixels outside it (same values as
 * raster.ts readFloatTile, faster: the column lookup is computed once per tile).
 */
export function readTileCHW(src: Raster, x0: number, y0: number, w: number, h: number, out: Float32Array, colIndex?: Int32Array): Float32Array {
  const scale = 1 / maxValue(src.depth);
  const plane = w * h;
  const W = src.width;
  const xs = colIndex && colIndex.length >= w ? colIndex : new Int32Array(w);
  for (let x = 0; x < w; x++) xs[x] = Math.min(W - 1, Math.max(0, x0 + x)) * 3;
  const rgb = src.rgb;
  for (let y = 0; y < h; y++) {
    const rowBase = Math.min(src.height - 1, Math.max(0, y0 + y)) * W * 3;
    let d = y * w;
    for (let x = 0; x < w; x++, d++) {
      const s = rowBase + xs[x];
      out[d] = rgb[s] * scale;
      out[plane + d] = rgb[s + 1] * scale;
      out[2 * plane + d] = rgb[s + 2] * scale;
    }
  }
  return out;
}

function abortError(signal: AbortSignal): Error {
  const r = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error(typeof r === 'string' ? r : 'The operation was aborted');
  e.name = 'AbortError';
  return e;
}

/**
 * Run a network over a raster tile by tile and hand the blended output rows, top to bottom, to `sink`.
 * Cancellable: when `signal` aborts, rejects with its reason (an AbortError) before the next tile.
 */
export async function runTiled(runner: TileRunner, src: Raster, sink: RowSink, opts: TiledRunOptions = {}): Promise<TiledRunStats> {
  const t0 = performance.now();
  if (opts.guide && (opts.guide.width !== src.width || opts.guide.height !== src.height)) {
    throw new Error(`the guide raster is ${opts.guide.width}×${opts.guide.height}, the photo ${src.width}×${src.height}`);
  }
  const plan = planTiles(src.width, src.height, runner.sizeMultiple, opts, runner.fixedSize);
  const { cols, rows, tileWidth: tw, tileHeight: th, width: W, height: H } = plan;
  const C = runner.outChannels;
  const plane = tw * th;
  const rowStride = W * C;
  const band = new Float32Array(th * rowStride);
  let bandStart = rows[0].start;
  let flushed = 0;
  const colIndex = new Int32Array(tw);
  const pool: Float32Array[] = [];
  const signal = opts.signal;
  let waitMs = 0;

  const prepare = (i: number): Float32Array => {
    const guide = opts.guide;
    const buf = pool.pop() ?? new Float32Array((guide ? 6 : 3) * plane);
    const r = rows[Math.floor(i / cols.length)];
    const c = cols[i % cols.length];
    if (!guide) return readTileCHW(src, c.start, r.start, tw, th, buf, colIndex);
    readTileCHW(guide, c.start, r.start, tw, th, buf.subarray(0, 3 * plane), colIndex);
    readTileCHW(src, c.start, r.start, tw, th, buf.subarray(3 * plane), colIndex);
    return buf;
  };

  const accumulate = (i: number, out: Float32Array): void => {
    const r = rows[Math.floor(i / cols.length)];
    const c = cols[i % cols.length];
    const wx = c.weights;
    for (let ty = r.lo; ty < r.hi; ty++) {
      const wy = r.weights[ty];
      const y = r.start + ty;
      let a = (y - bandStart) * rowStride + (c.start + c.lo) * C;
      let s = ty * tw + c.lo;
      for (let tx = c.lo; tx < c.hi; tx++, s++) {
        const w = wy * wx[tx];
        for (let ch = 0; ch < C; ch++) band[a++] += w * out[ch * plane + s];
      }
    }
  };

  const flushTo = (end: number): void => {
    const from = Math.max(flushed, 0);
    const to = Math.min(end, H);
    if (to > from) sink(from, to - from, band, (from - bandStart) * rowStride);
    flushed = Math.max(flushed, to);
  };

  const afterTile = (i: number): void => {
    const col = i % cols.length;
    if (col !== cols.length - 1) return;
    const row = Math.floor(i / cols.length);
    if (row === rows.length - 1) {
      flushTo(H);
      return;
    }
    const next = rows[row + 1].start;
    flushTo(next);
    const shift = next - bandStart;
    if (shift >= th) band.fill(0);
    else {
      band.copyWithin(0, shift * rowStride);
      band.fill(0, (th - shift) * rowStride);
    }
    bandStart = next;
  };

  const total = plan.tiles;
  const report = (done: number) => {
    if (!opts.onProgress) return;
    const elapsedMs = performance.now() - t0;
    opts.onProgress({ done, total, fraction: done / total, elapsedMs, etaMs: done > 0 ? (elapsedMs / done) * (total - done) : null });
  };

  if (signal?.aborted) throw abortError(signal);
  report(0);
  let nextInput: Float32Array | null = prepare(0);
  let prev: { i: number; output: Float32Array } | null = null;
  for (let i = 0; i < total; i++) {
    if (signal?.aborted) throw abortError(signal);
    const running = runner.run(nextInput!, th, tw);
    nextInput = null;
    // While the network runs: blend the previous tile, read the next one.
    if (prev) {
      accumulate(prev.i, prev.output);
      afterTile(prev.i);
      report(prev.i + 1);
      prev = null;
    }
    if (i + 1 < total) nextInput = prepare(i + 1);
    const w0 = performance.now();
    let res: { output: Float32Array; input: Float32Array };
    if (signal) {
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(abortError(signal));
        signal.addEventListener('abort', onAbort, { once: true });
      });
      running.catch(() => {}); // an abandoned run may still fail in the background
      try {
        res = await Promise.race([running, aborted]);
      } finally {
        signal.removeEventListener('abort', onAbort!);
      }
    } else {
      res = await running;
    }
    waitMs += performance.now() - w0;
    if (res.input && res.input.length === 3 * plane) pool.push(res.input);
    prev = { i, output: res.output };
  }
  if (prev) {
    accumulate(prev.i, prev.output);
    afterTile(prev.i);
    report(prev.i + 1);
  }
  return { plan, seconds: (performance.now() - t0) / 1000, waitSeconds: waitMs / 1000 };
}
