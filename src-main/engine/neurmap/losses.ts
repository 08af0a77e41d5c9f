import * as tf from '@tensorflow/tfjs';
import { REBLUR_MEAN_ABS_T } from './reblur.ts';
import { MOTION_UNIT_PX } from '../synth/motion-vector.ts';
import { motionMagnitude } from './tensor-ops.ts';

/**
 * Every loss of NEURMAP.md. All take NCHW tensors and return a scalar that is a mean over the batch (so a batch
 * split into equal shards has the mean of the shards' losses, and the mean of their gradients: what the
 * data-parallel trainer relies on). Motion maps are [N, 2, H, W] and are expected AFTER the canonical sign
 * (tensor-ops.ts canonicalMotion); |m| below is the element-wise absolute value of such a map and ‖m‖ its
 * per-pixel Euclidean length, as in the reference implementation.
 *
 * The reference weights live in config.ts (DEFAULT_WEIGHTS); they are repeated here for the reader:
 *   M step: 0.002 sharpZero, 0.001 blurryUpper, 0.001 deblurredTowardBlurry, 1 magnitudeOrder,
 *           1 reblur MSE + 0.1 (1 − MS-SSIM), 0.002 offsetTv
 *   G step: 100 content (L1), 100 [reblur MSE + 0.1 (1 − MS-SSIM)], 0.5 sharpPrior, 1 naturalPrior, 0 motionTv, 0 imageTv
 *   D step: LSGAN, real → 1, fake → 0
 */

export function l1(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(a, b))) as tf.Scalar);
}

export function mse(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(a, b)) as tf.Scalar);
}

/** Anisotropic total variation, L1: mean |x(p + e_x) − x(p)| + mean |x(p + e_y) − x(p)| over an NCHW tensor. */
export function totalVariation(x: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const [, , h, w] = x.shape;
    let tv: tf.Tensor = tf.scalar(0);
    if (w > 1) tv = tf.add(tv, tf.mean(tf.abs(tf.sub(tf.slice(x, [0, 0, 0, 1], [-1, -1, -1, w - 1]), tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, w - 1])))));
    if (h > 1) tv = tf.add(tv, tf.mean(tf.abs(tf.sub(tf.slice(x, [0, 0, 1, 0], [-1, -1, h - 1, -1]), tf.slice(x, [0, 0, 0, 0], [-1, -1, h - 1, -1])))));
    return tv as tf.Scalar;
  });
}

/** LSGAN (least squares GAN): mean (D(x) − target)², target 1 for "natural"/real, 0 for generated. */
export function lsgan(prediction: tf.Tensor, real: boolean): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(real ? tf.sub(prediction, 1) : prediction)) as tf.Scalar);
}

// ---------------------------------------------------------------------------------------------------------------
// MS-SSIM

/** The five scale weights of Wang et al. 2003 (as in pytorch_msssim and the reference). */
export const MS_SSIM_WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333] as const;
const SSIM_WINDOW = 11;
const SSIM_SIGMA = 1.5;
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

/**
 * How many MS-SSIM scales an H×W crop allows: the most (≤ 5) for which the coarsest level, after halving
 * (scales − 1) times, is still at least as large as the 11-px Gaussian window. 256 px → 5, 128 → 4, 32 → 2, 16 → 1.
 */
export function msSsimScales(height: number, width: number): number {
  let scales = 1;
  while (scales < MS_SSIM_WEIGHTS.length && Math.floor(Math.min(height, width) / 2 ** scales) >= SSIM_WINDOW) scales++;
  return scales;
}

/**
 * Multi-scale SSIM (Wang, Simoncelli, Bovik 2003) of images in [0, 1], per image and channel, averaged.
 * Gaussian window 11 px, σ 1.5, valid positions only, K1 = 0.01, K2 = 0.03, 2×2 average pooling between scales.
 * Small crops: only `msSsimScales(H, W)` scales are used (see there) and their weights, the first of the five
 * standard ones, are renormalised to sum to 1 (so 1 − MS-SSIM keeps the same range whatever the crop);
 * with one scale this is plain SSIM. Below 11 px the window shrinks to the largest odd size that fits.
 * As in pytorch_msssim, the contrast–structure terms and the last SSIM are clamped at 0 (here at 1e-6 so the
 * fractional powers keep a finite gradient) before the weighted product.
 */
export function msSsim(a: tf.Tensor4D, b: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(msSsimPerImage(a, b)) as tf.Scalar);
}

