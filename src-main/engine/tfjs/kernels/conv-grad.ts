/**
 * Convolution gradients written as forward convolutions (NHWC), which every backend runs fast (XNNPACK on WASM):
 *
 * - filter gradient dW: a convolution of the input with channels and batch swapped (x^T: [Ci, H, W, N]) by the
 *   output gradient used as the filter (dy^T: [Ho, Wo, N, Co]); the forward stride becomes the dilation and the
 *   forward dilation the stride, the forward padding stays; the result [Ci, kh, kw, Co] is transposed to HWIO.
 * - input gradient dX of a stride-1 convolution: a convolution of dy with the flipped, in/out-transposed kernel
 *   (same dilation, padding (k−1)·d − p).
 * - input gradient of a strided convolution (sub-pixel decomposition): output row u = q·s + r of dX only sees the
 *   kernel taps r, r + s, r + 2s, …, so one stride-1 convolution of dy with a kernel of ceil(k/s) taps produces all
 *   s_h·s_w phases as channels; interleaving them (a reshape/transpose, like DepthToSpace) and cropping gives dX.
 *   No work is spent on zeros, unlike convolving a zero-dilated dy.
 *
 * All functions use differentiable tfjs ops only, so they run on any backend.
 */
import * as tf from '@tensorflow/tfjs';
import type { ConvGeometry } from './conv-geometry.ts';

type T4 = tf.Tensor4D;
type Pads4 = [[number, number], [number, number], [number, number], [number, number]];

/** Split requested paddings into a crop of the tensor (negative values) and a non-negative conv padding. */
function cropForNegativePads(x: T4, top: number, bottom: number, left: number, right: number): { x: T4; pads: Pads4 } {
  const [n, h, w, c] = x.shape;
  const ct = Math.max(0, -top);
  const cb = Math.max(0, -bottom);
  const cl = Math.max(0, -left);
  const cr = Math.max(0, -right);
  let out = x;
  if (ct || cb || cl || cr) {
    if (h - ct - cb <= 0 || w - cl - cr <= 0) throw new Error('convolution gradient: empty crop (degenerate geometry)');
    out = tf.slice(x, [0, ct, cl, 0], [n, h - ct - cb, w - cl - cr, c]);
  }
  return { x: out, pads: [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]] };
}

/** [N, Qh, Qw, sh·sw·C] with phase-major channels (phase = rh·sw + rw) → [N, Qh·sh, Qw·sw, C]. */
export function interleavePhases(z: T4, sh: number, sw: number): T4 {
  if (sh === 1 && sw === 1) return z;
  const [n, qh, qw, cc] = z.shape;
  const c = cc / (sh * sw);
  // [N·Qh, Qw, sh, sw·C] → [N·Qh, sh, Qw, sw·C]
  return tf.reshape(tf.transpose(tf.reshape(z, [n * qh, qw, sh, sw * c]), [0, 2, 1, 3]), [n, qh * sh, qw * sw, c]);
}

/** dW of y = conv2d(x, W) (NHWC, W as HWIO with shape filterShape). */
export function conv2dFilterGrad(x: T4, dy: T4, filterShape: readonly number[], g: ConvGeometry): T4 {
  return tf.tidy(() => {
    const [kh, kw] = filterShape;
    const [, h, w] = x.shape;
    const [, ho, wo] = dy.shape;
    const [sh, sw] = g.strides;
    const [dh, dw] = g.dilations;
    const bottom = (kh - 1) * dh + (ho - 1) * sh + 1 - h - g.pads.top;
    const right = (kw - 1) * dw + (wo - 1) * sw + 1 - w - g.pads.left;
    const { x: xc, pads } = cropForNegativePads(x, g.pads.top, bottom, g.pads.left, right);
    const xt = tf.transpose(xc, [3, 1, 2, 0]) as T4; // [Ci, H, W, N]
    const f = tf.transpose(dy, [1, 2, 0, 3]) as T4; // [Ho, Wo, N, Co]
    const out = tf.conv2d(xt, f, [dh, dw], pads, 'NHWC', [sh, sw]); // [Ci, kh, kw, Co]
    return tf.transpose(out, [1, 2, 0, 3]) as T4;
  });
}

