import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { initTrainingBackend, wasmBinariesDir, describeKernelRegistrations } from '../../src-main/engine/tfjs/backend.ts';

test('auto: without the native bindings the WASM backend runs, with the kernels registered and the reason given', async () => {
  const r = await initTrainingBackend({ prefer: 'auto' });
  if (r.name === 'tensorflow' || r.name === 'tensorflow-gpu') {
    // a machine with @tensorflow/tfjs-node installed: that is the right choice
    assert.equal(r.tfBackend, 'tensorflow');
    assert.match(r.reason, /native TensorFlow bindings/);
    return;
  }
  assert.equal(r.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(r.reason, /^wasm: no native TensorFlow bindings installed; WebAssembly/);
  assert.ok(r.notes.some((n) => /^@tensorflow\/tfjs-node (not installed|not available|failed to load)/.test(n)), r.notes.join('; '));
  assert.ok(r.kernels.includes('Conv2DBackpropFilter') && r.kernels.includes('UnsortedSegmentSum'));
  assert.ok(r.gradients.includes('DepthToSpace'));
  for (const k of r.kernels) assert.ok(tf.getKernel(k, 'wasm'), k);
  assert.ok(r.wasm && r.wasm.threads >= 1);
  // memoised
  assert.equal(await initTrainingBackend({ prefer: 'auto' }), r);
});

test('the wasm binaries are found in the package folder', () => {
  const dir = wasmBinariesDir();
  assert.ok(dir.endsWith(path.sep));
  assert.ok(existsSync(path.join(dir, 'tfjs-backend-wasm.wasm')) && existsSync(path.join(dir, 'tfjs-backend-wasm-simd.wasm')));
});

test('prefer=cpu selects the pure-JS backend and says so; prefer=wasm switches back', async () => {
  const c = await initTrainingBackend({ prefer: 'cpu' });
  assert.equal(c.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.match(c.reason, /^cpu: selected/);
  const w = await initTrainingBackend({ prefer: 'wasm' });
  assert.equal(w.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(w.notes.join(' '), /native backends not tried/);
  assert.match(w.reason, /^wasm: selected; WebAssembly/);
});

test('NEURMAP_TRAINING_BACKEND is validated', async () => {
  const old = process.env.NEURMAP_TRAINING_BACKEND;
  process.env.NEURMAP_TRAINING_BACKEND = 'gpu-please';
  try {
    await assert.rejects(initTrainingBackend(), /NEURMAP_TRAINING_BACKEND='gpu-please' is not one of auto, native, wasm, cpu/);
  } finally {
    if (old === undefined) delete process.env.NEURMAP_TRAINING_BACKEND;
    else process.env.NEURMAP_TRAINING_BACKEND = old;
  }
});

test('every registration is described with its reason', () => {
  const lines = describeKernelRegistrations();
  assert.ok(lines.some((l) => l.startsWith('wasm kernel Conv2DBackpropInput: ')));
  assert.ok(lines.some((l) => l.startsWith('gradient Conv2D: ')));
});
