/**
 * The motion the kernels imply, in the units of the motion view (NEURMAP.md): per pixel, the blur's half-extent
 * in px along its main direction, canonical sign. A region's vector is its kernel's principal axis, with the
 * half-length of a straight streak of the same spread (√(3·λmax)), times the sharpness test's verdict (a region
 * judged sharp shows no motion: its kernel is the estimator's own spread); between region centres vectors are
 * blended in the doubled-angle representation, where a direction and its opposite are the same blur.
 */
import { canonicalSign } from '../synth/motion-vector.ts';
import { motionStats, quiverGrid, type MotionField, type MotionResult } from '../infer/motion.ts';
import type { BlurEstimate, RegionKernel } from './blur-estimate.ts';
import { kernelMotion } from './kernel.ts';

/** A region as the motion view and `neurmap motion --json` describe it: bounds, blur half-extent, the guard's verdict. */
export function regionSummary(r: RegionKernel): { x0: number; y0: number; x1: number; y1: number; halfExtentPx: number; confidence: number; reason: string | null } {
  return { x0: r.x0, y0: r.y0, x1: r.x1, y1: r.y1, halfExtentPx: regionBlur(r), confidence: r.confidence, reason: r.reason };
}

/** The blur a region shows, px: its kernel's half-extent as far as the sharpness test believes it. */
function regionBlur(r: RegionKernel): number {
  return kernelMotion(r.kernel).halfExtent * r.blurred;
}

const Q = 32767;

/** The estimate as the motion view's field, quiver grid, statistics and blur score. */
export function motionFromEstimate(e: BlurEstimate, opts: { gridAcross?: number; seconds?: number } = {}): MotionResult {
  const { width: W, height: H, cols, rows } = e;
  const vec = e.regions.map((r) => {
    const m = kernelMotion(r.kernel);
    const a = 2 * Math.atan2(m.v, m.u);
    const h = regionBlur(r);
    return { h, c: h * Math.cos(a), s: h * Math.sin(a) };
  });
  const unitPx = Math.max(1, ...vec.map((v) => v.h));
  const cx = e.regions.slice(0, cols).map((r) => (r.x0 + r.x1) / 2);
  const cy = Array.from({ length: rows }, (_, i) => (e.regions[i * cols].y0 + e.regions[i * cols].y1) / 2);
  const data = new Int16Array(W * H * 2);
  const wx = axisWeights(cx, W);
  const wy = axisWeights(cy, H);
  for (let y = 0; y < H; y++) {
    const [r0, r1, fy] = wy[y];
    for (let x = 0; x < W; x++) {
      const [c0, c1, fx] = wx[x];
      let h = 0;
      let c = 0;
      let s = 0;
      for (const [r, ry] of [[r0, 1 - fy], [r1, fy]] as const) {
        for (const [cc, rx] of [[c0, 1 - fx], [c1, fx]] as const) {
          const v = vec[r * cols + cc];
          const w = ry * rx;
          h += w * v.h;
          c += w * v.c;
          s += w * v.s;
        }
      }
      const a = Math.atan2(s, c) / 2;
      const [u, vv] = canonicalSign(h * Math.cos(a), h * Math.sin(a));
      data[2 * (y * W + x)] = Math.round((u / unitPx) * Q);
      data[2 * (y * W + x) + 1] = Math.round((vv / unitPx) * Q);
    }
  }
  const field: MotionField = { width: W, height: H, data, pxPerCount: unitPx / Q, unitPx };
  const stats = motionStats(field);
  return { field, grid: quiverGrid(field, { across: opts.gridAcross }), blurScore: stats.p90, stats, model: 'MAP core', provider: 'cpu', tiles: e.regions.length, seconds: opts.seconds ?? 0 };
}

/** Per position along an axis: the two bracketing region centres and the weight of the second. */
function axisWeights(centres: number[], len: number): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (let p = 0; p < len; p++) out.push(bracket(centres, p + 0.5));
  return out;
}

/** The two region centres around v and v's position between them (clamped at the ends). */
export function bracket(centres: number[], v: number): [number, number, number] {
  if (centres.length === 1 || v <= centres[0]) return [0, 0, 0];
  const last = centres.length - 1;
  if (v >= centres[last]) return [last, last, 0];
  let i = 0;
  while (v > centres[i + 1]) i++;
  return [i, i + 1, (v - centres[i]) / (centres[i + 1] - centres[i])];
}
