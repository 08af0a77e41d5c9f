/**
 * Gradient kernels for the WASM backend. tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, no depthwise
 * backprops and no UnsortedSegmentSum (gather's gradient), and its Conv2DBackpropInput is a plain loop (~10× slower
 * than the forward conv). These kernels compose fast forward kernels (XNNPACK convolutions, transposes), see
 * conv-grad.ts; UnsortedSegmentSum is a loop over the WASM heap.
 *
 * A kernel implemented with tfjs ops returns a Tensor (the engine accepts that); the ops inside run while the
 * engine's kernel depth is > 0, so nothing is recorded on a gradient tape, and tf.tidy frees the temporaries.
 */
import * as tf from '@tensorflow/tfjs';
import { convGeometry, isChannelsFirst, type PadArg } from './conv-geometry.ts';
import { conv2dFilterGrad, conv2dInputGrad, depthwiseFilterGrad, depthwiseInputGrad } from './conv-grad.ts';
import { unsortedSegmentSumWasm } from './segment-sum.ts';
import { gatherV2Wasm, makeTransposeWasm } from './gather.ts';

type T4 = tf.Tensor4D;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

const BACKEND = 'wasm';

function tensorOf(info: tf.TensorInfo): tf.Tensor {
  // Inputs reach kernels as Tensors when run through the engine (tf ops, tf.engine().runKernel).
  if (info instanceof tf.Tensor) return info;
  throw new Error('NeurMAP wasm gradient kernels must be run through the tfjs engine (got a bare TensorInfo)');
}

const toNhwc = (t: tf.Tensor): T4 => tf.transpose(t, [0, 2, 3, 1]) as T4;
const toNchw = (t: tf.Tensor): T4 => tf.transpose(t, [0, 3, 1, 2]) as T4;
const nhwcShape = (s: readonly number[]): number[] => [s[0], s[2], s[3], s[1]];

function conv2DBackpropFilter({ inputs, attrs = {} }: KernelArgs): tf.TensorInfo {
  return tf.tidy(() => {
    const first = isChannelsFirst(attrs.dataFormat);
    const x = first ? toNhwc(tensorOf(inputs.x as tf.TensorInfo)) : (tensorOf(inputs.x as tf.TensorInfo) as T4);
    const dy = first ? toNhwc(tensorOf(inputs.dy as tf.TensorInfo)) : (tensorOf(inputs.dy as tf.TensorInfo) as T4);
    const filterShape = attrs.filterShape as number[];
    const g = convGeometry(x.shape, filterShape, attrs.strides as number[], 1, attrs.pad as PadArg, attrs.dimRoundingMode as string);
    return conv2dFilterGrad(x, dy, filterShape, g);
  });
}

function conv2DBackpropInput({ inputs, attrs = {} }: KernelArgs): tf.TensorInfo {
  return tf.tidy(() => {
    const first = isChannelsFirst(attrs.dataFormat);
    const inputShape = first ? nhwcShape(attrs.inputShape as number[]) : (attrs.inputShape as number[]);
    const dy = first ? toNhwc(tensorOf(inputs.dy as tf.TensorInfo)) : (tensorOf(inputs.dy as tf.TensorInfo) as T4);
    const filter = tensorOf(inputs.filter as tf.TensorInfo) as T4;
    const g = convGeometry(inputShape, filter.shape, attrs.strides as number[], 1, attrs.pad as PadArg, attrs.dimRoundingMode as string);
    const dx = conv2dInputGrad(inputShape, dy, filter, g);
    return first ? toNchw(dx) : dx;
  });
}

function depthwiseBackpropFilter({ inputs, attrs = {} }: KernelArgs): tf.TensorInfo {
  return tf.tidy(() => {
    const x = tensorOf(inputs.x as tf.TensorInfo) as T4;
    const dy = tensorOf(inputs.dy as tf.TensorInfo) as T4;
    const filterShape = attrs.filterShape as number[];
    const g = convGeometry(x.shape, filterShape, attrs.strides as number[], attrs.dilations as number[], attrs.pad as PadArg, attrs.dimRoundingMode as string, true);
    return depthwiseFilterGrad(x, dy, filterShape, g);
  });
}

function depthwiseBackpropInput({ inputs, attrs = {} }: KernelArgs): tf.TensorInfo {
  return tf.tidy(() => {
    const dy = tensorOf(inputs.dy as tf.TensorInfo) as T4;
    const filter = tensorOf(inputs.filter as tf.TensorInfo) as T4;
    const inputShape = attrs.inputShape as number[];
    const g = convGeometry(inputShape, filter.shape, attrs.strides as number[], attrs.dilations as number[], attrs.pad as PadArg, attrs.dimRoundingMode as string, true);
    return depthwiseInputGrad(inputShape, dy, filter, g);
  });
}

/**
 * Identity (tf.clone, and every tensor the engine saves for a gradient) sharing the data instead of copying it, as
 * the cpu backend does: tfjs never writes into an existing buffer (Reshape and Variable already share data), so a
 * reference count is enough. Strings keep wasm's own path.
 */
