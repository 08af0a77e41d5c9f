/**
 * Every gradient NeurMAP supplies (wasm kernels, gradient functions) against tfjs' pure-JS cpu backend on random
 * inputs: relative error < 1e-4. Where our gradient function is registered for all backends (dilated convs,
 * DepthToSpace, GatherNd), the cpu side runs an independent formulation that uses only tfjs' own gradients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { compareWasmToCpu, ensureBackends, randomInput, intInput, gradsOn, relErr, type Input } from './grad-check.ts';
import { WASM_KERNELS, GRADIENT_OVERRIDES } from '../../src-main/engine/tfjs/kernels/index.ts';
import { convLayer, type ConvActivation, type ExplicitPad } from '../../src-main/engine/tfjs/ops/conv-layer.ts';
import { instanceNormNhwc } from '../../src-main/engine/tfjs/ops/instance-norm.ts';

const TOL = 1e-4;
type T4 = tf.Tensor4D;
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

function assertClose(name: string, r: { value: number; grads: number[] }): void {
  assert.ok(r.value < TOL, `${name}: forward relative error ${r.value}`);
  r.grads.forEach((e, i) => assert.ok(e < TOL, `${name}: gradient ${i} relative error ${e}`));
}

/** Insert d−1 zeros between kernel taps (HWIO), with differentiable ops: a dilated kernel as a plain one. */
function dilateKernel(w: tf.Tensor, dh: number, dw: number): T4 {
  const [kh, kw, ci, co] = w.shape;
  let t = w.reshape([kh, 1, kw, 1, ci, co]);
  t = tf.pad(t, [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]]);
  t = t.reshape([kh * dh, kw * dw, ci, co]);
  return tf.slice(t, [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co]) as T4;
}

test('the wasm backend starts with the NeurMAP kernels registered', async () => {
  await ensureBackends();
  for (const k of WASM_KERNELS) assert.ok(tf.getKernel(k.kernelName, 'wasm'), `${k.kernelName} registered`);
  for (const g of GRADIENT_OVERRIDES) assert.ok(tf.getGradient(g.kernelName), `${g.kernelName} gradient`);
});

const convCases: Array<{ name: string; x: number[]; k: number[]; co: number; s: number | [number, number]; pad: Pad }> = [
  { name: '3×3 stride 1 same', x: [2, 9, 7, 3], k: [3, 3], co: 4, s: 1, pad: 'same' },
  { name: '3×3 stride 2 pad 1 (odd size)', x: [2, 9, 8, 3], k: [3, 3], co: 5, s: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  { name: '3×3 stride 2 same', x: [1, 11, 10, 4], k: [3, 3], co: 3, s: 2, pad: 'same' },
  { name: '4×4 stride 2 pad 1 (PatchGAN)', x: [2, 16, 12, 3], k: [4, 4], co: 6, s: 2, pad: 1 },
  { name: '2×2 stride 2 valid', x: [2, 8, 10, 3], k: [2, 2], co: 4, s: 2, pad: 'valid' },
  { name: '5×5 stride 1 valid', x: [1, 10, 9, 2], k: [5, 5], co: 3, s: 1, pad: 'valid' },
  { name: '1×1 stride 1', x: [2, 6, 5, 7], k: [1, 1], co: 3, s: 1, pad: 0 },
  { name: '3×3 stride 3 asymmetric pads', x: [1, 10, 11, 3], k: [3, 3], co: 2, s: 3, pad: [[0, 0], [0, 2], [1, 0], [0, 0]] },
  { name: '3×2 stride (2, 1) pad 1', x: [2, 9, 7, 3], k: [3, 2], co: 4, s: [2, 1], pad: [[0, 0], [1, 1], [0, 1], [0, 0]] },
  { name: '5×5 stride 2 pad 2 large pads', x: [1, 7, 6, 2], k: [5, 5], co: 3, s: 2, pad: [[0, 0], [2, 3], [2, 2], [0, 0]] },
];

for (const c of convCases) {
  test(`conv2d gradients on wasm (Conv2DBackpropFilter, Conv2DBackpropInput): ${c.name}`, async () => {
    const inputs: Input[] = [randomInput(c.x, 1), randomInput([c.k[0], c.k[1], c.x[3], c.co], 2, 0.5)];
    const f = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as T4, w as T4, c.s, c.pad);
    assertClose(c.name, await compareWasmToCpu(f, inputs));
  });
}

