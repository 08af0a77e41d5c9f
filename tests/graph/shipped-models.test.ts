/**
 * The shipped networks (models/*.onnx, made by training/export.py): the interpreter matches ONNX Runtime on a small
 * input, a load → save round trip changes no weight byte, and gradients reach the weights on the WASM backend.
 * A network that is not there yet is skipped with a message; when the file exists, the test runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { TinyOnnx } from '../helpers/tiny-onnx.ts';
import { loadTrainableNetwork } from '../../src-main/engine/graph/interpreter.ts';
import { decodeModel, graphInputs } from '../../src-main/engine/graph/onnx-file.ts';
import { ensureWasm, initializerBytes, parityWithOrt } from './graphs.ts';

const MODELS = ['deblur.onnx', 'motion.onnx', 'deblur-fine.onnx'];

/** The checks for one network file. */
async function checkNetwork(full: string, file: string): Promise<void> {
  await ensureWasm();
  const bytes = new Uint8Array(readFileSync(full));
  const net = loadTrainableNetwork(full, file.replace(/\.onnx$/, ''));
  try {
    // a small input: batch 1 (or the declared batch), the declared channels, ≥ 48 px in multiples of size_multiple
    const declared = graphInputs(decodeModel(bytes))[0].shape ?? [];
    const batch = typeof declared[0] === 'number' && declared[0] > 0 ? declared[0] : 1;
    const channels = net.inputChannels ?? 3;
    const side = (i: number) => (typeof declared[i] === 'number' && (declared[i] as number) > 0 ? (declared[i] as number) : net.sizeMultiple * Math.max(1, Math.ceil(48 / net.sizeMultiple)));
    const shape: [number, number, number, number] = [batch, channels, side(2), side(3)];

    const p = await parityWithOrt(bytes, shape, 4);
    assert.deepEqual(p.shape, p.ortShape, 'output shape');
    assert.ok(p.maxAbs < 1e-4, `${file}: max abs error vs ONNX Runtime ${p.maxAbs}`);

    const back = net.toOnnx();
    assert.deepEqual(initializerBytes(decodeModel(back)), initializerBytes(decodeModel(bytes)), 'weights unchanged by load → save');

    // gradients of every weight on the WASM training backend equal tfjs' pure-JS cpu backend (one small input)
    const gshape: [number, number, number, number] = [1, channels, net.sizeMultiple, net.sizeMultiple];
    const x0 = Float32Array.from({ length: gshape.reduce((a, b) => a * b, 1) }, (_, i) => ((i * 7919) % 1000) / 1000);
    const gradsOn = async (backend: string) => {
      await tf.setBackend(backend);
      const m = loadTrainableNetwork(bytes, `${file}-${backend}`);
      const x = tf.tensor4d(x0, gshape);
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(m.apply(x))) as tf.Scalar, m.variables);
      const out = { loss: (await value.data())[0], grads: m.variables.map((v) => Float32Array.from(grads[v.name].dataSync())) };
      tf.dispose([x, value, ...Object.values(grads)]);
      m.dispose();
      return out;
    };
    const ref = await gradsOn('cpu');
    const got = await gradsOn('wasm');
    assert.ok(Number.isFinite(got.loss) && Math.abs(got.loss - ref.loss) <= 1e-4 * Math.abs(ref.loss) + 1e-7, `loss ${got.loss} vs ${ref.loss}`);
    const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const scale = Math.max(...ref.grads.map(maxAbs));
    got.grads.forEach((g, i) => {
      const diff = maxAbs(g.map((v, k) => v - ref.grads[i][k]));
      // relative to the weight's own gradient; one that is ~0 (a zero-initialised head) against the network's scale
      const e = diff / Math.max(maxAbs(ref.grads[i]), 1e-3 * scale);
      assert.ok(e < 1e-4, `${file}: gradient of ${net.variableNames[i]}: relative error ${e}`);
    });
  } finally {
    net.dispose();
  }
}

for (const file of MODELS) {
  const full = fileURLToPath(new URL(`../../models/${file}`, import.meta.url));
  test(`shipped network models/${file}: ONNX Runtime parity, byte-identical round trip, gradients on wasm = cpu`, async (t) => {
    if (!existsSync(full)) {
      t.skip(`models/${file} not found (not exported yet): skipped`);
      return;
    }
    await checkNetwork(full, file);
  });
}

for (const file of MODELS) {
  const ioFile = fileURLToPath(new URL(`../../models/${file.replace(/\.onnx$/, '.io.json')}`, import.meta.url));
  const full = fileURLToPath(new URL(`../../models/${file}`, import.meta.url));
  test(`shipped network models/${file}: the interpreter reproduces PyTorch's output stored in the .io.json beside it`, async (t) => {
    if (!existsSync(full) || !existsSync(ioFile)) {
      t.skip(`models/${file} or its .io.json not found: skipped`);
      return;
    }
    await ensureWasm();
    const io = JSON.parse(readFileSync(ioFile, 'utf8')) as { input: { shape: number[]; data: number[] }; output: { shape: number[]; data: number[] }; tolerance?: number };
    const net = loadTrainableNetwork(full, file);
    try {
      const x = tf.tensor4d(io.input.data, io.input.shape as [number, number, number, number]);
      const y = net.apply(x);
      assert.deepEqual(y.shape, io.output.shape);
      const got = await y.data();
      let maxAbs = 0;
      for (let i = 0; i < got.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got[i] - io.output.data[i]));
      tf.dispose([x, y]);
      // PyTorch computed in float32 too; the input was rounded to 8 decimals when stored
      assert.ok(maxAbs < (io.tolerance ?? 1e-4), `${file}: max abs error vs PyTorch ${maxAbs}`);
    } finally {
      net.dispose();
    }
  });
}

test('the shipped-network checks themselves run on a stand-in U-Net file (strided encoder, pixel-shuffle decoder)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'neurmap-shipped-'));
  try {
    const b = new TinyOnnx(17);
    const x = b.input('input', ['N', 3, 'H', 'W']);
    const e1 = b.relu(b.conv(x, 8, { kernel: 3 }));
    const e2 = b.leakyRelu(b.conv(e1, 16, { kernel: 3, stride: 2, pad: 1 }), 0.1);
    const e3 = b.relu(b.conv(e2, 16, { kernel: 3, stride: 2, pad: 1 }));
    const d2 = b.depthToSpace(b.conv(e3, 64, { kernel: 3 }), 2, 'CRD');
    const d1 = b.depthToSpace(b.conv(b.concat([d2, e2], 1), 32, { kernel: 3 }), 2, 'CRD');
    const r = b.conv(b.relu(b.concat([d1, e1], 1)), 3, { kernel: 3, scale: 0.1 });
    b.output(b.clip(b.add(x, r), 0, 1), 'output', ['N', 3, 'H', 'W']);
    b.setMetadata('size_multiple', '4');
    const file = path.join(dir, 'deblur.onnx');
    await b.save(file);
    await checkNetwork(file, 'deblur.onnx');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
