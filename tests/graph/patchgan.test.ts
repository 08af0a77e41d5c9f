import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { createPatchGan, patchGanModel } from '../../src-main/engine/graph/patchgan.ts';
import { SUPPORTED_OPS, loadTrainableNetwork } from '../../src-main/engine/graph/interpreter.ts';
import { decodeModel, encodeModel, nodeAttributes, tensorDims, tensorToFloat32 } from '../../src-main/engine/graph/onnx-file.ts';
import { ensureWasm, initializerBytes, parityWithOrt, randomArray } from './graphs.ts';

test('PatchGAN structure (as training/models.py PatchD): 3 strided 4×4 convs of 64·2^k channels, InstanceNorm, LeakyReLU 0.2, a 3×3 1-channel conv', () => {
  const m = patchGanModel();
  const nodes = m.graph!.node!;
  for (const n of nodes) assert.ok(SUPPORTED_OPS.includes(n.opType!), `${n.opType} supported`);
  const convs = nodes.filter((n) => n.opType === 'Conv');
  const dims = new Map(m.graph!.initializer!.map((t) => [t.name!, tensorDims(t)]));
  assert.deepEqual(convs.map((n) => dims.get(n.input![1])), [[64, 3, 4, 4], [128, 64, 4, 4], [256, 128, 4, 4], [1, 256, 3, 3]]);
  assert.deepEqual(convs.map((n) => nodeAttributes(n).strides), [[2, 2], [2, 2], [2, 2], [1, 1]]);
  assert.equal(nodes.filter((n) => n.opType === 'InstanceNormalization').length, 2);
  const lrelu = nodes.filter((n) => n.opType === 'LeakyRelu');
  assert.equal(lrelu.length, 3);
  for (const n of lrelu) assert.ok(Math.abs((nodeAttributes(n).alpha as number) - 0.2) < 1e-7);
  assert.equal(m.metadataProps!.find((p) => p.key === 'size_multiple')!.value, '8');
  // Xavier uniform: U(−b, b), b = sqrt(6 / (fan_in + fan_out)); std b/√3
  const w = tensorToFloat32(m.graph!.initializer!.find((t) => t.name === 'conv1.weight')!);
  const bound = Math.sqrt(6 / (64 * 16 + 128 * 16));
  assert.ok(w.every((v) => Math.abs(v) <= bound));
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(std / (bound / Math.sqrt(3)) - 1) < 0.02, `std ${std} vs ${bound / Math.sqrt(3)}`);
});

test('PatchGAN initialisation is seeded: same seed same bytes, other seed other weights', () => {
  const a = initializerBytes(patchGanModel({ baseChannels: 4, seed: 5 }));
  const b = initializerBytes(patchGanModel({ baseChannels: 4, seed: 5 }));
  const c = initializerBytes(patchGanModel({ baseChannels: 4, seed: 6 }));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.get('conv0.weight'), c.get('conv0.weight'));
  assert.throws(() => patchGanModel({ baseChannels: 0 }), /baseChannels must be an integer ≥ 1/);
});

test('a fresh PatchGAN runs, is trainable, and round-trips through ONNX Runtime', async () => {
  await ensureWasm();
  const d = createPatchGan({ baseChannels: 4, seed: 2 });
  try {
    assert.equal(d.name, 'discriminator');
    assert.equal(d.sizeMultiple, 8);
    assert.equal(d.variables.length, 4 * 2 + 2 * 2);
    const x = tf.tensor4d(randomArray(2 * 3 * 32 * 32, 1, 0, 1), [2, 3, 32, 32]);
    const y = d.apply(x);
    assert.deepEqual(y.shape, [2, 1, 4, 4]);
    // gradients reach every weight except biases just before an InstanceNorm
    const { grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(d.apply(x), 1))) as tf.Scalar, d.variables);
    const nonZero = d.variables.filter((v) => tf.tidy(() => tf.max(tf.abs(grads[v.name])).dataSync()[0]) > 0).length;
    assert.ok(nonZero >= d.variables.length - 2, `${nonZero} variables with gradients`);
    // one optimiser step changes the weights; the written ONNX holds them and ONNX Runtime agrees with tfjs
    const opt = tf.train.adam(1e-2);
    opt.applyGradients(grads as Parameters<typeof opt.applyGradients>[0]);
    const y2 = d.apply(x);
    const bytes = d.toOnnx();
    const p = await parityWithOrt(bytes, [2, 3, 32, 32], 1);
    assert.ok(p.maxAbs < 1e-4, `ORT parity ${p.maxAbs}`);
    assert.deepEqual(p.ortShape, [2, 1, 4, 4]);
    const again = loadTrainableNetwork(bytes, 'd2');
    const y3 = again.apply(x);
    assert.equal(tf.tidy(() => tf.max(tf.abs(tf.sub(y3, y2))).dataSync()[0]), 0);
    assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(y2, y))).dataSync()[0]) > 0, 'training changed the output');
    assert.deepEqual(decodeModel(bytes).graph!.node!.map((n) => n.opType), patchGanModel({ baseChannels: 4 }).graph!.node!.map((n) => n.opType));
    again.dispose();
    opt.dispose();
    tf.dispose([x, y, y2, y3, ...Object.values(grads)]);
  } finally {
    d.dispose();
  }
});

test('the default-size PatchGAN matches ONNX Runtime on a small input', async () => {
  await ensureWasm();
  const m = patchGanModel({ seed: 9 });
  const p = await parityWithOrt(encodeModel(m), [1, 3, 32, 32], 2);
  assert.ok(p.maxAbs < 1e-4, `ORT parity ${p.maxAbs}`);
});
