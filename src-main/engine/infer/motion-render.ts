/**
 * Pictures of a motion field: the magnitude heat map with a perceptual colour map, the quiver overlay (SVG, or
 * drawn over the photo), and PNG bytes of a raster. The field itself comes from motion.ts.
 */
import sharp from 'sharp';
import type { Raster } from '../image/raster.ts';
import { createRaster } from '../image/raster.ts';
import { motionStats, type MotionField, type MotionStats, type QuiverGrid } from './motion.ts';

// ---- heat map ----------------------------------------------------------------------------------------------

export type ColormapName = 'inferno' | 'viridis';

/** Ten evenly spaced stops of matplotlib's perceptually uniform maps (interpolated linearly in between). */
const COLORMAPS: Record<ColormapName, string[]> = {
  inferno: ['#000004', '#1b0c41', '#4a0c6b', '#781c6d', '#a52c60', '#cf4446', '#ed6925', '#fb9b06', '#f7d13d', '#fcffa4'],
  viridis: ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'],
};

/** The colour map's stops (for the UI's legend: stop i is at i/(n−1) × maxPx). */
export function colormapStops(name: ColormapName = 'inferno'): string[] {
  return [...COLORMAPS[name]];
}

/** 256 × RGB lookup table. */
export function colormapLut(name: ColormapName = 'inferno'): Uint8Array {
  const stops = COLORMAPS[name].map((h) => [1, 3, 5].map((o) => parseInt(h.slice(o, o + 2), 16)));
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (stops.length - 1);
    const a = Math.min(stops.length - 2, Math.floor(t));
    const f = t - a;
    for (let c = 0; c < 3; c++) lut[3 * i + c] = Math.round(stops[a][c] * (1 - f) + stops[a + 1][c] * f);
  }
  return lut;
}

export interface HeatMap {
  /** 8-bit RGB image of the magnitude. */
  raster: Raster;
  /** Magnitude (px) at the top of the colour scale; 0 is the bottom. */
  maxPx: number;
  colormap: ColormapName;
  /** Image px per heat-map px (1 = full resolution). */
  factor: number;
}

export interface HeatMapOptions {
  /** Top of the colour scale in px. Default: the 99th percentile of the magnitude rounded up to 1 px, at least 4 px. */
  maxPx?: number;
  /** Longest side of the heat map; the field is box-averaged by an integer factor to fit. Default: full size. */
  maxSide?: number;
  colormap?: ColormapName;
  /** The field's statistics when already known (MotionResult.stats), to skip a pass for the default scale. */
  stats?: MotionStats;
}

/** Colour the motion magnitude with a perceptual colour map. */
export function heatMap(f: MotionField, opts: HeatMapOptions = {}): HeatMap {
  const colormap = opts.colormap ?? 'inferno';
  const maxPx = opts.maxPx ?? Math.max(4, Math.ceil((opts.stats ?? motionStats(f)).p99));
  const factor = opts.maxSide ? Math.max(1, Math.ceil(Math.max(f.width, f.height) / opts.maxSide)) : 1;
  const ow = Math.ceil(f.width / factor);
  const oh = Math.ceil(f.height / factor);
  const sums = new Float64Array(ow * oh);
  const k = f.pxPerCount;
  for (let y = 0; y < f.height; y++) {
    const orow = Math.floor(y / factor) * ow;
    let i = 2 * y * f.width;
    for (let x = 0; x < f.width; x++, i += 2) {
      const u = f.data[i];
      const v = f.data[i + 1];
      sums[orow + Math.floor(x / factor)] += Math.sqrt(u * u + v * v) * k;
    }
  }
  const lut = colormapLut(colormap);
  const raster = createRaster(ow, oh, 8);
  const scale = 255 / maxPx;
  for (let oy = 0; oy < oh; oy++) {
    const bh = Math.min(factor, f.height - oy * factor);
    for (let ox = 0; ox < ow; ox++) {
      const bw = Math.min(factor, f.width - ox * factor);
      const m = sums[oy * ow + ox] / (bw * bh);
      const li = Math.min(255, Math.max(0, Math.round(m * scale))) * 3;
      const d = (oy * ow + ox) * 3;
      raster.rgb[d] = lut[li];
      raster.rgb[d + 1] = lut[li + 1];
      raster.rgb[d + 2] = lut[li + 2];
    }
  }
  return { raster, maxPx, colormap, factor };
}

/** PNG bytes of an 8- or 16-bit RGB raster (heat maps, overlays). */
export async function rasterToPng(r: Raster): Promise<Buffer> {
  const src = r.depth === 8 ? r.rgb : to8bit(r.rgb as Uint16Array);
  return sharp(src, { raw: { width: r.width, height: r.height, channels: 3 } }).png().toBuffer();
}