test('conv2d gradients with dilation 2 (our Conv2D gradient; reference: zero-dilated kernel)', async () => {
  for (const [x, k, pad] of [[[2, 9, 8, 3], [3, 3], 2], [[1, 10, 9, 2], [2, 3], 'valid'], [[1, 8, 8, 3], [3, 3], 'same']] as Array<[number[], number[], Pad]>) {
    const inputs: Input[] = [randomInput(x, 3), randomInput([k[0], k[1], x[3], 4], 4, 0.5)];
    const f = (xx: tf.Tensor, w: tf.Tensor) => tf.conv2d(xx as T4, w as T4, 1, pad, 'NHWC', 2);
    const ref = (xx: tf.Tensor, w: tf.Tensor) => tf.conv2d(xx as T4, dilateKernel(w, 2, 2), 1, pad);
    assertClose(`dilated ${x} ${k} ${pad}`, await compareWasmToCpu(f, inputs, ref));
  }
});

test('conv2dTranspose on wasm: forward (Conv2DBackpropInput) and its gradients (conv2d, Conv2DBackpropFilter)', async () => {
  const inputs: Input[] = [randomInput([2, 5, 6, 4], 5), randomInput([4, 4, 3, 4], 6, 0.5)];
  const f = (dy: tf.Tensor, w: tf.Tensor) => tf.conv2dTranspose(dy as T4, w as T4, [2, 10, 12, 3], 2, 'same');
  assertClose('conv2dTranspose', await compareWasmToCpu(f, inputs));
});

test('fused conv2d with bias and relu: gradients on wasm', async () => {
  const inputs: Input[] = [randomInput([2, 8, 8, 3], 7), randomInput([3, 3, 3, 5], 8, 0.5), randomInput([5], 9)];
  const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.fused.conv2d({ x: x as T4, filter: w as T4, bias: b, strides: 2, pad: 'same', activation: 'relu' });
  assertClose('fused conv2d', await compareWasmToCpu(f, inputs));
});

const depthwiseCases: Array<{ name: string; x: number[]; k: number; m: number; s: number; pad: Pad; d: number }> = [
  { name: '3×3 stride 1 same', x: [2, 8, 7, 3], k: 3, m: 1, s: 1, pad: 'same', d: 1 },
  { name: '3×3 stride 2 same, multiplier 2', x: [2, 9, 8, 3], k: 3, m: 2, s: 2, pad: 'same', d: 1 },
  { name: '4×4 stride 2 valid', x: [1, 10, 10, 2], k: 4, m: 1, s: 2, pad: 'valid', d: 1 },
];

for (const c of depthwiseCases) {
  test(`depthwise conv gradients on wasm (DepthwiseConv2dNativeBackprop*): ${c.name}`, async () => {
    const inputs: Input[] = [randomInput(c.x, 10), randomInput([c.k, c.k, c.x[3], c.m], 11, 0.5)];
    const f = (x: tf.Tensor, w: tf.Tensor) => tf.depthwiseConv2d(x as T4, w as T4, c.s, c.pad, 'NHWC', c.d);
    assertClose(c.name, await compareWasmToCpu(f, inputs));
  });
}

test('depthwise conv gradients with dilation 2 (our gradient; reference: zero-dilated kernel)', async () => {
  const inputs: Input[] = [randomInput([2, 9, 8, 3], 12), randomInput([3, 3, 3, 2], 13, 0.5)];
  const f = (x: tf.Tensor, w: tf.Tensor) => tf.depthwiseConv2d(x as T4, w as T4, 1, 'same', 'NHWC', 2);
  const ref = (x: tf.Tensor, w: tf.Tensor) => tf.depthwiseConv2d(x as T4, dilateKernel(w, 2, 2), 1, 'same');
  assertClose('depthwise dilated', await compareWasmToCpu(f, inputs, ref));
});

