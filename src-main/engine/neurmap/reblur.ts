import * as tf from '@tensorflow/tfjs';
import { MOTION_UNIT_PX } from '../synth/motion-vector.ts';
import { stepPosition } from '../synth/offset-field.ts';
import { kernelOp } from '../tfjs/ops/kernel-op.ts';

/** R's sample count: t_k = linspace(+1, −1, 15), 7 on each side plus t = 0 (NEURMAP.md). */
export const REBLUR_STEPS = 15;

/** Mean of |t_k| over R's 15 positions (= 8/15): the sampling offsets are t_k · 20 · m, so TV(offsets) = 20 · this · TV(m). */
export const REBLUR_MEAN_ABS_T = meanAbsT(REBLUR_STEPS);

/**
 * The reblur module R of NEURMAP.md, fixed and differentiable:
 *
 *   R(I, m)(p) = 1/15 · Σ_k  I(p + t_k · 20 · m(p)),   t_k = 1 − 2k/14, k = 0 … 14
 *
 * `image` is [N, C, H, W]; `motion` is [N, 2, H, W] in motion units (channel 0 = u along x, channel 1 = v along y,
 * m = 1 is 20 px each way, MOTION_UNIT_PX). Samples are bilinear at pixel-centre coordinates clamped to
 * [0, W−1] × [0, H−1] (border replicate), the same convention as engine/synth's blurWithOffsets, so R with a
 * ground-truth linear field reproduces the synthetic blur of the same field with 15 steps.
 *
 * Canonical sign: the t_k are symmetric, so R(I, m) = R(I, −m) exactly; R needs no sign convention itself and
 * takes any map. The trainer passes m_rel = canon(m(B)) − canon(m(G(B))), both terms after the canonical sign
 * (v ≥ 0), as the reference implementation does; the motion losses compare maps after that sign too.
 *
 * Gradients reach both inputs: ∂/∂image scatters each output gradient back to the four taps with the bilinear
 * weights; ∂/∂motion is the tap-difference slope along x or y times t_k · 20, and 0 where the sample coordinate
 * was clamped (the clamp's own derivative). R is its own kernel (tfjs/ops/kernel-op.ts; one JavaScript pass rather
 * than gather ops, so no backend needs a scatter kernel and the same code runs on cpu, wasm and native backends; on
 * a GPU backend it costs one download of the inputs per call) with a registered gradient, which tfjs evaluates
 * lazily per input: M's update, where the image is G's detached output, computes only ∂/∂motion, and G's update,
 * where m_rel is held fixed, only ∂/∂image.
 */
export function reblur(image: tf.Tensor4D, motion: tf.Tensor4D): tf.Tensor4D {
  const [n, c, h, w] = image.shape;
  const [mn, mc, mh, mw] = motion.shape;
  if (mn !== n || mc !== 2 || mh !== h || mw !== w) {
    throw new Error(`reblur: motion map is [${motion.shape}], expected [${n}, 2, ${h}, ${w}] for an image of [${image.shape}]`);
  }
  return reblurOp({ image, motion }) as tf.Tensor4D;
}

type Shape4 = [number, number, number, number];
const read = (t: tf.Tensor): Float32Array => t.dataSync() as Float32Array;

const reblurGradient: tf.GradConfig = {
  kernelName: 'NeurmapReblur',
  inputsToSave: ['image', 'motion'],
  gradFunc: (dy, saved) => {
    const [image, motion] = saved;
    const [n, c, h, w] = image.shape as Shape4;
    const backward = (want: { image: boolean; motion: boolean }) => reblurBackward(read(image), read(motion), read(dy as tf.Tensor), n, c, h, w, want);
    return {
      image: () => tf.tensor4d(backward({ image: true, motion: false }).dImage!, [n, c, h, w]),
      motion: () => tf.tensor4d(backward({ image: false, motion: true }).dMotion!, [n, 2, h, w]),
    };
  },
};

const reblurOp = kernelOp(reblurGradient, ({ inputs }) => {
  const image = inputs.image as tf.Tensor;
  const [n, c, h, w] = image.shape as Shape4;
  return tf.tensor4d(reblurForward(read(image), read(inputs.motion as tf.Tensor), n, c, h, w), [n, c, h, w]);
});

const T = Array.from({ length: REBLUR_STEPS }, (_, k) => stepPosition(k, REBLUR_STEPS));

