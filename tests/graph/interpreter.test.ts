/**
 * The interpreter as a TrainableNetwork: variables, write-back (byte-identical round trip, trained values land in
 * the right initializers and run in ONNX Runtime), clear errors, and gradients of an interpreted network on WASM
 * equal to tfjs' cpu backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TinyOnnx, tinyDeblur } from '../helpers/tiny-onnx.ts';
import { loadTrainableNetwork, OnnxGraphError } from '../../src-main/engine/graph/interpreter.ts';
import { decodeModel, encodeModel, DataType } from '../../src-main/engine/graph/onnx-file.ts';
import { ensureWasm, everyOpGraph, graph, initializerBytes, parityWithOrt, randomArray } from './graphs.ts';
import { relErr } from '../tfjs/grad-check.ts';

test('float initializers become variables in graph order; Clip bounds stay constants; sizeMultiple from metadata', async () => {
  await ensureWasm();
  const b = everyOpGraph();
  const model = b.model();
  const net = loadTrainableNetwork(b.bytes(), 'every');
  try {
    const clipBounds = new Set((model.graph!.node!.filter((n) => n.opType === 'Clip')).flatMap((n) => n.input!.slice(1)));
    const expected = model.graph!.initializer!.map((t) => t.name!).filter((n) => !clipBounds.has(n));
    assert.deepEqual([...net.variableNames], expected);
    assert.equal(net.variables.length, expected.length);
    assert.ok(net.variables.every((v) => v.trainable && v.dtype === 'float32'));
    assert.equal(net.sizeMultiple, 16);
    assert.equal(net.inputChannels, 3);
    assert.equal(net.outputChannels, 3);
  } finally {
    net.dispose();
  }
  const m8 = loadTrainableNetwork(tinyDeblur().setMetadata('size_multiple', '8').bytes(), 'd');
  assert.equal(m8.sizeMultiple, 8);
  m8.dispose();
});

test('load → toOnnx without training changes no byte of any weight, and the graph structure is the same', async () => {
  await ensureWasm();
  for (const b of [everyOpGraph(), tinyDeblur()]) {
    const src = b.bytes();
    const net = loadTrainableNetwork(src, 'rt');
    const back = net.toOnnx();
    net.dispose();
    const a = decodeModel(src);
    const c = decodeModel(back);
    assert.deepEqual(initializerBytes(c), initializerBytes(a));
    assert.deepEqual(c.graph!.node!.map((n) => [n.opType, n.input, n.output]), a.graph!.node!.map((n) => [n.opType, n.input, n.output]));
    assert.deepEqual(c.metadataProps, a.metadataProps);
  }
});

test('a float_data (not raw_data) initializer also round-trips byte-identically', async () => {
  await ensureWasm();
  const model = tinyDeblur().model();
  const t = model.graph!.initializer![0];
  const values = Array.from(new Float32Array(t.rawData!.buffer.slice(t.rawData!.byteOffset, t.rawData!.byteOffset + t.rawData!.byteLength)));
  model.graph!.initializer![0] = { name: t.name, dims: t.dims, dataType: DataType.FLOAT, floatData: values };
  const src = encodeModel(model);
  const net = loadTrainableNetwork(src, 'fd');
  const back = decodeModel(net.toOnnx());
  net.dispose();
  assert.deepEqual(back.graph!.initializer![0].floatData, values);
  assert.ok(!back.graph!.initializer![0].rawData?.length);
});

test('trained values are written into the right initializers (OIHW) and ONNX Runtime runs the result like tfjs', async () => {
  await ensureWasm();
  const b = everyOpGraph(12);
  const net = loadTrainableNetwork(b.bytes(), 'train');
  // change every other variable
  net.variables.forEach((v, i) => {
    if (i % 2 === 0) v.assign(tf.tidy(() => tf.add(v, tf.randomUniform(v.shape, -0.05, 0.05, 'float32', i))));
  });
  const x = tf.tensor4d(randomArray(3 * 32 * 32, 5, 0, 1), [1, 3, 32, 32]);
  const mine = net.apply(x);
  const bytes = net.toOnnx();
  const before = initializerBytes(decodeModel(b.bytes()));
  const after = initializerBytes(decodeModel(bytes));
  net.variableNames.forEach((nm, i) => {
    const same = Buffer.compare(Buffer.from(before.get(nm)!), Buffer.from(after.get(nm)!)) === 0;
    assert.equal(same, i % 2 !== 0, `${nm} ${i % 2 === 0 ? 'changed' : 'untouched'}`);
  });
  // reloading the written model gives the same function; ORT agrees with tfjs
  const again = loadTrainableNetwork(bytes, 'again');
  const y2 = again.apply(x);
  assert.ok(relErr(await y2.data(), await mine.data()) === 0);
  const p = await parityWithOrt(bytes, [1, 3, 32, 32], 5);
  assert.ok(p.maxAbs < 1e-4, `ORT parity after training ${p.maxAbs}`);
  tf.dispose([x, mine, y2]);
  net.dispose();
  again.dispose();
});

test('an unsupported operator is named in a clear error, with the supported list', async () => {
  const { b, x, out } = graph(1);
  out(b.node('Resize', [b.relu(x)]));
  const dir = mkdtempSync(path.join(tmpdir(), 'neurmap-graph-'));
  try {
    const file = path.join(dir, 'model.onnx');
    writeFileSync(file, b.bytes());
    assert.throws(() => loadTrainableNetwork(file, 'm'), (e: Error) => {
      assert.ok(e instanceof OnnxGraphError);
      assert.match(e.message, /^model\.onnx uses the operator 'Resize', which NeurMAP Studio's trainer does not support; supported: Add, Clip, Concat, Conv, DepthToSpace, Identity, InstanceNormalization, LeakyRelu, Mul, Relu, Sigmoid, Sub, Tanh$/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const c = graph(2);
  const n = c.b.node('FusedConv', [c.x]);
  c.b.nodes[c.b.nodes.length - 1].domain = 'com.microsoft';
  c.out(c.b.node('Pad', [n]));
  assert.throws(() => loadTrainableNetwork(c.b.bytes(), 'custom'), /custom uses the operators 'com\.microsoft\.FusedConv', 'Pad'/);
});

test('mismatched shapes and bad attributes give clear errors', async () => {
  await ensureWasm();
  {
    // conv weight expects 4 input channels, input declares 3
    const { b, x, out } = graph(3);
    b.channels.set(x, 4);
    out(b.conv(x, 2, { kernel: 3 }));
    assert.throws(() => loadTrainableNetwork(b.bytes(), 'w'), /node '.*' \(Conv\): weight \[2, 4, 3, 3\] expects 4 input channels, but input 'input' has 3/);
  }
  {
    const { b, x, out } = graph(4);
    const h = b.conv(x, 4, { kernel: 1 });
    out(b.node('InstanceNormalization', [h, b.constant([3], [1, 1, 1]), b.constant([3], [0, 0, 0])]));
    assert.throws(() => loadTrainableNetwork(b.bytes(), 'in'), /InstanceNormalization\): scale \[3\] and B \[3\] do not match the input's 4 channels/);
  }
  {
    const { b, x, out } = graph(5);
    out(b.add(b.conv(x, 4, { kernel: 1 }), b.conv(x, 2, { kernel: 1 })));
    assert.throws(() => loadTrainableNetwork(b.bytes(), 'add'), /\(Add\): channel counts 4 and 2 do not broadcast/);
  }
  {
    const { b, x, out } = graph(6);
    out(b.conv(x, 4, { kernel: 3, group: 3, weights: new Array(4 * 1 * 9).fill(0.1) }));
    assert.throws(() => loadTrainableNetwork(b.bytes(), 'g'), /group=3: NeurMAP Studio's trainer supports Conv with group=1 only/);
  }
  {
    const { b, x, out } = graph(7);
    out(b.depthToSpace(b.conv(x, 6, { kernel: 1 }), 2));
    assert.throws(() => loadTrainableNetwork(b.bytes(), 'd2s'), /input has 6 channels, not a multiple of blocksize² = 4/);
  }
  {
    const { b, x, out } = graph(8);
    b.outputs.length = 0;
    out(b.conv(x, 2, { kernel: 1 }));
    b.outputs[0].type!.tensorType!.shape!.dim![1] = { dimValue: 5 };
    assert.throws(() => loadTrainableNetwork(b.bytes(), 'o'), /declared with 5 channels but the graph computes 2/);
  }
  {
    // run-time: spatial sizes that do not match in a Concat along channels
    const { b, x, out } = graph(9);
    const down = b.conv(x, 3, { kernel: 3, stride: 2, pad: 1 });
    out(b.concat([x, down], 1));
    const net = loadTrainableNetwork(b.bytes(), 'cat');
    const inp = tf.zeros([1, 3, 16, 16]) as tf.Tensor4D;
    assert.throws(() => net.apply(inp), /node '.*' \(Concat\) failed on inputs input \[1×16×16×3\], .*\[1×8×8×3\]/);
    // input checks: channels and size multiple
    assert.throws(() => net.apply(tf.zeros([1, 4, 16, 16]) as tf.Tensor4D), /channels must be 3/);
    assert.throws(() => net.apply(tf.zeros([1, 3, 20, 16]) as tf.Tensor4D), /multiples of 16/);
    inp.dispose();
    net.dispose();
  }
  assert.throws(() => loadTrainableNetwork(new Uint8Array([1, 2, 3, 4]), 'junk'), /junk: not a valid ONNX model/);
  assert.throws(() => loadTrainableNetwork('/nonexistent/deblur.onnx', 'x'), /deblur\.onnx: cannot read model file/);
  assert.throws(() => loadTrainableNetwork(tinyDeblur().setMetadata('size_multiple', 'abc').bytes(), 's'), /size_multiple 'abc' is not a positive integer/);
});

test('apply is differentiable w.r.t. input and variables; gradients on wasm equal the cpu backend', async () => {
  await ensureWasm();
  const bytes = everyOpGraph(13).bytes();
  const x0 = randomArray(2 * 3 * 32 * 32, 9, 0, 1);
  const r0 = randomArray(2 * 3 * 32 * 32, 10, -1, 1);
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const net = loadTrainableNetwork(bytes, `grad-${backend}`);
    const x = tf.tensor4d(x0, [2, 3, 32, 32]);
    const r = tf.tensor4d(r0, [2, 3, 32, 32]);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(net.apply(x), r)) as tf.Scalar, net.variables);
    const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(net.apply(xx as tf.Tensor4D), r)))(x);
    const out = { value: (await value.data())[0], grads: net.variables.map((v) => grads[v.name].dataSync().slice()), dx: dx.dataSync().slice() };
    tf.dispose([x, r, value, dx, ...Object.values(grads)]);
    net.dispose();
    return out;
  };
  const ref = await run('cpu');
  const got = await run('wasm');
  assert.ok(Math.abs(got.value - ref.value) <= 1e-4 * Math.abs(ref.value) + 1e-6, `loss ${got.value} vs ${ref.value}`);
  assert.ok(relErr(got.dx, ref.dx) < 1e-4, `input gradient ${relErr(got.dx, ref.dx)}`);
  // A bias just before an InstanceNormalization has a zero gradient (normalisation removes it), computed as a sum
  // of large terms that cancel: rounding noise only. Such variables must stay negligible on both backends; every
  // other variable must match to 1e-4 relative.
  const maxAbs = (g: ArrayLike<number>): number => {
    let m = 0;
    for (let i = 0; i < g.length; i++) m = Math.max(m, Math.abs(g[i]));
    return m;
  };
  const scale = Math.max(...ref.grads.map(maxAbs));
  let compared = 0;
  got.grads.forEach((g, i) => {
    const own = maxAbs(ref.grads[i]);
    if (own < 1e-5 * scale) {
      assert.ok(maxAbs(g) < 1e-5 * scale, `variable ${i}: zero gradient on cpu, ${maxAbs(g)} on wasm`);
      return;
    }
    compared++;
    const e = relErr(g, ref.grads[i]);
    assert.ok(e < 1e-4, `variable ${i}: relative error ${e}`);
  });
  assert.ok(compared >= got.grads.length - 2, `${compared} of ${got.grads.length} variables compared`);
  assert.ok(ref.grads.some((g) => g.some((v) => v !== 0)), 'some gradient is non-zero');
});

test('dispose frees the variables; apply after dispose is an error; no tensors leak per apply or toOnnx', async () => {
  await ensureWasm();
  const net = loadTrainableNetwork(tinyDeblur().bytes(), 'leak');
  const x = tf.zeros([1, 3, 16, 16]) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) net.apply(x).dispose();
  net.toOnnx();
  assert.equal(tf.memory().numTensors, before);
  const withNet = tf.memory().numTensors;
  net.dispose();
  assert.equal(tf.memory().numTensors, withNet - 4);
  assert.throws(() => net.apply(x), /disposed/);
  x.dispose();
  // the same model can be loaded twice (variable names are unique)
  const a = loadTrainableNetwork(tinyDeblur().bytes(), 'twice');
  const b2 = loadTrainableNetwork(tinyDeblur().bytes(), 'twice');
  a.dispose();
  b2.dispose();
});

test('a graph exported with batch 1 (as torch.onnx.export does) trains on batches of any size', async () => {
  await ensureWasm();
  const b = new TinyOnnx(3); // input declared [1, 3, H, W]
  const x = b.input();
  b.output(b.relu(b.conv(x, 3, { kernel: 3 })));
  const net = loadTrainableNetwork(b.bytes(), 'b1');
  const y = net.apply(tf.zeros([4, 3, 16, 16]) as tf.Tensor4D);
  assert.deepEqual(y.shape, [4, 3, 16, 16]);
  y.dispose();
  net.dispose();
});

test('training steps on wasm leak no tensors (custom gradients, fused layers, instance norm)', async () => {
  await ensureWasm();
  await tf.setBackend('wasm');
  const net = loadTrainableNetwork(everyOpGraph(14).bytes(), 'steps');
  const x = tf.tensor4d(randomArray(2 * 3 * 16 * 16, 3, 0, 1), [2, 3, 16, 16]);
  const opt = tf.train.adam(1e-3);
  const step = () => opt.minimize(() => tf.mean(tf.square(tf.sub(net.apply(x), x))) as tf.Scalar, true, net.variables)!;
  const losses: number[] = [];
  losses.push((await step().data())[0]);
  const after1 = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const l = step();
    losses.push((await l.data())[0]);
    l.dispose();
  }
  assert.equal(tf.memory().numTensors, after1);
  assert.ok(losses[3] < losses[0], `loss goes down: ${losses.join(', ')}`);
  opt.dispose();
  x.dispose();
  net.dispose();
});
