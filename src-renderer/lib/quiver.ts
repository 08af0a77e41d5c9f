/** Geometry of the motion view, in image pixels (pure functions, unit-tested). */
import type { QuiverGrid } from '../../src-shared/contract/types.ts';

export interface Arrow {
  /** Tail and head of the shaft, in image pixels. */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** Arrowhead triangle "x,y x,y x,y" in image pixels. */
  head: string;
  length: number;
}

/** Every how many cells to draw an arrow so that arrows are at least `minSpacingPx` screen pixels apart. */
export function quiverStride(step: number, zoom: number, minSpacingPx = 14): number {
  return Math.max(1, Math.ceil(minSpacingPx / Math.max(1e-6, step * zoom)));
}

/**
 * Arrows centred on each grid cell, `scale` × the motion (u, v) long, so that at scale 1 an arrow is as long
 * as the blur streak in the photo. Vectors shorter than `minLength` px are left out (no clutter on sharp areas).
 */
export function quiverArrows(grid: QuiverGrid, scale = 1, headPx = 4, minLength = 0.25, stride = 1): Arrow[] {
  const out: Arrow[] = [];
  const k = Math.max(1, Math.floor(stride));
  for (let i = 0; i < grid.vectors.length; i++) {
    // Cells are row-major; at low zoom only every k-th cell in each direction is drawn, so arrows stay legible.
    if (k > 1 && ((i % grid.cols) % k !== 0 || Math.floor(i / grid.cols) % k !== 0)) continue;
    const [x, y, u, v] = grid.vectors[i];
    const du = u * scale;
    const dv = v * scale;
    const length = Math.hypot(du, dv);
    if (!(length >= minLength)) continue;
    const x1 = x - du / 2;
    const y1 = y - dv / 2;
    const x2 = x + du / 2;
    const y2 = y + dv / 2;
    const h = Math.min(headPx, length * 0.45);
    const ux = du / length;
    const uy = dv / length;
    const bx = x2 - ux * h;
    const by = y2 - uy * h;
    const w = h * 0.55;
    const head = `${r(x2)},${r(y2)} ${r(bx - uy * w)},${r(by + ux * w)} ${r(bx + uy * w)},${r(by - ux * w)}`;
    out.push({ x1: r(x1), y1: r(y1), x2: r(bx), y2: r(by), head, length });
  }
  return out;
}

function r(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * Colour stops of the heat map's scale (low → high): the engine's default 'inferno' map
 * (engine/infer/motion-render.ts colormapStops; tests/app/renderer-lib.test.ts keeps the two equal).
 */
export const HEAT_STOPS = ['#000004', '#1b0c41', '#4a0c6b', '#781c6d', '#a52c60', '#cf4446', '#ed6925', '#fb9b06', '#f7d13d', '#fcffa4'];

/** Tick values for a colour scale from 0 to max px. */
export function scaleTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / (count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = 0; t <= max + 1e-9; t += step) ticks.push(Math.round(t * 1000) / 1000);
  return ticks;
}
