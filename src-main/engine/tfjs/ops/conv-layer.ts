/**
 * A convolution layer (NHWC conv + optional bias + optional ReLU / LeakyReLU) as one differentiable op:
 * - forward: one FusedConv2D kernel (bias and activation fused into the XNNPACK call on WASM);
 * - backward: the activation's derivative from the saved output (one pass), dX and dW through the backprop kernels
 *   (NeurMAP's fast ones on WASM, native ones elsewhere; forward-conv formulations for dilations > 1), and the bias
 *   gradient as a ones·dy matrix product (tfjs' Sum over N, H, W transposes the whole tensor first on WASM).
 *
 * The op is its own kernel ('NeurmapConvLayer', forwarding to the backend's FusedConv2D; see kernel-op.ts) with a
 * registered gradient, which tfjs evaluates lazily per input, asking only for the gradients on the path to the
 * differentiated variables: training M and D never pays for G's filter gradients, G's update never pays for M's
 * or D's, and no network pays for the input gradient of its first layer.
 *
 * Strides and dilations both > 1 are not supported here (tfjs refuses them); the interpreter handles that case.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dFilterGrad, conv2dInputGrad } from '../kernels/conv-grad.ts';
import { kernelOp } from './kernel-op.ts';

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

/** The kernel's attributes: FusedConv2D's, NHWC, with explicit padding. */
interface ConvLayerAttrs {
  strides: [number, number];
  dilations: [number, number];
  pad: ExplicitPad;
  dataFormat: 'NHWC';
  activation: ConvActivation;
  leakyreluAlpha: number;
}

/** Σ over all but the last axis, as ones[1, M] · t[M, C] (fast on every backend). */
export function sumToChannels(t: tf.Tensor): tf.Tensor1D {
  const c = t.shape[t.rank - 1];
  const m = t.size / c;
  return tf.reshape(tf.matMul(tf.ones([1, m]), tf.reshape(t, [m, c])), [c]);
}

const convLayerGradient: tf.GradConfig = {
  kernelName: 'NeurmapConvLayer',
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, w, y] = saved as [T4, T4, T4];
    const o = attrs as unknown as ConvLayerAttrs;
    // The activation's derivative is shared by all three gradients: computed once, now (freed with the backward pass).
    let g = dy as T4;
    if (o.activation === 'relu') g = tf.mul(g, tf.step(y)) as T4;
    else if (o.activation === 'leakyrelu') g = tf.where(tf.greater(y, 0), g, tf.mul(g, o.leakyreluAlpha)) as T4;
    const [dh, dwl] = o.dilations;
    const engine = tf.engine();
    if (dh === 1 && dwl === 1) {
      const common = { strides: o.strides, pad: o.pad, dataFormat: 'NHWC' };
      return {
        x: () => engine.runKernel('Conv2DBackpropInput', { dy: g, filter: w }, { ...common, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
        filter: () => engine.runKernel('Conv2DBackpropFilter', { x, dy: g }, { ...common, filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
        bias: () => sumToChannels(g),
      };
    }
    const geom = { strides: o.strides, dilations: o.dilations, pads: { top: o.pad[1][0], bottom: o.pad[1][1], left: o.pad[2][0], right: o.pad[2][1] } };
    return {
      x: () => conv2dInputGrad(x.shape, g, w, geom),
      filter: () => conv2dFilterGrad(x, g, w.shape, geom),
      bias: () => sumToChannels(g),
    };
  },
};

/** The kernel forwards to the active backend's FusedConv2D. */
const convLayerOp = kernelOp(convLayerGradient, ({ inputs, attrs }) => tf.engine().runKernel('FusedConv2D', inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor);

export function convLayer(x: T4, filter: T4, bias: tf.Tensor1D | null, o: ConvLayerOptions): T4 {
  const activation = o.activation ?? 'linear';
  const alpha = o.alpha ?? 0.2;
  if (activation === 'leakyrelu' && !(alpha >= 0)) throw new Error(`convLayer: LeakyReLU slope must be ≥ 0, got ${alpha}`);
  const [sh, sw] = o.strides;
  const [dh, dw] = o.dilations;
  if ((sh > 1 || sw > 1) && (dh > 1 || dw > 1)) throw new Error('convLayer: strides and dilations both > 1 are not supported');
  const attrs: ConvLayerAttrs = { strides: o.strides, dilations: o.dilations, pad: o.pad, dataFormat: 'NHWC', activation, leakyreluAlpha: alpha };
  const inputs: tf.NamedTensorMap = bias ? { x, filter, bias } : { x, filter };
  return convLayerOp(inputs, attrs as unknown as tf.NamedAttrMap) as T4;
}