test('UnsortedSegmentSum on wasm: forward, and gather gradients along axes 0 and 1 with repeated indices', async () => {
  const ids = [0, 3, 3, 1, -1, 4, 0, 2, 3];
  const seg = (x: tf.Tensor, i: tf.Tensor) => tf.unsortedSegmentSum(x, i as tf.Tensor1D, 5);
  assertClose('unsortedSegmentSum', await compareWasmToCpu(seg, [randomInput([9, 4], 14), intInput([9], ids)]));
  const idx = [2, 0, 2, 5, 1, 2, 5, 5, 0, 3];
  const g0 = (x: tf.Tensor, i: tf.Tensor) => tf.gather(x, i as tf.Tensor1D, 0);
  assertClose('gather axis 0', await compareWasmToCpu(g0, [randomInput([6, 3], 15), intInput([10], idx)]));
  const g1 = (x: tf.Tensor, i: tf.Tensor) => tf.gather(x, i as tf.Tensor1D, 1);
  assertClose('gather axis 1', await compareWasmToCpu(g1, [randomInput([2, 6, 3], 16), intInput([10], idx)]));
  // Bilinear-sampling shape: a flat [pixels, channels] image sampled at many (repeated) positions.
  const r = Array.from({ length: 400 }, (_, k) => (k * 37) % 64);
  assertClose('gather pixels', await compareWasmToCpu(g0, [randomInput([64, 3], 17), intInput([400], r)]));
});

test('GatherNd gradient (ours; reference: gather on the flattened tensor)', async () => {
  const x = randomInput([2, 4, 5, 3], 18);
  const idx: number[] = [];
  const flat: number[] = [];
  for (let k = 0; k < 30; k++) {
    const n = k % 2, h = (k * 3) % 4, w = (k * 7) % 5;
    idx.push(n, h, w);
    flat.push((n * 4 + h) * 5 + w);
  }
  const f = (t: tf.Tensor, i: tf.Tensor) => tf.gatherND(t, i);
  const ref = (t: tf.Tensor) => tf.gather(t.reshape([40, 3]), tf.tensor1d(flat, 'int32'), 0);
  assertClose('gatherND', await compareWasmToCpu(f, [x, intInput([30, 3], idx)], ref));
});

test('DepthToSpace gradient (ours; reference: reshape/transpose)', async () => {
  const f = (x: tf.Tensor) => tf.depthToSpace(x as T4, 2, 'NHWC');
  const ref = (x: tf.Tensor) => {
    const [n, h, w, c] = x.shape;
    return x.reshape([n, h, w, 2, 2, c / 4]).transpose([0, 1, 3, 2, 4, 5]).reshape([n, h * 2, w * 2, c / 4]);
  };
  assertClose('depthToSpace', await compareWasmToCpu(f, [randomInput([2, 3, 4, 8], 19)], ref));
});

test('gradients of the other supported operators on wasm (relu, leakyRelu, clip, tanh, sigmoid, instance norm, concat, add/sub/mul)', async () => {
  const f = (x: tf.Tensor, y: tf.Tensor, s: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(x, [1, 2], true);
    const norm = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), s), b);
    const a = tf.leakyRelu(norm, 0.2);
    const c = tf.clipByValue(tf.mul(y, 2), -0.5, 0.7);
    const cat = tf.concat([tf.relu(a), tf.tanh(c), tf.sigmoid(tf.sub(a, y))], 3);
    return tf.add(cat, tf.mul(cat, cat));
  };
  const inputs: Input[] = [randomInput([2, 5, 6, 3], 20), randomInput([2, 5, 6, 3], 21), randomInput([3], 22), randomInput([3], 23)];
  assertClose('elementwise chain', await compareWasmToCpu(f, inputs));
});

test('gradients on wasm are also right at a training-like size (4×32×32×8, 3×3, strides 1 and 2)', async () => {
  for (const s of [1, 2]) {
    const inputs: Input[] = [randomInput([4, 32, 32, 8], 24), randomInput([3, 3, 8, 8], 25, 0.3)];
    const f = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as T4, w as T4, s, 'same');
    assertClose(`stride ${s}`, await compareWasmToCpu(f, inputs));
  }
});