/** MS-SSIM of each image of the batch (mean over channels): [N]. */
export function msSsimPerImage(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => {
    const [n, c, h, w] = a.shape;
    if (b.shape.join() !== a.shape.join()) throw new Error(`msSsim: shapes differ, [${a.shape}] vs [${b.shape}]`);
    const scales = msSsimScales(h, w);
    const weights = MS_SSIM_WEIGHTS.slice(0, scales);
    const total = weights.reduce((s, v) => s + v, 0);
    // Channels become batch entries of a 1-channel NHWC tensor: the same window on each channel.
    let x = tf.reshape(a, [n * c, h, w, 1]) as tf.Tensor4D;
    let y = tf.reshape(b, [n * c, h, w, 1]) as tf.Tensor4D;
    let acc: tf.Tensor = tf.ones([n * c]);
    for (let s = 0; s < scales; s++) {
      const { ssim, cs } = ssimLevel(x, y);
      const last = s === scales - 1;
      acc = tf.mul(acc, tf.pow(tf.maximum(last ? ssim : cs, 1e-6), weights[s] / total));
      if (!last) {
        x = tf.avgPool(x, 2, 2, 'valid');
        y = tf.avgPool(y, 2, 2, 'valid');
      }
    }
    return tf.mean(tf.reshape(acc, [n, c]), 1) as tf.Tensor1D;
  });
}

/** Mean SSIM and mean contrast–structure of each entry of [M, H, W, 1] tensors: two [M] tensors. */
function ssimLevel(x: tf.Tensor4D, y: tf.Tensor4D): { ssim: tf.Tensor1D; cs: tf.Tensor1D } {
  const [m, h, w] = x.shape;
  const size = Math.min(SSIM_WINDOW, oddAtMost(Math.min(h, w)));
  // The separable window as two matrix products with banded Gaussian matrices, along rows, then (after a
  // transpose) along columns: on WASM these run an order of magnitude faster than 1-channel convolutions, though
  // they multiply the band's zeros. The moments come out transposed ([M, W', H']); the means below do not mind.
  const [ho, wo] = [h - size + 1, w - size + 1];
  const alongRows = gaussianBand(w, size); // [W, W']
  const alongColumns = gaussianBand(h, size); // [H, H']
  const blur = (t: tf.Tensor) => {
    const rows = tf.reshape(tf.matMul(tf.reshape(t, [m * h, w]), alongRows), [m, h, wo]);
    return tf.reshape(tf.matMul(tf.reshape(tf.transpose(rows, [0, 2, 1]), [m * wo, h]), alongColumns), [m, wo, ho]);
  };
  const muX = blur(x);
  const muY = blur(y);
  const eXX = blur(tf.square(x));
  const eYY = blur(tf.square(y));
  const eXY = blur(tf.mul(x, y));
  const muXX = tf.square(muX);
  const muYY = tf.square(muY);
  const muXY = tf.mul(muX, muY);
  const sXX = tf.sub(eXX, muXX);
  const sYY = tf.sub(eYY, muYY);
  const sXY = tf.sub(eXY, muXY);
  const csMap = tf.div(tf.add(tf.mul(2, sXY), C2), tf.add(tf.add(sXX, sYY), C2));
  const ssimMap = tf.mul(tf.div(tf.add(tf.mul(2, muXY), C1), tf.add(tf.add(muXX, muYY), C1)), csMap);
  return { ssim: tf.mean(ssimMap, [1, 2]) as tf.Tensor1D, cs: tf.mean(csMap, [1, 2]) as tf.Tensor1D };
}

/** The Gaussian window (σ 1.5) as an [n, n − size + 1] matrix: column j holds the window over inputs j … j + size − 1. */
function gaussianBand(n: number, size: number): tf.Tensor2D {
  const r = (size - 1) / 2;
  const g = Array.from({ length: size }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * SSIM_SIGMA ** 2)));
  const s = g.reduce((a, v) => a + v, 0);
  const out = n - size + 1;
  const band = new Float32Array(n * out);
  for (let j = 0; j < out; j++) for (let i = 0; i < size; i++) band[(j + i) * out + j] = g[i] / s;
  return tf.tensor2d(band, [n, out]);
}

function oddAtMost(v: number): number {
  return Math.max(1, v % 2 === 1 ? v : v - 1);
}

/** The reblur data term of both steps: MSE + 0.1 · (1 − MS-SSIM) (the inner weight is configurable). */
export function reblurDataTerms(reblurred: tf.Tensor4D, blurry: tf.Tensor4D): { mse: tf.Scalar; msSsimLoss: tf.Scalar } {
  return { mse: mse(reblurred, blurry), msSsimLoss: tf.tidy(() => tf.sub(1, msSsim(reblurred, blurry)) as tf.Scalar) };
}