function identityShared({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const x = inputs.x as tf.TensorInfo;
  const b = backend as { incRef(dataId: tf.DataId): void };
  if (x.dtype === 'string') {
    const original = replaced.get('Identity');
    if (!original) throw new Error('Identity of a string tensor: the wasm kernel is not available');
    return original.kernelFunc({ inputs, backend, attrs: {} } as never) as tf.TensorInfo;
  }
  b.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * BatchMatMul with a transposed operand: wasm's kernel is ~10× slower when asked to transpose (every matMul gradient
 * asks, e.g. dA = dy · Bᵀ) than a Transpose kernel followed by the plain product, so the operand is transposed first.
 */
function makeBatchMatMulWasm(original: tf.KernelConfig): KernelFn {
  return (args) => {
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return original.kernelFunc(args as never) as tf.TensorInfo;
    const swapLast = (t: tf.Tensor) => tf.transpose(t, [...Array(t.rank - 2).keys(), t.rank - 1, t.rank - 2]);
    const a = tensorOf(args.inputs.a as tf.TensorInfo);
    const b = tensorOf(args.inputs.b as tf.TensorInfo);
    const at = attrs.transposeA ? swapLast(a) : a;
    const bt = attrs.transposeB ? swapLast(b) : b;
    try {
      return original.kernelFunc({ ...args, inputs: { a: at, b: bt }, attrs: { ...attrs, transposeA: false, transposeB: false } } as never) as tf.TensorInfo;
    } finally {
      if (at !== a) at.dispose();
      if (bt !== b) bt.dispose();
    }
  };
}

type KernelFn = (a: KernelArgs) => tf.TensorInfo;

/** The kernels this module registers for 'wasm', and why (`wrap` builds a kernel around wasm's own one). */
export const WASM_KERNELS: ReadonlyArray<{ kernelName: string; why: string; kernelFunc?: KernelFn; wrap?: (original: tf.KernelConfig) => KernelFn }> = [
  { kernelName: 'Conv2DBackpropFilter', why: 'missing on wasm; conv of x^T by dy^T (XNNPACK)', kernelFunc: conv2DBackpropFilter },
  { kernelName: 'Conv2DBackpropInput', why: 'replaces the slow loop kernel; flipped-kernel conv, sub-pixel phases for strides', kernelFunc: conv2DBackpropInput },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', why: 'missing on wasm; depthwise conv of x^T by dy^T', kernelFunc: depthwiseBackpropFilter },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', why: 'missing on wasm; flipped-kernel depthwise conv', kernelFunc: depthwiseBackpropInput },
  { kernelName: 'UnsortedSegmentSum', why: "missing on wasm (gather's gradient); loop over the WASM heap", kernelFunc: unsortedSegmentSumWasm },
  { kernelName: 'Identity', why: 'shares data instead of copying (every tensor saved for a gradient is cloned)', kernelFunc: identityShared },
  { kernelName: 'GatherV2', why: "wasm's checks every index through a closure (~10× slower for bilinear sampling); one loop over the heap", kernelFunc: gatherV2Wasm },
  { kernelName: 'BatchMatMul', why: 'transposed operands are transposed first (wasm transposes inside the product ~10× slower)', wrap: makeBatchMatMulWasm },
  { kernelName: 'Transpose', why: 'a permutation of size-1 axes shares the data instead of copying it', wrap: makeTransposeWasm },
];

const replaced = new Map<string, tf.KernelConfig>();
let registered = false;

/**
 * Register the gradient kernels for the 'wasm' backend (idempotent). Call after the wasm backend is initialised
 * (a kernel that wasm already has is replaced, and its original is kept for `unregisterWasmKernels`).
 */
export function registerWasmKernels(): string[] {
  if (registered) return WASM_KERNELS.map((k) => k.kernelName);
  for (const k of WASM_KERNELS) {
    const existing = tf.getKernel(k.kernelName, BACKEND);
    if (k.wrap && !existing) continue; // nothing to wrap
    if (existing) {
      replaced.set(k.kernelName, existing);
      tf.unregisterKernel(k.kernelName, BACKEND);
    }
    const kernelFunc = (k.wrap ? k.wrap(existing!) : k.kernelFunc!) as unknown as tf.KernelFunc;
    tf.registerKernel({ kernelName: k.kernelName, backendName: BACKEND, kernelFunc, ...(k.wrap && existing?.setupFunc ? { setupFunc: existing.setupFunc } : {}) });
  }
  registered = true;
  return WASM_KERNELS.map((k) => k.kernelName);
}

/** Undo `registerWasmKernels` (restores wasm's own kernels where it had them): for benchmarks and tests. */
export function unregisterWasmKernels(): void {
  if (!registered) return;
  for (const k of WASM_KERNELS) {
    if (tf.getKernel(k.kernelName, BACKEND)) tf.unregisterKernel(k.kernelName, BACKEND);
    const original = replaced.get(k.kernelName);
    if (original) tf.registerKernel(original);
  }
  replaced.clear();
  registered = false;
}

export function wasmKernelsRegistered(): boolean {
  return registered;
}
