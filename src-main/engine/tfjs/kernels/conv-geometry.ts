/**
 * Geometry of a 2-D convolution (NHWC), shared by the gradient kernels: strides, dilations and the explicit
 * padding that tfjs' `pad` argument ('same' | 'valid' | number | explicit) resolves to for a given input.
 */
import * as tf from '@tensorflow/tfjs';

export type PadArg = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

export interface ConvGeometry {
  strides: [number, number];
  dilations: [number, number];
  /** Explicit padding, all ≥ 0. */
  pads: { top: number; bottom: number; left: number; right: number };
}

export function pair(v: number | [number, number] | number[] | undefined, fallback = 1): [number, number] {
  if (v == null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  return [v[0] ?? fallback, v[1] ?? v[0] ?? fallback];
}

/**
 * Resolve tfjs conv attributes to explicit geometry for an NHWC input shape and an HWIO (or depthwise HWCM) filter
 * shape, exactly as the forward kernels do (backend_util.computeConv2DInfo).
 */
export function convGeometry(
  inputShape: readonly number[],
  filterShape: readonly number[],
  strides: number | [number, number] | number[],
  dilations: number | [number, number] | number[] | undefined,
  pad: PadArg | string,
  dimRoundingMode?: 'floor' | 'round' | 'ceil' | string,
  depthwise = false,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    pair(strides),
    pair(dilations),
    pad as 'same',
    dimRoundingMode as 'floor' | undefined,
    depthwise,
    'channelsLast',
  );
  return {
    strides: [info.strideHeight, info.strideWidth],
    dilations: [info.dilationHeight, info.dilationWidth],
    pads: { top: info.padInfo.top, bottom: info.padInfo.bottom, left: info.padInfo.left, right: info.padInfo.right },
  };
}

/** Output size of one spatial axis of a convolution. */
export function convOutSize(inSize: number, k: number, stride: number, dilation: number, padBefore: number, padAfter: number): number {
  return Math.floor((inSize + padBefore + padAfter - ((k - 1) * dilation + 1)) / stride) + 1;
}

/** Convert a tfjs dataFormat ('NHWC' | 'NCHW' | 'channelsLast' | …) to whether it is channels-first. */
export function isChannelsFirst(dataFormat: unknown): boolean {
  return dataFormat === 'NCHW' || dataFormat === 'channelsFirst';
}
