import * as tf from '@tensorflow/tfjs';

/**
 * Small differentiable helpers the losses and the trainer share. tfjs has no stop-gradient op, and its tape
 * refuses to backpropagate through comparison ops (Less, Equal…), so the canonical sign is a custom gradient.
 */

/**
 * The method's stopgrad(·): the same values as a new tensor made from a copy of the data, which no tape records.
 * The backward pass then never reaches what x was computed from (a zero-gradient op would still be visited, and
 * would make the ops before it compute gradients that are then multiplied by zero). The copy is a few hundred KB
 * for the motion maps it is used on.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return tf.tensor(x.dataSync(), x.shape, x.dtype) as T;
}

/**
 * NEURMAP.md's canonical sign on an [N, 2, H, W] motion map (channel 0 = u along x, channel 1 = v along y):
 * every vector is flipped into the half-plane v ≥ 0 — (u, v) → (−u, −v) where v < 0, or where v = 0 and u < 0 —
 * exactly as engine/synth's canonicalSign. The flip is piecewise constant, so the gradient is the upstream
 * gradient times the same ±1 (the flip is decided by the forward values and held fixed).
 */
export const canonicalMotion: (m: tf.Tensor4D) => tf.Tensor4D = tf.customGrad(((m: tf.Tensor, save: tf.GradSaveFunc) => {
  const sign = tf.tidy(() => {
    const [u, v] = tf.split(m, 2, 1);
    const flip = tf.logicalOr(tf.less(v, 0), tf.logicalAnd(tf.equal(v, 0), tf.less(u, 0)));
    return tf.sub(1, tf.mul(2, tf.cast(flip, 'float32')));
  });
  const value = tf.mul(m, sign);
  save([sign]);
  sign.dispose();
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]),
  };
}) as never) as never;

/** Per-pixel Euclidean length √(u² + v²) of an [N, 2, H, W] map as [N, 1, H, W]; a tiny ε keeps the gradient finite at 0. */
export function motionMagnitude(m: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sqrt(tf.add(tf.sum(tf.square(m), 1, true), 1e-12)) as tf.Tensor4D);
}

/** Rows [start, start + count) of an NCHW batch. */
export function batchSlice(x: tf.Tensor4D, start: number, count: number): tf.Tensor4D {
  return tf.slice(x, [start, 0, 0, 0], [count, -1, -1, -1]);
}

/** Tensors' values end to end in one array (the form in which workers exchange gradients). */
export function flattenTensors(ts: readonly tf.Tensor[]): Float32Array {
  const out = new Float32Array(ts.reduce((s, t) => s + t.size, 0));
  let o = 0;
  for (const t of ts) {
    out.set(t.dataSync() as Float32Array, o);
    o += t.size;
  }
  return out;
}
