/**
 * A convolution layer (NHWC conv + optional bias + optional ReLU / LeakyReLU) as one differentiable op:
 * - forward: one FusedConv2D kernel (bias and activation fused into the XNNPACK call on WASM);
 * - backward: the activation's derivative from the saved output (one pass), dX and dW through the backprop kernels
 *   (NeurMAP's fast ones on WASM, native ones elsewhere; forward-conv formulations for dilations > 1), and the bias
 *   gradient as a ones·dy matrix product (tfjs' Sum over N, H, W transposes the whole tensor first on WASM).
 *
 * Strides and dilations both > 1 are not supported here (tfjs refuses them); the interpreter handles that case.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dFilterGrad, conv2dInputGrad } from '../kernels/conv-grad.ts';
import { customOp } from './custom-op.ts';

type T4 = tf.Tensor4D;
export type ConvActivation = 'linear' | 'relu' | 'leakyrelu';
export type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

export interface ConvLayerOptions {
  strides: [number, number];
  dilations: [number, number];
  /** Explicit NHWC padding [[0,0],[top,bottom],[left,right],[0,0]]. */
  pad: ExplicitPad;
  activation?: ConvActivation;
  /** LeakyReLU slope (≥ 0). */
  alpha?: number;
}

/** Σ over all but the last axis, as ones[1, M] · t[M, C] (fast on every backend). */
export function sumToChannels(t: tf.Tensor): tf.Tensor1D {
  const c = t.shape[t.rank - 1];
  const m = t.size / c;
  return tf.reshape(tf.matMul(tf.ones([1, m]), tf.reshape(t, [m, c])), [c]);
}

export function convLayer(x: T4, filter: T4, bias: tf.Tensor1D | null, o: ConvLayerOptions): T4 {
  const activation = o.activation ?? 'linear';
  const alpha = o.alpha ?? 0.2;
  if (activation === 'leakyrelu' && !(alpha >= 0)) throw new Error(`convLayer: LeakyReLU slope must be ≥ 0, got ${alpha}`);
  const [sh, sw] = o.strides;
  const [dh, dw] = o.dilations;
  if ((sh > 1 || sw > 1) && (dh > 1 || dw > 1)) throw new Error('convLayer: strides and dilations both > 1 are not supported');
  const dilated = dh > 1 || dw > 1;
  const attrs = { strides: o.strides, pad: o.pad, dataFormat: 'NHWC', dilations: o.dilations, activation, leakyreluAlpha: alpha };

  const backward = (dy: tf.Tensor, xs: T4, w: T4, y: T4): tf.Tensor[] => {
    let g: tf.Tensor = dy;
    if (activation === 'relu') g = tf.mul(dy, tf.step(y));
    else if (activation === 'leakyrelu') g = tf.where(tf.greater(y, 0), dy, tf.mul(dy, alpha));
    const engine = tf.engine();
    let dx: tf.Tensor;
    let dwt: tf.Tensor;
    if (!dilated) {
      dx = engine.runKernel('Conv2DBackpropInput', { dy: g, filter: w }, { strides: o.strides, pad: o.pad, dataFormat: 'NHWC', inputShape: xs.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
      dwt = engine.runKernel('Conv2DBackpropFilter', { x: xs, dy: g }, { strides: o.strides, pad: o.pad, dataFormat: 'NHWC', filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
    } else {
      const geom = { strides: o.strides, dilations: o.dilations, pads: { top: o.pad[1][0], bottom: o.pad[1][1], left: o.pad[2][0], right: o.pad[2][1] } };
      dx = conv2dInputGrad(xs.shape, g as T4, w, geom);
      dwt = conv2dFilterGrad(xs, g as T4, w.shape, geom);
    }
    return bias ? [dx, dwt, sumToChannels(g)] : [dx, dwt];
  };

  const forward = (inputs: { x: T4; filter: T4; bias?: tf.Tensor1D }): T4 =>
    tf.engine().runKernel('FusedConv2D', inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as T4;

  const op = customOp<T4>(bias ? 3 : 2, ([xx, ww, bb], save) => {
    const y = forward({ x: xx as T4, filter: ww as T4, ...(bb ? { bias: bb as tf.Tensor1D } : {}) });
    save([xx, ww, y]);
    return { value: y, gradFunc: (dy, saved) => backward(dy, saved[0] as T4, saved[1] as T4, saved[2] as T4) };
  });
  return bias ? op(x, filter, bias) : op(x, filter);
}