/** dX of y = conv2d(x, W) (NHWC, W as HWIO), for x of shape inputShape. */
export function conv2dInputGrad(inputShape: readonly number[], dy: T4, filter: T4, g: ConvGeometry): T4 {
  return tf.tidy(() => {
    const [n, h, w, ci] = inputShape;
    const [kh, kw] = filter.shape;
    const [, ho, wo] = dy.shape;
    const [sh, sw] = g.strides;
    const [dh, dw] = g.dilations;
    if (dh > 1 || dw > 1) {
      if (sh > 1 || sw > 1) throw new Error('conv2d input gradient: strides and dilations both > 1 are not supported');
      // Stride 1: correlate dy with the flipped kernel, in/out channels swapped.
      const flipped = phaseKernel(filter, 1, 1, kh, kw); // flipped, in/out swapped
      const top = (kh - 1) * dh - g.pads.top;
      const left = (kw - 1) * dw - g.pads.left;
      const bottom = h - ho + g.pads.top;
      const right = w - wo + g.pads.left;
      const { x: dyc, pads } = cropForNegativePads(dy, top, bottom, left, right);
      return tf.conv2d(dyc, flipped, 1, pads, 'NHWC', [dh, dw]);
    }
    // Sub-pixel decomposition (also covers stride 1, where it is the flipped-kernel correlation).
    const kch = Math.ceil(kh / sh);
    const kcw = Math.ceil(kw / sw);
    const q0h = Math.floor(g.pads.top / sh);
    const q1h = Math.ceil((g.pads.top + h) / sh);
    const q0w = Math.floor(g.pads.left / sw);
    const q1w = Math.ceil((g.pads.left + w) / sw);
    const top = kch - 1 - q0h;
    const bottom = q1h - q0h - ho - top + kch - 1;
    const left = kcw - 1 - q0w;
    const right = q1w - q0w - wo - left + kcw - 1;
    const kernel = phaseKernel(filter, sh, sw, kch, kcw);
    const { x: dyc, pads } = cropForNegativePads(dy, top, bottom, left, right);
    const z = tf.conv2d(dyc, kernel, 1, pads, 'NHWC'); // [N, q1h−q0h, q1w−q0w, sh·sw·Ci]
    const full = interleavePhases(z, sh, sw);
    const ch = g.pads.top - q0h * sh;
    const cw = g.pads.left - q0w * sw;
    if (ch === 0 && cw === 0 && full.shape[1] === h && full.shape[2] === w) return full;
    return tf.slice(full, [0, ch, cw, 0], [n, h, w, ci]);
  });
}

/**
 * The stride-1 kernel that yields all sub-pixel phases of a strided convolution's input gradient:
 * K'[jh, jw, co, (rh·sw + rw)·Ci + ci] = W[rh + (kch−1−jh)·sh, rw + (kcw−1−jw)·sw, ci, co] (zero outside W).
 */
export function phaseKernel(filter: T4, sh: number, sw: number, kch: number, kcw: number): T4 {
  return tf.tidy(() => {
    const [kh, kw, ci, co] = filter.shape;
    // Taps rearranged by a 0/1 selection matrix: one small matrix product, exact, and much faster on WASM than
    // tf.reverse or tf.gather of the filter. Rows in the order (jh, jw, rh, rw); an all-zero row where the phase's
    // sub-kernel has no tap.
    const rows = kch * kcw * sh * sw;
    const sel = new Float32Array(rows * kh * kw);
    let row = 0;
    for (let jh = 0; jh < kch; jh++) {
      for (let jw = 0; jw < kcw; jw++) {
        for (let rh = 0; rh < sh; rh++) {
          for (let rw = 0; rw < sw; rw++, row++) {
            const i = rh + (kch - 1 - jh) * sh;
            const j = rw + (kcw - 1 - jw) * sw;
            if (i < kh && j < kw) sel[row * kh * kw + i * kw + j] = 1;
          }
        }
      }
    }
    const g = tf.matMul(tf.tensor2d(sel, [rows, kh * kw]), tf.reshape(filter, [kh * kw, ci * co])); // [rows, ci·co]
    // [kch·kcw, sh·sw, ci, co] → [kch·kcw, co, sh·sw, ci]
    const t = tf.transpose(tf.reshape(g, [kch * kcw, sh * sw, ci, co]), [0, 3, 1, 2]);
    return tf.reshape(t, [kch, kcw, co, sh * sw * ci]) as T4;
  });
}

