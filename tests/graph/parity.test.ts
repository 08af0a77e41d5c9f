/**
 * tfjs interpreter output == ONNX Runtime output (max abs error < 1e-4, float32) for test graphs covering every
 * supported operator and attribute form, on the WASM training backend and on tfjs' cpu backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { TinyOnnx } from '../helpers/tiny-onnx.ts';
import { SUPPORTED_OPS } from '../../src-main/engine/graph/interpreter.ts';
import { decodeModel } from '../../src-main/engine/graph/onnx-file.ts';
import { ensureWasm, everyOpGraph, graph, instanceNormRandom, parityWithOrt, rawConv } from './graphs.ts';

const TOL = 1e-4;

async function check(name: string, bytes: Uint8Array, shape: number[], backends = ['wasm', 'cpu'], lo = 0, hi = 1): Promise<void> {
  await ensureWasm();
  for (const be of backends) {
    await tf.setBackend(be);
    const p = await parityWithOrt(bytes, shape, 3, lo, hi);
    assert.deepEqual(p.shape, p.ortShape, `${name} on ${be}: output shape`);
    assert.ok(p.maxAbs < TOL, `${name} on ${be}: max abs error ${p.maxAbs}`);
  }
  await tf.setBackend('wasm');
}

test('the every-operator graph uses every supported operator and matches ONNX Runtime', async () => {
  const b = everyOpGraph();
  const used = new Set((decodeModel(b.bytes()).graph?.node ?? []).map((n) => n.opType));
  for (const op of SUPPORTED_OPS) assert.ok(used.has(op), `graph uses ${op}`);
  await check('every-op', b.bytes(), [2, 3, 32, 48]);
});

test('every-op graphs with other seeds and a negative input range match ONNX Runtime', async () => {
  for (const seed of [21, 31]) await check(`every-op seed ${seed}`, everyOpGraph(seed).bytes(), [1, 3, 16, 32], ['wasm'], -1, 2);
});

const convCases: Array<{ name: string; k: [number, number]; attrs: Record<string, number | number[] | string>; bias?: boolean; size: [number, number] }> = [
  { name: '3×3 stride 1 pads 1', k: [3, 3], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] }, size: [16, 16] },
  { name: '3×3 stride 2 pads 1, odd size', k: [3, 3], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }, size: [17, 15] },
  { name: '2×2 stride 2', k: [2, 2], attrs: { kernel_shape: [2, 2], strides: [2, 2] }, size: [16, 16] },
  { name: '4×4 stride 2 pads 1', k: [4, 4], attrs: { kernel_shape: [4, 4], pads: [1, 1, 1, 1], strides: [2, 2] }, size: [16, 20] },
  { name: 'asymmetric pads [0, 2, 1, 0]', k: [3, 3], attrs: { kernel_shape: [3, 3], pads: [0, 2, 1, 0] }, size: [12, 13] },
  { name: 'dilation 2 pads 2', k: [3, 3], attrs: { kernel_shape: [3, 3], pads: [2, 2, 2, 2], dilations: [2, 2] }, size: [16, 16] },
  { name: 'dilation 2 and stride 2', k: [3, 3], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], dilations: [2, 2], strides: [2, 2] }, size: [15, 16] },
  { name: 'auto_pad SAME_UPPER stride 2', k: [4, 4], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] }, size: [15, 16] },
  { name: 'auto_pad SAME_LOWER stride 2', k: [4, 4], attrs: { auto_pad: 'SAME_LOWER', strides: [2, 2] }, size: [15, 16] },
  { name: 'auto_pad VALID', k: [3, 2], attrs: { auto_pad: 'VALID' }, size: [10, 11] },
  { name: 'no bias, no kernel_shape, rectangular stride', k: [3, 5], attrs: { pads: [1, 2, 1, 2], strides: [1, 2] }, bias: false, size: [9, 16] },
  { name: '1×1', k: [1, 1], attrs: { kernel_shape: [1, 1] }, size: [8, 8] },
];

test('Conv attribute forms (pads, strides, dilations, auto_pad, bias) match ONNX Runtime', async () => {
  for (const c of convCases) {
    const { b, x, out } = graph(40);
    b.setMetadata('size_multiple', '1');
    out(rawConv(b, x, 5, c.k, c.attrs, { bias: c.bias, seed: 7 }));
    await check(`Conv ${c.name}`, b.bytes(), [2, 3, ...c.size], ['wasm'], -1, 1);
  }
});

test('DepthToSpace DCR and CRD, blocksizes 2 and 3', async () => {
  for (const mode of ['DCR', 'CRD'] as const) {
    for (const bs of [2, 3]) {
      const { b, x, out } = graph(50, 4);
      b.setMetadata('size_multiple', '1');
      out(b.depthToSpace(b.conv(x, 2 * bs * bs, { kernel: 1 }), bs, mode));
      await check(`DepthToSpace ${mode} ${bs}`, b.bytes(), [2, 4, 5, 6]);
    }
  }
});

test('Clip with min/max inputs, only a min, only a max, and opset-10 attributes', async () => {
  {
    const { b, x, out } = graph(60);
    out(b.clip(x, -0.25, 0.5));
    await check('Clip both', b.bytes(), [1, 3, 16, 16], ['wasm'], -1, 1);
  }
  {
    const { b, x, out } = graph(61);
    out(b.node('Clip', [x, b.constant([], [-0.3])]));
    await check('Clip min', b.bytes(), [1, 3, 16, 16], ['wasm'], -1, 1);
  }
  {
    const { b, x, out } = graph(62);
    out(b.node('Clip', [x, '', b.constant([], [0.2])]));
    await check('Clip max', b.bytes(), [1, 3, 16, 16], ['wasm'], -1, 1);
  }
  {
    const b = new TinyOnnx(63, 10);
    const x = b.input('input', ['N', 3, 'H', 'W']);
    b.output(b.node('Clip', [x], { min: -0.1, max: 0.4 }, undefined, ['min', 'max']), 'output', ['N', 3, 'H', 'W']);
    await check('Clip opset 10', b.bytes(), [1, 3, 16, 16], ['wasm'], -1, 1);
  }
});

test('LeakyRelu alpha (default and given), InstanceNormalization epsilon, Relu, Sigmoid, Tanh, Identity', async () => {
  const { b, x, out } = graph(70);
  let h = b.conv(x, 6, { kernel: 3 });
  h = instanceNormRandom(b, h, 0.01, 71);
  const l1 = b.node('LeakyRelu', [h]); // default alpha 0.01
  const l2 = b.leakyRelu(h, 0.3);
  const t = b.add(b.tanh(l1), b.sigmoid(l2));
  out(b.identity(b.relu(b.sub(t, b.channelConstant([0.3, 0.5, 0.7, 0.9, 1.1, 1.3])))));
  await check('activations', b.bytes(), [2, 3, 16, 16], ['wasm', 'cpu'], -2, 2);
});

test('InstanceNormalization of a nearly constant channel (epsilon matters)', async () => {
  const { b, x, out } = graph(72);
  const flat = b.conv(x, 2, { kernel: 1, weights: [1e-3, 0, 0, 0, 0, 0], bias: [0.5, 0.1] });
  out(instanceNormRandom(b, flat, 1e-3, 73));
  await check('instance norm eps', b.bytes(), [2, 3, 16, 16]);
});

test('Add/Sub/Mul broadcasting: [1,C,1,1], [C,1,1], scalar, [W], and activation ⊕ activation with one channel', async () => {
  const { b, x, out } = graph(80);
  const h = b.conv(x, 4, { kernel: 3 });
  const one = b.conv(x, 1, { kernel: 1 });
  let y = b.add(h, b.channelConstant([0.1, -0.2, 0.3, 0.4]));
  y = b.mul(y, b.constant([4, 1, 1], [1, 2, 3, 4]));
  y = b.sub(y, b.constant([], [0.25]));
  y = b.add(y, b.constant([16], Array.from({ length: 16 }, (_, i) => i / 16)));
  y = b.mul(y, one); // [N,4,H,W] · [N,1,H,W]
  y = b.sub(b.constant([1, 4, 1, 1], [1, 1, 1, 1]), y); // constant on the left
  const cc = b.add(b.constant([1, 4, 1, 1], [1, 2, 3, 4]), b.constant([1, 4, 1, 1], [0.5, 0.5, 0.5, 0.5])); // const ⊕ const
  b.channels.set(cc, 4);
  out(b.mul(y, cc));
  await check('broadcast', b.bytes(), [2, 3, 16, 16], ['wasm', 'cpu'], -1, 1);
});

test('Concat along channels, height, width and negative axes', async () => {
  for (const axis of [1, 2, 3, -1, -3]) {
    const { b, x, out } = graph(90);
    const a = b.conv(x, 3, { kernel: 3 });
    const c = b.relu(b.conv(x, 3, { kernel: 1 }));
    const cat = b.concat([a, c, x], axis);
    b.setMetadata('size_multiple', '1');
    b.output(cat, 'output', ['N', 'C', 'OH', 'OW']);
    void out;
    await check(`Concat axis ${axis}`, b.bytes(), [1, 3, 8, 8], ['wasm']);
  }
});