/** R on raw NCHW arrays (image [N,C,H,W], motion [N,2,H,W] in motion units); exported for tests and tools. */
export function reblurForward(img: Float32Array, mot: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const plane = h * w;
  const out = new Float32Array(n * c * plane);
  const inv = 1 / REBLUR_STEPS;
  for (let b = 0; b < n; b++) {
    const mu = b * 2 * plane;
    const mv = mu + plane;
    const ib = b * c * plane;
    for (let y = 0, i = 0; y < h; y++) {
      for (let x = 0; x < w; x++, i++) {
        const u = MOTION_UNIT_PX * mot[mu + i];
        const v = MOTION_UNIT_PX * mot[mv + i];
        for (let k = 0; k < REBLUR_STEPS; k++) {
          const sx = clamp(x + T[k] * u, w - 1);
          const sy = clamp(y + T[k] * v, h - 1);
          const x0 = Math.floor(sx);
          const y0 = Math.floor(sy);
          const x1 = x0 + 1 < w ? x0 + 1 : w - 1;
          const y1 = y0 + 1 < h ? y0 + 1 : h - 1;
          const fx = sx - x0;
          const fy = sy - y0;
          const w00 = (1 - fx) * (1 - fy) * inv;
          const w01 = fx * (1 - fy) * inv;
          const w10 = (1 - fx) * fy * inv;
          const w11 = fx * fy * inv;
          const i00 = y0 * w + x0;
          const i01 = y0 * w + x1;
          const i10 = y1 * w + x0;
          const i11 = y1 * w + x1;
          for (let ch = 0, o = ib; ch < c; ch++, o += plane) {
            out[o + i] += w00 * img[o + i00] + w01 * img[o + i01] + w10 * img[o + i10] + w11 * img[o + i11];
          }
        }
      }
    }
  }
  return out;
}

/** The vector–Jacobian product of R: given ∂L/∂R(I, m), returns ∂L/∂I and ∂L/∂m (each only if wanted). */
export function reblurBackward(
  img: Float32Array,
  mot: Float32Array,
  dy: Float32Array,
  n: number,
  c: number,
  h: number,
  w: number,
  want: { image: boolean; motion: boolean } = { image: true, motion: true },
): { dImage?: Float32Array; dMotion?: Float32Array } {
  const plane = h * w;
  const wantImage = want.image;
  const wantMotion = want.motion;
  const dImage = new Float32Array(wantImage ? n * c * plane : 0);
  const dMotion = new Float32Array(wantMotion ? n * 2 * plane : 0);
  const inv = 1 / REBLUR_STEPS;
  for (let b = 0; b < n; b++) {
    const mu = b * 2 * plane;
    const mv = mu + plane;
    const ib = b * c * plane;
    for (let y = 0, i = 0; y < h; y++) {
      for (let x = 0; x < w; x++, i++) {
        const u = MOTION_UNIT_PX * mot[mu + i];
        const v = MOTION_UNIT_PX * mot[mv + i];
        let gu = 0;
        let gv = 0;
        for (let k = 0; k < REBLUR_STEPS; k++) {
          const t = T[k];
          const rx = x + t * u;
          const ry = y + t * v;
          const sx = clamp(rx, w - 1);
          const sy = clamp(ry, h - 1);
          const x0 = Math.floor(sx);
          const y0 = Math.floor(sy);
          const x1 = x0 + 1 < w ? x0 + 1 : w - 1;
          const y1 = y0 + 1 < h ? y0 + 1 : h - 1;
          const fx = sx - x0;
          const fy = sy - y0;
          const i00 = y0 * w + x0;
          const i01 = y0 * w + x1;
          const i10 = y1 * w + x0;
          const i11 = y1 * w + x1;
          const w00 = (1 - fx) * (1 - fy);
          const w01 = fx * (1 - fy);
          const w10 = (1 - fx) * fy;
          const w11 = fx * fy;
          // ∂sample/∂sx and ∂sample/∂sy, accumulated over channels against the upstream gradient.
          let dsx = 0;
          let dsy = 0;
          for (let ch = 0, o = ib; ch < c; ch++, o += plane) {
            const g = dy[o + i] * inv;
            if (g === 0) continue;
            if (wantImage) {
              dImage[o + i00] += w00 * g;
              dImage[o + i01] += w01 * g;
              dImage[o + i10] += w10 * g;
              dImage[o + i11] += w11 * g;
            }
            if (wantMotion) {
              const v00 = img[o + i00];
              const v01 = img[o + i01];
              const v10 = img[o + i10];
              const v11 = img[o + i11];
              dsx += g * ((1 - fy) * (v01 - v00) + fy * (v11 - v10));
              dsy += g * ((1 - fx) * (v10 - v00) + fx * (v11 - v01));
            }
          }
          // The clamp passes the gradient only where the raw coordinate was inside the image.
          if (rx >= 0 && rx <= w - 1) gu += dsx * t;
          if (ry >= 0 && ry <= h - 1) gv += dsy * t;
        }
        if (wantMotion) {
          dMotion[mu + i] = gu * MOTION_UNIT_PX;
          dMotion[mv + i] = gv * MOTION_UNIT_PX;
        }
      }
    }
  }
  return { dImage, dMotion };
}

function clamp(v: number, hi: number): number {
  return v < 0 ? 0 : v > hi ? hi : v;
}

function meanAbsT(steps: number): number {
  let s = 0;
  for (let k = 0; k < steps; k++) s += Math.abs(stepPosition(k, steps));
  return s / steps;
}