function to8bit(a: Uint16Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] + 128) / 257;
  return out;
}

// ---- quiver overlay ----------------------------------------------------------------------------------------

export interface QuiverOverlayOptions {
  /** Arrow colour (default cyan), drawn over a dark outline. */
  color?: string;
  /**
   * Drawn length per px of motion. Default: true length (the segment is the blur streak, 2·|m| long), shrunk
   * when the longest arrow would not fit its cell.
   */
  scale?: number;
  /** Stroke width in display px (default: scaled with the image, ≥ 1.5). */
  lineWidth?: number;
  /** Cells whose coherent motion is below this (px) get a dot instead of an arrow (default 0.5). */
  minPx?: number;
}

/** The SVG (same size as the display image) of the quiver grid, arrows as double-headed blur axes. */
export function quiverSvg(displayWidth: number, displayHeight: number, grid: QuiverGrid, opts: QuiverOverlayOptions = {}): string {
  const kx = displayWidth / grid.width;
  const ky = displayHeight / grid.height;
  const kd = Math.min(kx, ky);
  const cellPx = grid.step * kd;
  let lmax = 0;
  for (const c of grid.cells) lmax = Math.max(lmax, Math.hypot(c.u, c.v));
  const fit = lmax > 0 ? (0.45 * grid.step) / lmax : 1;
  const scale = opts.scale ?? Math.min(1, fit);
  const lw = opts.lineWidth ?? Math.max(1, Math.min(displayWidth, displayHeight, cellPx * 8) / 500);
  const minPx = opts.minPx ?? 0.5;
  const color = opts.color ?? '#00e5ff';
  const f = (v: number) => (Math.round(v * 10) / 10).toString();
  const paths: string[] = [];
  const dots: string[] = [];
  for (const c of grid.cells) {
    const cx = c.x * kx;
    const cy = c.y * ky;
    const len = Math.hypot(c.u, c.v);
    if (len < minPx) {
      dots.push(`M${f(cx)} ${f(cy)}h0`);
      continue;
    }
    const dx = c.u * scale * kd;
    const dy = c.v * scale * kd;
    const L = Math.hypot(dx, dy);
    const head = Math.min(0.3 * L, 0.12 * cellPx) + 0.5 * lw;
    const ux = dx / L;
    const uy = dy / L;
    let d = `M${f(cx - dx)} ${f(cy - dy)}L${f(cx + dx)} ${f(cy + dy)}`;
    if (L < 2.5 * lw) {
      paths.push(d);
      continue;
    }
    for (const s of [1, -1]) {
      const tx = cx + s * dx;
      const ty = cy + s * dy;
      const bx = -s * ux * head;
      const by = -s * uy * head;
      const ca = Math.cos(0.5);
      const sa = Math.sin(0.5);
      d += `M${f(tx + bx * ca - by * sa)} ${f(ty + bx * sa + by * ca)}L${f(tx)} ${f(ty)}L${f(tx + bx * ca + by * sa)} ${f(ty - bx * sa + by * ca)}`;
    }
    paths.push(d);
  }
  const all = paths.join('');
  const dotPath = dots.join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${displayWidth}" height="${displayHeight}" viewBox="0 0 ${displayWidth} ${displayHeight}">`
    + `<g fill="none" stroke-linecap="round" stroke-linejoin="round">`
    + `<path d="${all}${dotPath}" stroke="#000" stroke-opacity="0.55" stroke-width="${f(lw * 1.9)}"/>`
    + `<path d="${all}" stroke="${color}" stroke-width="${f(lw)}"/>`
    + `<path d="${dotPath}" stroke="${color}" stroke-width="${f(lw * 1.6)}"/>`
    + `</g></svg>`;
}

/** The photo (any depth; shown at 8 bits) with the quiver grid drawn over it, as an 8-bit RGB raster. */
export async function renderQuiverOverlay(raster: Raster, grid: QuiverGrid, opts: QuiverOverlayOptions = {}): Promise<Raster> {
  const { width, height } = raster;
  const base = raster.depth === 8 ? raster.rgb : to8bit(raster.rgb as Uint16Array);
  const svg = quiverSvg(width, height, grid, opts);
  const { data, info } = await sharp(base, { raw: { width, height, channels: 3 }, limitInputPixels: false })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 3) {
    throw new Error(`quiver overlay: unexpected ${info.width}×${info.height}×${info.channels} result`);
  }
  const out = createRaster(width, height, 8);
  out.rgb.set(data);
  return out;
}
