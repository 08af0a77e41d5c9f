/**
 * A photo's blur estimate as a smaller copy of the photo sees it (the editor's display-sized preview): kernels and
 * regions scaled down with the photo, the guard's confidences kept, so a preview deconvolved with it is the full
 * result as the screen shows it, made in a fraction of the time.
 */
import type { BlurEstimate } from './blur-estimate.ts';
import { shrinkKernel } from './kernel.ts';

/** Quantisation noise of 8-bit values (1/255/√12), which a preview copy adds. */
const EIGHT_BIT_NOISE = 1 / 255 / Math.sqrt(12);

export function scaleEstimate(e: BlurEstimate, width: number, height: number): BlurEstimate {
  const sx = width / e.width;
  const sy = height / e.height;
  // averaging f×f pixels into one leaves 1/f of the noise; the copy's 8 bits add their own
  const noise = Math.hypot(e.noise * Math.max(sx, sy), EIGHT_BIT_NOISE);
  return {
    ...e,
    width,
    height,
    noise,
    downscale: e.downscale * Math.max(sx, sy),
    regions: e.regions.map((r) => ({
      ...r,
      x0: Math.round(r.x0 * sx),
      y0: Math.round(r.y0 * sy),
      x1: Math.min(width, Math.round(r.x1 * sx)),
      y1: Math.min(height, Math.round(r.y1 * sy)),
      kernel: shrinkKernel(r.kernel, 1 / Math.max(sx, sy)),
    })),
  };
}
