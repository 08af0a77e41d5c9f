/**
 * GatherV2 and no-op Transpose for the WASM backend.
 *
 * - GatherV2: wasm's kernel checks every index through a closure-building assert and copies the indices out of the
 *   heap first; for bilinear sampling (millions of indices, 3 channels) that is ~10× slower than this single loop
 *   over the heap, which checks and copies together.
 * - Transpose whose permutation only moves size-1 axes (tf.gather's gradient asks for one): shares the data like
 *   Reshape instead of copying it.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export function gatherV2Wasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const x = args.inputs.x as tf.TensorInfo;
  const indices = args.inputs.indices as tf.TensorInfo;
  const axis = tf.util.parseAxisParam(args.attrs?.axis as number, x.shape)[0];
  const batchDims = Number(args.attrs?.batchDims ?? 0);
  const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x as tf.Tensor, indices as tf.Tensor, axis, batchDims);
  const nIdx = indices.shape.reduce((a, b) => a * b, 1);
  const perBatch = nIdx / info.batchSize;
  const out = backend.makeOutput(info.outputShape, x.dtype);
  if (out.shape.reduce((a, b) => a * b, 1) === 0) return out;
  // Views after makeOutput: allocating may grow (and detach) the heap.
  const xv = backend.typedArrayFromHeap(x);
  const iv = backend.typedArrayFromHeap(indices);
  const ov = backend.typedArrayFromHeap(out);
  const { outerSize, dimSize, sliceSize } = info;
  let dst = 0;
  for (let b = 0; b < info.batchSize; b++) {
    for (let o = 0; o < outerSize; o++) {
      const base = (b * outerSize + o) * dimSize;
      for (let i = 0; i < perBatch; i++) {
        const idx = iv[b * perBatch + i];
        if (!(idx >= 0 && idx < dimSize)) {
          backend.disposeData(out.dataId);
          throw new Error(`GatherV2: the index value ${idx} is not in [0, ${dimSize - 1}]`);
        }
        const src = (base + idx) * sliceSize;
        if (sliceSize === 1) ov[dst] = xv[src];
        else if (sliceSize <= 16) for (let k = 0; k < sliceSize; k++) ov[dst + k] = xv[src + k];
        else ov.set(xv.subarray(src, src + sliceSize), dst);
        dst += sliceSize;
      }
    }
  }
  return out;
}

/** True when a permutation only reorders size-1 axes (the data order is unchanged). */
export function isNoOpPermutation(shape: readonly number[], perm: readonly number[]): boolean {
  let last = -1;
  for (const p of perm) {
    if (shape[p] === 1) continue;
    if (p < last) return false;
    last = p;
  }
  return true;
}

export function makeTransposeWasm(original: tf.KernelConfig): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const perm = (args.attrs?.perm ?? []) as number[];
    if (x.dtype !== 'string' && isNoOpPermutation(x.shape, perm)) {
      (args.backend as { incRef(d: tf.DataId): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: perm.map((p) => x.shape[p]), dtype: x.dtype };
    }
    return original.kernelFunc(args as never) as tf.TensorInfo;
  };
}
