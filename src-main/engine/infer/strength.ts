/**
 * Strength: out = in + s·k(p)·(G(in) − in), clipped to the raster's range, rendered from the stored DeblurResult
 * (the network does not run again). s ∈ [0, 2]: 0 = the original (bit for bit), 1 = the network output,
 * above 1 extrapolates. k(p) is 1, or with "protect sharp areas" a per-pixel factor from M's motion magnitude:
 * a smooth ramp from 0 (no motion, below `lowPx`) to 1 (motion above `highPx`), so in-focus regions stay as shot.
 */
import type { Raster } from '../image/raster.ts';
import { createRaster, maxValue } from '../image/raster.ts';
import type { DeblurResult } from './deblur.ts';
import type { MotionField } from './motion.ts';

export const MIN_STRENGTH = 0;
export const MAX_STRENGTH = 2;

export interface ProtectOptions {
  /** Motion magnitude (px, half-extent) at and below which a pixel is left untouched. Default 1. */
  lowPx?: number;
  /** Motion magnitude (px) from which the full strength applies. Default 4. */
  highPx?: number;
}

export interface StrengthOptions {
  /** Protect sharp areas using this motion field (any size: sampled nearest when it differs from the photo). */
  protect?: ({ field: MotionField } & ProtectOptions) | null;
  /** Write into this raster (same size and depth as the input) instead of a new one. */
  out?: Raster;
}

/** Smoothstep ramp 0 → 1 between lowPx and highPx. */
export function protectFactor(magnitudePx: number, lowPx = 1, highPx = 4): number {
  if (magnitudePx <= lowPx) return 0;
  if (magnitudePx >= highPx) return 1;
  const t = (magnitudePx - lowPx) / (highPx - lowPx);
  return t * t * (3 - 2 * t);
}

/** Turns motion magnitudes into protection factors, row by row (no full-size buffer). */
class Protector {
  private readonly table: Float32Array;
  private readonly steps: number;
  private readonly xs: Int32Array;
  private readonly k: number;

  constructor(private readonly field: MotionField, readonly width: number, private readonly height: number, opts: ProtectOptions) {
    const lowPx = opts.lowPx ?? 1;
    const highPx = opts.highPx ?? 4;
    if (!(highPx > lowPx) || !(lowPx >= 0)) throw new RangeError(`protect: need 0 ≤ lowPx < highPx (got ${lowPx}, ${highPx})`);
    // magnitude → factor through a table in 0.01 px steps up to highPx
    this.steps = Math.ceil(highPx * 100) + 1;
    this.table = new Float32Array(this.steps + 1);
    for (let i = 0; i <= this.steps; i++) this.table[i] = protectFactor(i / 100, lowPx, highPx);
    this.xs = new Int32Array(width);
    for (let x = 0; x < width; x++) this.xs[x] = Math.min(field.width - 1, Math.floor(((x + 0.5) * field.width) / width));
    this.k = field.pxPerCount * 100;
  }

  row(y: number, out: Float32Array): Float32Array {
    const f = this.field;
    const fy = Math.min(f.height - 1, Math.floor(((y + 0.5) * f.height) / this.height));
    const frow = fy * f.width;
    for (let x = 0; x < this.width; x++) {
      const i = 2 * (frow + this.xs[x]);
      const u = f.data[i];
      const v = f.data[i + 1];
      const m = Math.sqrt(u * u + v * v) * this.k; // in 0.01 px
      out[x] = m >= this.steps ? 1 : this.table[Math.round(m)];
    }
    return out;
  }
}

/** Per-pixel factors k(p) at (width × height), from a motion field (nearest sample when sizes differ). For display. */
export function protectMap(field: MotionField, width: number, height: number, opts: ProtectOptions = {}): Float32Array {
  const p = new Protector(field, width, height, opts);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) p.row(y, out.subarray(y * width, (y + 1) * width));
  return out;
}

/**
 * Render strength `s` from the photo and its deblur result. Returns a raster of the input's depth (alpha and
 * the grey flag carried over). s = 0 returns the input's pixels exactly.
 */
export function applyStrength(input: Raster, result: DeblurResult, s: number, opts: StrengthOptions = {}): Raster {
  if (!Number.isFinite(s) || s < MIN_STRENGTH || s > MAX_STRENGTH) throw new RangeError(`strength must be in [0, 2], got ${s}`);
  if (result.width !== input.width || result.height !== input.height) {
    throw new Error(`strength: result is ${result.width}×${result.height}, photo is ${input.width}×${input.height}`);
  }
  const { width, height, depth } = input;
  const out = opts.out ?? createRaster(width, height, depth, false, input.grey);
  if (out.width !== width || out.height !== height || out.depth !== depth) throw new Error('strength: `out` must match the input size and depth');
  out.alpha = input.alpha ? input.alpha.slice() : null;
  out.grey = input.grey;
  const src = input.rgb;
  const dst = out.rgb;
  if (s === 0) {
    dst.set(src);
    return out;
  }
  const max = maxValue(depth);
  const g = result.data;
  const toDepth = max / 65535;
  const protector = opts.protect ? new Protector(opts.protect.field, width, height, opts.protect) : null;
  const factors = new Float32Array(width);
  for (let y = 0; y < height; y++) {
    if (protector) protector.row(y, factors);
    for (let x = 0, i = 3 * y * width; x < width; x++) {
      const e = protector ? s * factors[x] : s;
      if (e === 0) {
        dst[i] = src[i]; dst[i + 1] = src[i + 1]; dst[i + 2] = src[i + 2];
        i += 3;
        continue;
      }
      for (let c = 0; c < 3; c++, i++) {
        const a = src[i];
        const v = a + e * (g[i] * toDepth - a);
        dst[i] = v <= 0 ? 0 : v >= max ? max : Math.round(v);
      }
    }
  }
  return out;
}
