/**
 * Test graphs for the interpreter (built with tests/helpers/tiny-onnx.ts) and the parity harness against ONNX
 * Runtime (onnxruntime-node, CPU).
 */
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { TinyOnnx, rng } from '../helpers/tiny-onnx.ts';
import { loadTrainableNetwork } from '../../src-main/engine/graph/interpreter.ts';
import { initTrainingBackend } from '../../src-main/engine/tfjs/backend.ts';
import type { ModelProto } from '../../src-main/engine/graph/onnx-file.ts';

let ready: Promise<unknown> | null = null;
export function ensureWasm(): Promise<unknown> {
  ready ??= initTrainingBackend({ prefer: 'wasm' });
  return ready;
}

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** A graph with a batch-free input [N, C, H, W] and output [N, C', H, W] (dims symbolic). */
export function graph(seed: number, inC = 3): { b: TinyOnnx; x: string; out: (v: string) => void; random: () => number } {
  const b = new TinyOnnx(seed);
  const x = b.input('input', ['N', inC, 'H', 'W']);
  const out = (v: string) => {
    b.output(v, 'output', ['N', b.channels.get(v) ?? 'C', 'OH', 'OW']);
  };
  return { b, x, out, random: rng(seed + 1000) };
}

/** Conv with explicit attributes (for auto_pad, no bias, omitted kernel_shape …). */
export function rawConv(
  b: TinyOnnx, x: string, outC: number, k: [number, number],
  attrs: Record<string, number | number[] | string>, opts: { bias?: boolean; seed?: number } = {},
): string {
  const inC = b.channels.get(x)!;
  const w = b.constant([outC, inC, k[0], k[1]], randomArray(outC * inC * k[0] * k[1], opts.seed ?? 5, -0.4, 0.4));
  const inputs = [x, w];
  if (opts.bias !== false) inputs.push(b.constant([outC], randomArray(outC, (opts.seed ?? 5) + 1, -0.2, 0.2)));
  const out = b.node('Conv', inputs, attrs);
  b.channels.set(out, outC);
  return out;
}

/** InstanceNormalization with random scale and bias. */
export function instanceNormRandom(b: TinyOnnx, x: string, eps: number, seed: number): string {
  const c = b.channels.get(x)!;
  const s = b.constant([c], randomArray(c, seed, 0.5, 1.5));
  const bb = b.constant([c], randomArray(c, seed + 1, -0.3, 0.3));
  return b.node('InstanceNormalization', [x, s, bb], { epsilon: eps }, undefined, ['epsilon']);
}

/** One graph that uses every supported operator (inputs [N, 3, H, W], H and W multiples of 8). */
export function everyOpGraph(seed = 11): TinyOnnx {
  const { b, x, out } = graph(seed);
  const id = b.identity(x);
  let h = b.conv(id, 8, { kernel: 3, stride: 2, pad: 1 }); // strided 3×3
  h = b.leakyRelu(instanceNormRandom(b, h, 1e-5, seed + 1), 0.2);
  let h2 = b.conv(h, 8, { kernel: 2, stride: 2, pad: 0 }); // strided 2×2
  h2 = b.relu(h2);
  const up = b.depthToSpace(b.conv(h2, 32, { kernel: 3 }), 2, 'CRD'); // pixel shuffle back to H/2
  const cat = b.concat([h, up], 1); // 16 channels
  const d = b.conv(cat, 8, { kernel: 3, dilation: 2 });
  const gate = b.sigmoid(b.conv(d, 8, { kernel: 1 }));
  const mixed = b.mul(b.tanh(d), gate);
  const shifted = b.sub(b.add(mixed, b.channelConstant(Array.from({ length: 8 }, (_, i) => 0.05 * i))), b.channelConstant(new Array(8).fill(0.1)));
  const full = b.depthToSpace(b.conv(shifted, 12, { kernel: 3 }), 2, 'DCR'); // back to H, 3 channels
  const res = b.add(x, b.mul(full, b.constant([], [0.5])));
  out(b.clip(res, 0, 1));
  return b;
}

export interface Parity { maxAbs: number; shape: number[]; ortShape: number[] }

/** Run ONNX bytes on ONNX Runtime and through the interpreter on the current tfjs backend; max |difference|. */
export async function parityWithOrt(bytes: Uint8Array, inputShape: number[], seed = 3, lo = 0, hi = 1): Promise<Parity> {
  const n = inputShape.reduce((a, c) => a * c, 1);
  const data = randomArray(n, seed, lo, hi);
  const session = await ort.InferenceSession.create(bytes);
  let ortOut: ort.Tensor;
  try {
    const res = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, inputShape) });
    ortOut = res[session.outputNames[0]];
  } finally {
    await session.release();
  }
  const net = loadTrainableNetwork(bytes, 'parity');
  try {
    const x = tf.tensor4d(data, inputShape as [number, number, number, number]);
    const y = net.apply(x);
    const got = (await y.data()) as Float32Array;
    const shape = y.shape.slice();
    tf.dispose([x, y]);
    const ref = ortOut.data as Float32Array;
    let maxAbs = got.length === ref.length ? 0 : Infinity;
    for (let i = 0; i < Math.min(got.length, ref.length); i++) maxAbs = Math.max(maxAbs, Math.abs(got[i] - ref[i]));
    if (Number.isNaN(maxAbs)) maxAbs = Infinity;
    return { maxAbs, shape, ortShape: ortOut.dims.slice() };
  } finally {
    net.dispose();
  }
}
/** Every initializer's stored bytes (raw_data, or the float_data values as float32 bytes). */
export function initializerBytes(model: ModelProto): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  for (const t of model.graph?.initializer ?? []) {
    if (t.rawData && t.rawData.length) m.set(t.name ?? '', Uint8Array.from(t.rawData));
    else m.set(t.name ?? '', new Uint8Array(Float32Array.from(t.floatData ?? []).buffer));
  }
  return m;
}

