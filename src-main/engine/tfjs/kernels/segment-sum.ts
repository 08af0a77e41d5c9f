/**
 * UnsortedSegmentSum for the WASM backend (which has none), as a plain loop over the WASM heap: the gradient of
 * tf.gather (bilinear sampling in the reblur module) scatters through it. One pass, no temporaries; out-of-range
 * ids (negative or ≥ numSegments) are dropped like TensorFlow drops negative ids.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export function unsortedSegmentSumWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const x = args.inputs.x as tf.TensorInfo;
  const ids = args.inputs.segmentIds as tf.TensorInfo;
  const numSegments = Number(args.attrs?.numSegments);
  if (!Number.isInteger(numSegments) || numSegments < 0) throw new Error(`UnsortedSegmentSum: bad numSegments ${String(args.attrs?.numSegments)}`);
  const idsRank = ids.shape.length;
  for (let i = 0; i < idsRank; i++) {
    if (ids.shape[i] !== x.shape[i]) throw new Error(`UnsortedSegmentSum: segmentIds shape [${ids.shape}] is not a prefix of x shape [${x.shape}]`);
  }
  const innerShape = x.shape.slice(idsRank);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  // Views after makeOutput: allocating may grow (and detach) the heap.
  const xv = backend.typedArrayFromHeap(x);
  const idv = backend.typedArrayFromHeap(ids);
  const ov = backend.typedArrayFromHeap(out);
  ov.fill(0);
  const count = idv.length;
  if (inner === 1) {
    for (let s = 0; s < count; s++) {
      const id = idv[s];
      if (id >= 0 && id < numSegments) ov[id] += xv[s];
    }
  } else {
    for (let s = 0; s < count; s++) {
      const id = idv[s];
      if (id < 0 || id >= numSegments) continue;
      const src = s * inner;
      const dst = id * inner;
      for (let k = 0; k < inner; k++) ov[dst + k] += xv[src + k];
    }
  }
  return out;
}
