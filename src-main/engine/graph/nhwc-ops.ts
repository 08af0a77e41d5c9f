/**
 * The supported ONNX operators as differentiable tfjs ops on NHWC activations (the interpreter transposes NCHW once
 * at the input and once at the output). ONNX attribute semantics are kept; layouts are the only difference.
 */
import * as tf from '@tensorflow/tfjs';
import { convLayer, type ConvActivation, type ExplicitPad } from '../tfjs/ops/conv-layer.ts';
import { instanceNormNhwc } from '../tfjs/ops/instance-norm.ts';

type T4 = tf.Tensor4D;

/** ONNX Conv geometry for 2-D inputs. `pads` is ONNX order [top, left, bottom, right]. */
export interface ConvSpec {
  strides: [number, number];
  dilations: [number, number];
  pads: [number, number, number, number];
  autoPad: 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
  kernel: [number, number];
}

/** Explicit padding [top, bottom, left, right] for an input of size h×w. */
export function resolvePads(spec: ConvSpec, h: number, w: number): [number, number, number, number] {
  const [kh, kw] = spec.kernel;
  const [sh, sw] = spec.strides;
  const [dh, dw] = spec.dilations;
  switch (spec.autoPad) {
    case 'VALID':
      return [0, 0, 0, 0];
    case 'SAME_UPPER':
    case 'SAME_LOWER': {
      const total = (size: number, k: number, s: number, d: number) => Math.max(0, (Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size);
      const th = total(h, kh, sh, dh);
      const tw = total(w, kw, sw, dw);
      const upper = spec.autoPad === 'SAME_UPPER';
      const split = (t: number): [number, number] => (upper ? [Math.floor(t / 2), t - Math.floor(t / 2)] : [t - Math.floor(t / 2), Math.floor(t / 2)]);
      const [top, bottom] = split(th);
      const [left, right] = split(tw);
      return [top, bottom, left, right];
    }
    default: {
      const [top, left, bottom, right] = spec.pads;
      return [top, bottom, left, right];
    }
  }
}

/**
 * ONNX Conv (group 1) on NHWC input with an HWIO filter, an optional [Co] bias and an optional fused ReLU or
 * LeakyReLU (tfjs/ops/conv-layer.ts: one fused kernel forward, fast gradients).
 */
export function conv2d(x: T4, filter: T4, bias: tf.Tensor1D | null, spec: ConvSpec, activation: ConvActivation = 'linear', alpha = 0): T4 {
  const [, h, w] = x.shape;
  const [top, bottom, left, right] = resolvePads(spec, h, w);
  const pad: ExplicitPad = [[0, 0], [top, bottom], [left, right], [0, 0]];
  const [sh, sw] = spec.strides;
  const [dh, dw] = spec.dilations;
  if (!((sh > 1 || sw > 1) && (dh > 1 || dw > 1))) {
    return convLayer(x, filter, bias, { strides: [sh, sw], dilations: [dh, dw], pad, activation, alpha });
  }
  // tfjs refuses strides and dilations both > 1: a dilated stride-1 conv, then every s-th row and column.
  const [kh, kw] = [filter.shape[0], filter.shape[1]];
  const ho = Math.floor((h + top + bottom - ((kh - 1) * dh + 1)) / sh) + 1;
  const wo = Math.floor((w + left + right - ((kw - 1) * dw + 1)) / sw) + 1;
  const full = convLayer(x, filter, bias, { strides: [1, 1], dilations: [dh, dw], pad, activation, alpha });
  return subsample(full, sh, sw, ho, wo);
}

/** Rows 0, s, 2s, … and columns likewise of an NHWC tensor, as ho×wo (reshape/slice: differentiable everywhere). */
export function subsample(x: T4, sh: number, sw: number, ho: number, wo: number): T4 {
  const [n, h, w, c] = x.shape;
  const hh = Math.min(h, ho * sh);
  const ww = Math.min(w, wo * sw);
  let t: T4 = hh !== h || ww !== w ? tf.slice(x, [0, 0, 0, 0], [n, hh, ww, c]) : x;
  if (hh < ho * sh || ww < wo * sw) t = tf.pad(t, [[0, 0], [0, ho * sh - hh], [0, wo * sw - ww], [0, 0]]);
  const r = tf.reshape(t, [n * ho, sh, wo, sw * c]);
  return tf.reshape(tf.slice(r, [0, 0, 0, 0], [n * ho, 1, wo, c]), [n, ho, wo, c]);
}

/**
 * ONNX DepthToSpace on NHWC. DCR: input channel (i·b + j)·C' + c (TensorFlow's order); CRD (torch pixel_shuffle):
 * c·b² + i·b + j. Reshape/transpose only: fast on WASM, and differentiable on every backend.
 */
export function depthToSpace(x: T4, b: number, mode: 'DCR' | 'CRD'): T4 {
  const [n, h, w, c] = x.shape;
  const co = c / (b * b);
  if (mode === 'DCR') {
    // [N·H, W, b(i), b(j)·C'] → [N·H, b(i), W, b(j)·C']
    return tf.reshape(tf.transpose(tf.reshape(x, [n * h, w, b, b * co]), [0, 2, 1, 3]), [n, h * b, w * b, co]);
  }
  // [N·H, W, C', b(i), b(j)] → [N·H, b(i), W, b(j), C']
  return tf.reshape(tf.transpose(tf.reshape(x, [n * h, w, co, b, b]), [0, 3, 1, 4, 2]), [n, h * b, w * b, co]);
}

/** ONNX InstanceNormalization on NHWC: per sample and channel over H, W (population variance). */
export function instanceNorm(x: T4, scale: tf.Tensor, bias: tf.Tensor, epsilon: number): T4 {
  return instanceNormNhwc(x, scale, bias, epsilon);
}

/**
 * A constant in ONNX (NCHW-broadcast) layout → the shape that broadcasts the same way against NHWC activations:
 * right-aligned to rank 4 with leading 1s, then axes (N, C, H, W) → (N, H, W, C).
 */
export function constToNhwc(t: tf.Tensor): tf.Tensor {
  if (t.rank > 4) throw new Error(`a constant of rank ${t.rank} cannot broadcast against 4-D activations`);
  const shape = [...new Array(4 - t.rank).fill(1), ...t.shape];
  const r = tf.reshape(t, shape);
  if (shape[1] === 1) return tf.reshape(r, [shape[0], shape[2], shape[3], 1]);
  return tf.transpose(r, [0, 2, 3, 1]);
}

/** NCHW axis of a 4-D tensor → the matching NHWC axis. */
export function nhwcAxis(axis: number): number {
  const a = axis < 0 ? axis + 4 : axis;
  if (a < 0 || a > 3) throw new Error(`axis ${axis} is out of range for a 4-D tensor`);
  return [0, 3, 1, 2][a];
}