// ---------------------------------------------------------------------------------------------------------------
// Motion losses (maps after the canonical sign)

/** Sharp motion to zero: L1(m(S), 0). */
export function sharpMotionToZero(mSharp: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(mSharp)) as tf.Scalar);
}

/** Blurry motion to its upper limit: L1(|m(B)|, 1), element-wise. */
export function blurryMotionToUpperLimit(mBlurry: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(tf.abs(mBlurry), 1))) as tf.Scalar);
}

/** Deblurred motion toward the (already stop-gradient) blurry motion: L1(m(G(B)), target). */
export function deblurredTowardBlurry(mDeblurred: tf.Tensor4D, blurryTarget: tf.Tensor4D): tf.Scalar {
  return l1(mDeblurred, blurryTarget);
}

/** The deblurred image's motion must not exceed the blurry one's: mean relu(‖m(G(B))‖ − ‖m(B)‖). */
export function magnitudeOrder(mDeblurred: tf.Tensor4D, mBlurry: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.relu(tf.sub(motionMagnitude(mDeblurred), motionMagnitude(mBlurry)))) as tf.Scalar);
}

/**
 * TV of R's sampling offsets for a motion map m: the offsets are t_k · 20 · m(p) in pixels for R's 15 t_k, so
 * their L1 total variation over (k, channel, H, W) is exactly 20 · mean|t_k| · TV(m) = 20 · 8/15 · TV(m);
 * computed that way, without materialising the 15 offset maps.
 */
export function offsetTotalVariation(mRel: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mul(totalVariation(mRel), MOTION_UNIT_PX * REBLUR_MEAN_ABS_T) as tf.Scalar);
}

/**
 * Sharp-image prior on G: mean((|m(G(B))| − μ)²), μ the per-channel mean of |m(S)| over the pool of recent sharp
 * maps ([2] values, u and v): the deblurred image should look to M as motion-free as real sharp photos do.
 */
export function sharpImagePrior(mDeblurred: tf.Tensor4D, poolMean: readonly [number, number]): tf.Scalar {
  return tf.tidy(() => {
    const mu = tf.tensor4d([poolMean[0], poolMean[1]], [1, 2, 1, 1]);
    return tf.mean(tf.square(tf.sub(tf.abs(mDeblurred), mu))) as tf.Scalar;
  });
}

/** Per-image, per-channel mean |m| of canonical sharp maps: the pool's entries ([N] × [u, v]). */
export function sharpMapMeans(mSharp: tf.Tensor4D): Array<[number, number]> {
  const means = tf.tidy(() => tf.mean(tf.abs(mSharp), [2, 3]));
  const d = means.dataSync();
  means.dispose();
  const out: Array<[number, number]> = [];
  for (let i = 0; i < d.length; i += 2) out.push([d[i], d[i + 1]]);
  return out;
}

/**
 * The pool of recent sharp motion maps (the reference keeps the last 50 maps). Only each map's per-channel
 * mean |m| matters to the prior (all maps have the crop's size, so the pool's mean over all pixels is the mean
 * of the maps' means), so that is what is kept: first in, first out, serialisable for checkpoints.
 */
export class SharpMotionPool {
  private entries: Array<[number, number]>;

  constructor(
    readonly capacity = 50,
    entries: ReadonlyArray<readonly [number, number]> = [],
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`sharp-map pool capacity must be a positive integer, got ${capacity}`);
    this.entries = entries.slice(-capacity).map(([u, v]) => [u, v]);
  }

  push(means: ReadonlyArray<readonly [number, number]>): void {
    for (const [u, v] of means) this.entries.push([u, v]);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Mean |m(S)| per channel over the pool; [0, 0] while empty. */
  mean(): [number, number] {
    if (this.entries.length === 0) return [0, 0];
    let u = 0;
    let v = 0;
    for (const e of this.entries) {
      u += e[0];
      v += e[1];
    }
    return [u / this.entries.length, v / this.entries.length];
  }

  toJSON(): { capacity: number; entries: Array<[number, number]> } {
    return { capacity: this.capacity, entries: this.entries.map(([u, v]) => [u, v]) };
  }

  static fromJSON(j: { capacity: number; entries: Array<[number, number]> }): SharpMotionPool {
    return new SharpMotionPool(j.capacity, j.entries);
  }
}
