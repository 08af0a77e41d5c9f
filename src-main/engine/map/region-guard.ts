/**
 * The reliability guard's measures: is a region's blur worth undoing, and is its kernel believable? Each returns
 * a factor in [0, 1] and a reason a person can read; the region's confidence is their product.
 */
import { kernelRadius, type Kernel } from './kernel.ts';
import type { Plane } from './plane.ts';

export interface Verdict {
  factor: number;
  reason: string | null;
}

/** A kernel of at most `sharpRadius` px leaves nothing to undo: the region is already sharp. */
export function blurPresent(kFullRes: Kernel, sharpRadius = 1): Verdict {
  const r = kernelRadius(kFullRes);
  if (r <= sharpRadius) return { factor: 0, reason: 'sharp' };
  if (r <= sharpRadius + 1) return { factor: 0.5, reason: null };
  return { factor: 1, reason: null };
}

/**
 * Motion kernels are thin paths: their effective area (1/Σk²) grows with their length, not its square. A diffuse
 * blob is what estimation returns when it failed (noise, no structure, defocus).
 */
export function kernelPlausible(k: Kernel): Verdict {
  let sq = 0;
  for (const v of k.data) sq += v * v;
  const area = 1 / Math.max(sq, 1e-12);
  const length = 2 * kernelRadius(k) + 1;
  const ratio = area / length;
  if (ratio <= 3) return { factor: 1, reason: null };
  if (ratio >= 6) return { factor: 0, reason: 'diffuse kernel' };
  return { factor: (6 - ratio) / 3, reason: ratio > 4.5 ? 'diffuse kernel' : null };
}

/**
 * Edges in several directions pin a kernel down; a region of sky or of parallel lines does not. Measured by the
 * structure tensor of strong gradients: their share of the region and the ratio of its eigenvalues.
 */
export function structure(p: Plane, x0: number, y0: number, x1: number, y1: number): Verdict {
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  let strong = 0;
  let total = 0;
  const { width: w, data } = p;
  for (let y = y0; y < y1 - 1; y++) {
    for (let x = x0; x < x1 - 1; x++) {
      const gx = data[y * w + x + 1] - data[y * w + x];
      const gy = data[(y + 1) * w + x] - data[y * w + x];
      total++;
      if (gx * gx + gy * gy < 4e-4) continue; // |∇| < 0.02: flat or noise
      strong++;
      sxx += gx * gx;
      syy += gy * gy;
      sxy += gx * gy;
    }
  }
  if (strong < Math.max(50, 0.01 * total)) return { factor: 0, reason: 'no structure' };
  const tr = sxx + syy;
  const det = sxx * syy - sxy * sxy;
  const disc = Math.sqrt(Math.max(0, tr * tr / 4 - det));
  const ratio = (tr / 2 - disc) / Math.max(tr / 2 + disc, 1e-12);
  if (ratio < 0.05) return { factor: 0, reason: 'edges in one direction only' };
  return { factor: Math.min(1, ratio / 0.15), reason: null };
}
