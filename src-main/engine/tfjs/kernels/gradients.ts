/**
 * Gradient functions that tfjs 4.22 lacks on every backend (registered once, globally):
 *
 * - Conv2D and DepthwiseConv2dNative with dilations > 1: tfjs' gradients assert dilation 1. For dilation 1 these
 *   do exactly what tfjs does (the backprop kernels, fast on WASM through wasm-kernels.ts); for dilations > 1 they
 *   use the forward-conv formulation of conv-grad.ts.
 * - DepthToSpace: no gradient in tfjs; it is SpaceToDepth, a reshape/transpose.
 * - GatherNd: no gradient in tfjs; it is a ScatterNd of dy (duplicates summed).
 */
import * as tf from '@tensorflow/tfjs';
import { convGeometry, isChannelsFirst, pair, type PadArg } from './conv-geometry.ts';
import { conv2dFilterGrad, conv2dInputGrad, depthwiseFilterGrad, depthwiseInputGrad } from './conv-grad.ts';

type T4 = tf.Tensor4D;

const allOne = (v: unknown): boolean => pair(v as number | number[] | undefined).every((d) => d === 1);

const conv2dGrad: tf.GradConfig = {
  kernelName: 'Conv2D',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [T4, T4];
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as {
      strides: number[]; pad: PadArg; dataFormat: string; dilations: number[]; dimRoundingMode?: string;
    };
    const dy4 = dy as T4;
    if (allOne(dilations)) {
      const engine = tf.engine();
      return {
        x: () => engine.runKernel('Conv2DBackpropInput', { dy: dy4, filter }, { strides, pad, dataFormat, dimRoundingMode, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
        filter: () => engine.runKernel('Conv2DBackpropFilter', { x, dy: dy4 }, { strides, pad, dataFormat, dimRoundingMode, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      };
    }
    const first = isChannelsFirst(dataFormat);
    const xh = (): T4 => (first ? (tf.transpose(x, [0, 2, 3, 1]) as T4) : x);
    const dyh = (): T4 => (first ? (tf.transpose(dy4, [0, 2, 3, 1]) as T4) : dy4);
    const inShape = first ? [x.shape[0], x.shape[2], x.shape[3], x.shape[1]] : x.shape;
    const g = convGeometry(inShape, filter.shape, strides, dilations, pad, dimRoundingMode);
    return {
      x: () => {
        const dx = conv2dInputGrad(inShape, dyh(), filter, g);
        return first ? tf.transpose(dx, [0, 3, 1, 2]) : dx;
      },
      filter: () => conv2dFilterGrad(xh(), dyh(), filter.shape, g),
    };
  },
};

const depthwiseGrad: tf.GradConfig = {
  kernelName: 'DepthwiseConv2dNative',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [T4, T4];
    const { strides, pad, dilations, dimRoundingMode } = attrs as unknown as {
      strides: number[]; pad: PadArg; dilations?: number[]; dimRoundingMode?: string;
    };
    const dy4 = dy as T4;
    const $dilations = dilations ?? [1, 1];
    if (allOne($dilations)) {
      const engine = tf.engine();
      return {
        x: () => engine.runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dy4, filter }, { strides, dilations: $dilations, pad, dimRoundingMode, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
        filter: () => engine.runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: dy4 }, { strides, dilations: $dilations, pad, dimRoundingMode, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      };
    }
    const g = convGeometry(x.shape, filter.shape, strides, $dilations, pad, dimRoundingMode, true);
    return {
      x: () => depthwiseInputGrad(x.shape, dy4, filter, g),
      filter: () => depthwiseFilterGrad(x, dy4, filter.shape, g),
    };
  },
};

/** SpaceToDepth (TensorFlow's channel order: (i·b + j)·C + c) as a reshape/transpose, NHWC. */
export function spaceToDepthNhwc(y: T4, b: number): T4 {
  const [n, hb, wb, c] = y.shape;
  const h = hb / b;
  const w = wb / b;
  // [N·H, b(i), W, b(j)·C] → [N·H, W, b(i), b(j)·C]
  return tf.reshape(tf.transpose(tf.reshape(y, [n * h, b, w, b * c]), [0, 2, 1, 3]), [n, h, w, b * b * c]) as T4;
}

const depthToSpaceGrad: tf.GradConfig = {
  kernelName: 'DepthToSpace',
  gradFunc: (dy, _saved, attrs) => {
    const { blockSize, dataFormat } = attrs as unknown as { blockSize: number; dataFormat: string };
    const first = isChannelsFirst(dataFormat);
    return {
      x: () => {
        const d = first ? (tf.transpose(dy as tf.Tensor, [0, 2, 3, 1]) as T4) : (dy as T4);
        const s = spaceToDepthNhwc(d, blockSize);
        return first ? tf.transpose(s, [0, 3, 1, 2]) : s;
      },
    };
  },
};

const gatherNdGrad: tf.GradConfig = {
  kernelName: 'GatherNd',
  inputsToSave: ['params', 'indices'],
  gradFunc: (dy, saved) => {
    const [params, indices] = saved;
    return {
      params: () => tf.scatterND(indices, dy as tf.Tensor, params.shape),
      indices: () => tf.zerosLike(indices),
    };
  },
};

export const GRADIENT_OVERRIDES: ReadonlyArray<{ kernelName: string; why: string; config: tf.GradConfig }> = [
  { kernelName: 'Conv2D', why: 'tfjs asserts dilation 1 in the gradient; dilated convs use forward-conv gradients', config: conv2dGrad },
  { kernelName: 'DepthwiseConv2dNative', why: 'same for depthwise convs', config: depthwiseGrad },
  { kernelName: 'DepthToSpace', why: 'no gradient in tfjs; SpaceToDepth by reshape/transpose', config: depthToSpaceGrad },
  { kernelName: 'GatherNd', why: 'no gradient in tfjs; ScatterNd of dy', config: gatherNdGrad },
];

let done = false;

/** Register the gradient functions above (idempotent, backend-independent). */
export function registerGradientOverrides(): string[] {
  if (!done) {
    for (const g of GRADIENT_OVERRIDES) tf.registerGradient(g.config);
    done = true;
  }
  return GRADIENT_OVERRIDES.map((g) => g.kernelName);
}
