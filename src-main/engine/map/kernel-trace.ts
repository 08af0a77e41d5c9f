/**
 * The "blur trace" the motion view shows (as Photoshop's Shake Reduction does): each region's kernel, all at one
 * scale so their lengths compare, laid out like the regions on the photo. Bright = where the light went; regions the
 * guard does not trust are drawn in amber.
 */
import { createRaster, type Raster } from '../image/raster.ts';
import type { BlurEstimate } from './blur-estimate.ts';

const CELL = 96;
const GAP = 4;

export function renderKernelTrace(e: BlurEstimate): Raster {
  const { cols, rows } = e;
  const W = cols * CELL + (cols + 1) * GAP;
  const H = rows * CELL + (rows + 1) * GAP;
  const out = createRaster(W, H, 8);
  out.rgb.fill(24);
  const largest = Math.max(...e.regions.map((r) => r.kernel.size));
  const scale = Math.max(1, Math.floor((CELL - 8) / largest));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const reg = e.regions[r * cols + c];
      const k = reg.kernel;
      let max = 0;
      for (const v of k.data) max = Math.max(max, v);
      const trusted = reg.confidence >= 0.5;
      const ox = GAP + c * (CELL + GAP) + Math.floor((CELL - k.size * scale) / 2);
      const oy = GAP + r * (CELL + GAP) + Math.floor((CELL - k.size * scale) / 2);
      const cx0 = GAP + c * (CELL + GAP);
      const cy0 = GAP + r * (CELL + GAP);
      for (let y = cy0; y < cy0 + CELL; y++) for (let x = cx0; x < cx0 + CELL; x++) out.rgb.fill(40, 3 * (y * W + x), 3 * (y * W + x) + 3);
      for (let y = 0; y < k.size * scale; y++) {
        for (let x = 0; x < k.size * scale; x++) {
          const v = max > 0 ? Math.sqrt(k.data[Math.floor(y / scale) * k.size + Math.floor(x / scale)] / max) : 0;
          if (v <= 0) continue;
          const i = 3 * ((oy + y) * W + ox + x);
          out.rgb[i] = Math.round(40 + v * 215);
          out.rgb[i + 1] = Math.round(40 + v * (trusted ? 215 : 140));
          out.rgb[i + 2] = Math.round(40 + v * (trusted ? 215 : 20));
        }
      }
    }
  }
  return out;
}