/** dW of y = depthwiseConv2d(x, W) (NHWC, W as [kh, kw, C, M]). */
export function depthwiseFilterGrad(x: T4, dy: T4, filterShape: readonly number[], g: ConvGeometry): T4 {
  return tf.tidy(() => {
    const [kh, kw, c, m] = filterShape;
    const [n, h, w] = x.shape;
    const [, ho, wo] = dy.shape;
    const [sh, sw] = g.strides;
    const [dh, dw] = g.dilations;
    const bottom = (kh - 1) * dh + (ho - 1) * sh + 1 - h - g.pads.top;
    const right = (kw - 1) * dw + (wo - 1) * sw + 1 - w - g.pads.left;
    const { x: xc, pads } = cropForNegativePads(x, g.pads.top, bottom, g.pads.left, right);
    const [, hc, wc] = xc.shape;
    // One depthwise "channel" per (n, c): x' [1, H, W, N·C], filter dy' [Ho, Wo, N·C, M]
    const xt = tf.reshape(tf.transpose(xc, [1, 2, 0, 3]), [1, hc, wc, n * c]) as T4;
    const f = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [ho, wo, n * c, m]) as T4;
    const out = tf.depthwiseConv2d(xt, f, [dh, dw], pads, 'NHWC', [sh, sw]); // [1, kh, kw, N·C·M]
    return tf.sum(tf.reshape(out, [kh, kw, n, c, m]), 2) as T4;
  });
}

/** dX of y = depthwiseConv2d(x, W) (NHWC, W as [kh, kw, C, M]). */
export function depthwiseInputGrad(inputShape: readonly number[], dy: T4, filter: T4, g: ConvGeometry): T4 {
  return tf.tidy(() => {
    const [n, h, w, c] = inputShape;
    const [kh, kw, , m] = filter.shape;
    const [sh, sw] = g.strides;
    const [dh, dw] = g.dilations;
    if ((sh > 1 || sw > 1) && (dh > 1 || dw > 1)) throw new Error('depthwise input gradient: strides and dilations both > 1 are not supported');
    // Zero-insert dy for strides > 1 (each value followed by s−1 zeros), then a stride-1 correlation.
    let dyz: T4 = dy;
    if (sh > 1 || sw > 1) {
      const zeros = tf.zeros([...dy.shape.slice(0, 3), dy.shape[3] * (sh * sw - 1)]);
      dyz = interleavePhases(tf.concat([dy, zeros], 3) as T4, sh, sw);
    }
    const [, hz, wz] = dyz.shape;
    const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, c * m, 1]) as T4;
    const top = (kh - 1) * dh - g.pads.top;
    const left = (kw - 1) * dw - g.pads.left;
    const bottom = h - hz + g.pads.top;
    const right = w - wz + g.pads.left;
    const { x: dyc, pads } = cropForNegativePads(dyz, top, bottom, left, right);
    const out = tf.depthwiseConv2d(dyc, flipped, 1, pads, 'NHWC', [dh, dw]); // [N, H, W, C·M]
    return (m === 1 ? out : tf.sum(tf.reshape(out, [n, h, w, c, m]), 4)) as T4;
  });
}