test('matMul with transposed operands on wasm (ours: transpose, then the plain product): forward and gradients', async () => {
  for (const [ta, tb] of [[false, true], [true, false], [true, true]] as const) {
    const a = randomInput(ta ? [2, 5, 7] : [2, 7, 5], 40);
    const b = randomInput(tb ? [2, 4, 5] : [2, 5, 4], 41);
    assertClose(`matMul transposeA=${ta} transposeB=${tb}`, await compareWasmToCpu((x, y) => tf.matMul(x, y, ta, tb), [a, b]));
  }
  // 2-D, as in dA = dy · Bᵀ of a plain product
  assertClose('matMul 2-D transposeB', await compareWasmToCpu((x, y) => tf.matMul(x, y, false, true), [randomInput([6, 3], 42), randomInput([4, 3], 43)]));
});

test('relErr helper sanity', async () => {
  assert.equal(relErr([1, 2], [1, 2]), 0);
  assert.ok(Math.abs(relErr([1, 2.002], [1, 2]) - 0.001) < 1e-12);
  const r = await gradsOn('cpu', (x) => tf.mul(x, 3), [randomInput([3], 1)]);
  assert.equal(r.grads.length, 1);
});

test('convLayer (fused conv + bias + ReLU/LeakyReLU, our gradient) against tfjs conv2d + add + activation on cpu', async () => {
  const cases: Array<{ act: ConvActivation; s: number; d: number; pad: [[number, number], [number, number], [number, number], [number, number]]; bias: boolean }> = [
    { act: 'relu', s: 1, d: 1, pad: [[0, 0], [1, 1], [1, 1], [0, 0]], bias: true },
    { act: 'leakyrelu', s: 2, d: 1, pad: [[0, 0], [1, 1], [1, 1], [0, 0]], bias: true },
    { act: 'linear', s: 2, d: 1, pad: [[0, 0], [0, 1], [1, 0], [0, 0]], bias: false },
    { act: 'leakyrelu', s: 1, d: 2, pad: [[0, 0], [2, 2], [2, 2], [0, 0]], bias: true },
  ];
  for (const c of cases) {
    const inputs: Input[] = [randomInput([2, 9, 8, 3], 30), randomInput([3, 3, 3, 4], 31, 0.5), { ...randomInput([4], 32, 0.3), constant: !c.bias }];
    const o = { strides: [c.s, c.s] as [number, number], dilations: [c.d, c.d] as [number, number], pad: c.pad, activation: c.act, alpha: 0.2 };
    const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => convLayer(x as T4, w as T4, c.bias ? (b as tf.Tensor1D) : null, o);
    const ref = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
      const wk = c.d > 1 ? dilateKernel(w, c.d, c.d) : (w as T4);
      let y: tf.Tensor = tf.conv2d(x as T4, wk, c.s, c.pad);
      y = c.bias ? tf.add(y, b) : tf.add(y, tf.mul(b, 0));
      return c.act === 'relu' ? tf.relu(y) : c.act === 'leakyrelu' ? tf.leakyRelu(y, 0.2) : y;
    };
    const r = await compareWasmToCpu(f, inputs, ref);
    assert.equal(r.grads.length, c.bias ? 3 : 2);
    assertClose(`convLayer ${c.act} s${c.s} d${c.d}`, r);
  }
});

