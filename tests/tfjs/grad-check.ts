/**
 * Test helper: compute the gradients of one scalar loss on two tfjs backends and compare them.
 * Inputs are plain arrays, so each backend builds its own tensors; the loss is Σ f(inputs) · R with a fixed random
 * R, so that every output element weighs differently.
 */
import * as tf from '@tensorflow/tfjs';
import { initTrainingBackend } from '../../src-main/engine/tfjs/backend.ts';
import { rng } from '../helpers/tiny-onnx.ts';

export { rng };

export interface Input { shape: number[]; values: Float32Array | Int32Array; dtype?: 'float32' | 'int32'; constant?: boolean }

export function randomInput(shape: number[], seed: number, scale = 1): Input {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, values: Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale) };
}

export function intInput(shape: number[], values: number[]): Input {
  return { shape, values: Int32Array.from(values), dtype: 'int32', constant: true };
}

let ready: Promise<unknown> | null = null;
/** Initialise the WASM backend once (with NeurMAP's kernels) so that both 'wasm' and 'cpu' are available. */
export function ensureBackends(): Promise<unknown> {
  ready ??= initTrainingBackend({ prefer: 'wasm' }).then((r) => {
    if (r.name !== 'wasm') throw new Error(`expected the wasm backend, got ${r.name}: ${r.notes.join('; ')}`);
    return r;
  });
  return ready;
}

export interface GradResult { value: Float32Array; grads: Float32Array[] }

/** Gradients of Σ f(...inputs)·R with respect to every non-constant input, on the given backend. */
export async function gradsOn(backend: string, f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: Input[], seed = 99): Promise<GradResult> {
  await tf.setBackend(backend);
  const tensors = inputs.map((i) => tf.tensor(i.values, i.shape, i.dtype ?? 'float32'));
  const diffIdx = inputs.map((i, k) => (i.constant ? -1 : k)).filter((k) => k >= 0);
  try {
    const out = tf.tidy(() => f(...tensors));
    const rw = randomInput(out.shape, seed);
    const weights = tf.tensor(rw.values, out.shape);
    const value = out.dataSync().slice() as Float32Array;
    out.dispose();
    const g = tf.grads((...diff: tf.Tensor[]) => {
      const all = tensors.slice();
      diffIdx.forEach((k, j) => { all[k] = diff[j]; });
      return tf.sum(tf.mul(f(...all), weights));
    });
    const grads = g(diffIdx.map((k) => tensors[k]));
    const result = { value, grads: grads.map((t) => t.dataSync().slice() as Float32Array) };
    tf.dispose([...grads, weights]);
    return result;
  } finally {
    tf.dispose(tensors);
  }
}

/** max |a − b| / max |b| (b = reference). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  if (!Number.isFinite(num)) return Infinity;
  return den === 0 ? num : num / den;
}

/**
 * Compare value and gradients of f on 'wasm' against the pure-JS 'cpu' backend (running `reference`, default f:
 * give an independent formulation where f's gradient is one of ours on every backend); relative errors.
 */
export async function compareWasmToCpu(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: Input[],
  reference: (...xs: tf.Tensor[]) => tf.Tensor = f,
): Promise<{ value: number; grads: number[] }> {
  await ensureBackends();
  const ref = await gradsOn('cpu', reference, inputs);
  const got = await gradsOn('wasm', f, inputs);
  return { value: relErr(got.value, ref.value), grads: got.grads.map((g, i) => relErr(g, ref.grads[i])) };
}