test('convLayer computes only the gradients that are asked for (no filter gradient for a fixed network, no input gradient for data)', async () => {
  await ensureBackends();
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    const x = tf.randomNormal([1, 6, 6, 2], 0, 1, 'float32', 1) as T4;
    const w = tf.randomNormal([3, 3, 2, 3], 0, 1, 'float32', 2) as T4;
    const b = tf.zeros([3]) as tf.Tensor1D;
    const o = { strides: [1, 1] as [number, number], dilations: [1, 1] as [number, number], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] as ExplicitPad, activation: 'relu' as const };
    const kernelsOf = async (f: () => tf.Tensor) => (await tf.profile(() => tf.dispose(f()))).kernels.map((k) => k.name);
    const onlyX = await kernelsOf(() => tf.grad((xx: tf.Tensor) => tf.sum(convLayer(xx as T4, w, b, o)))(x));
    assert.ok(onlyX.includes('Conv2DBackpropInput'), `${backend}: ${onlyX}`);
    assert.ok(!onlyX.includes('Conv2DBackpropFilter'), `${backend}: the filter gradient was computed though only dx was asked for`);
    const onlyW = await kernelsOf(() => tf.grad((ww: tf.Tensor) => tf.sum(convLayer(x, ww as T4, b, o)))(w));
    assert.ok(onlyW.includes('Conv2DBackpropFilter'), `${backend}: ${onlyW}`);
    assert.ok(!onlyW.includes('Conv2DBackpropInput'), `${backend}: the input gradient was computed though only dW was asked for`);
    tf.dispose([x, w, b]);
  }
});

test('instanceNormNhwc (our analytic gradient) against the tf.moments formula on cpu', async () => {
  const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => instanceNormNhwc(x as T4, g, b, 1e-3);
  const ref = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(x, [1, 2], true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-3))), g), b);
  };
  const x = randomInput([2, 7, 6, 5], 33);
  for (let i = 0; i < x.values.length; i++) x.values[i] = x.values[i] * 0.3 + 0.5 + (i % 5) * 0.1; // offset channels
  assertClose('instance norm', await compareWasmToCpu(f, [x, randomInput([5], 34), randomInput([5], 35)], ref));
});

test('the shared-data Identity on wasm: clones survive disposal of the original and vice versa', async () => {
  await ensureBackends();
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const a = tf.tensor1d([1, 2, 3]);
  const b = tf.clone(a);
  a.dispose();
  assert.deepEqual(Array.from(await b.data()), [1, 2, 3]);
  const c = tf.clone(b);
  b.dispose();
  assert.deepEqual(Array.from(await c.data()), [1, 2, 3]);
  c.dispose();
  assert.equal(tf.memory().numTensors, before);
  const v = tf.variable(tf.tensor1d([4, 5]));
  const snap = tf.clone(v);
  v.assign(tf.tensor1d([6, 7]));
  assert.deepEqual(Array.from(await snap.data()), [4, 5]);
  tf.dispose([v, snap]);
});

test('GatherV2 on wasm (ours): batchDims 1, wide slices, int32 data, out-of-range index; no-op transposes share data', async () => {
  const idx = [1, 0, 3, 3, 2, 1];
  const gb = (x: tf.Tensor, i: tf.Tensor) => tf.gather(x, i, 1, 1);
  assertClose('gather batchDims 1', await compareWasmToCpu(gb, [randomInput([2, 4, 5], 40), intInput([2, 3], idx)]));
  const wide = (x: tf.Tensor, i: tf.Tensor) => tf.gather(x, i, 0);
  assertClose('gather wide rows', await compareWasmToCpu(wide, [randomInput([5, 40], 41), intInput([6], [4, 0, 2, 2, 1, 3])]));
  await tf.setBackend('wasm');
  const ints = tf.gather(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), tf.tensor1d([2, 0], 'int32'));
  assert.deepEqual(Array.from(await ints.data()), [5, 6, 1, 2]);
  assert.equal(ints.dtype, 'int32');
  assert.throws(() => tf.gather(tf.zeros([3, 2]), tf.tensor1d([0, 3], 'int32')), /GatherV2: the index value 3 is not in \[0, 2\]/);
  const t = tf.tensor3d([1, 2, 3, 4, 5, 6], [1, 2, 3]);
  const p = tf.transpose(t, [1, 0, 2]);
  assert.deepEqual(p.shape, [2, 1, 3]);
  assert.deepEqual(Array.from(await p.data()), [1, 2, 3, 4, 5, 6]);
  const q = tf.transpose(t, [0, 2, 1]);
  assert.deepEqual(Array.from(await q.data()), [1, 4, 2, 5, 3, 6]);
  tf.dispose([ints, t, p, q]);
});
