/**
 * Micro-benchmark of the convolution gradient kernels (not a test; prints a table):
 *
 *   node --import tsx tools/bench/kernels.ts [--reps 5] [--no-cpu] [--cpu-full]
 *
 * ms per forward + backward (dX and dW) of a 3×3 conv 32→32 on a 4×32×128×128 (NCHW; NHWC inside) input, on
 * - wasm with NeurMAP's kernels (src-main/engine/tfjs/kernels/wasm-kernels.ts),
 * - wasm with its own kernels (the default path: Conv2DBackpropInput is a loop, Conv2DBackpropFilter is missing),
 * - tfjs' pure-JS cpu backend (the only default path that has every gradient; one run; its dW takes minutes at
 *   this size, so it runs only with --cpu-full),
 * and the same for a stride-2 conv (4×4 of a PatchGAN-like layer); then tf.gather forward + backward at the size of
 * the reblur module's bilinear sampling (GatherV2 and UnsortedSegmentSum).
 */
import * as tf from '@tensorflow/tfjs';
import { initTrainingBackend } from '../../src-main/engine/tfjs/backend.ts';
import { registerWasmKernels, unregisterWasmKernels } from '../../src-main/engine/tfjs/kernels/wasm-kernels.ts';

type T4 = tf.Tensor4D;

interface Case { name: string; n: number; h: number; w: number; ci: number; co: number; k: number; stride: number }

const CASES: Case[] = [
  { name: '3×3 conv 32→32, stride 1, 4×32×128×128', n: 4, h: 128, w: 128, ci: 32, co: 32, k: 3, stride: 1 },
  { name: '4×4 conv 32→64, stride 2, 4×32×128×128', n: 4, h: 128, w: 128, ci: 32, co: 64, k: 4, stride: 2 },
];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function timeIt(fn: () => tf.Tensor | tf.Tensor[], reps: number): Promise<number> {
  const once = async () => {
    const t0 = performance.now();
    const out = tf.tidy(fn);
    const list = Array.isArray(out) ? out : [out];
    await Promise.all(list.map((t) => t.data()));
    tf.dispose(list);
    return performance.now() - t0;
  };
  const first = await once(); // warm-up (the only run when reps = 0)
  if (reps <= 0) return first;
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await once());
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function measure(c: Case, reps: number, parts = new Set(['forward', 'dX', 'dW', 'forward+backward'])): Promise<Record<string, string>> {
  const x = tf.randomNormal([c.n, c.h, c.w, c.ci], 0, 1, 'float32', 1) as T4;
  const wt = tf.randomNormal([c.k, c.k, c.ci, c.co], 0, 0.1, 'float32', 2) as T4;
  const pad = c.stride === 1 ? 'same' : 1;
  const fwd = () => tf.conv2d(x, wt, c.stride, pad);
  const y = fwd();
  const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 3) as T4;
  y.dispose();
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as T4, b as T4, c.stride, pad), dy)));
  const row: Record<string, string> = {};
  const run = async (label: string, f: () => tf.Tensor | tf.Tensor[]) => {
    if (!parts.has(label)) {
      row[label] = 'skipped';
      return;
    }
    try {
      row[label] = (await timeIt(f, reps)).toFixed(1);
    } catch (e) {
      const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      row[label] = /not registered/.test(msg) ? 'kernel missing' : `failed: ${msg.slice(0, 50)}`;
    }
  };
  await run('forward', fwd);
  await run('dX', () => tf.conv2dTranspose(dy, wt, x.shape, c.stride, pad));
  await run('dW', () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [c.stride, c.stride], pad, dataFormat: 'NHWC', filterShape: wt.shape } as unknown as tf.NamedAttrMap) as tf.Tensor);
  await run('forward+backward', () => g([x, wt]));
  tf.dispose([x, wt, dy]);
  return row;
}

/** Gradient of tf.gather (UnsortedSegmentSum) for bilinear reblur-like sampling: 60 samples per pixel. */
async function measureGatherGrad(reps: number): Promise<string> {
  const pixels = 4 * 128 * 128;
  const samples = 60;
  const x = tf.randomNormal([pixels, 3], 0, 1, 'float32', 4);
  const idx = tf.tensor1d(Int32Array.from({ length: pixels * samples }, (_, i) => (i * 7919) % pixels), 'int32');
  const dy = tf.randomNormal([pixels * samples, 3], 0, 1, 'float32', 5);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idx, 0), dy)));
  try {
    return (await timeIt(() => g(x), reps)).toFixed(1);
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    return /not registered/.test(msg) ? 'kernel missing' : `failed: ${msg.slice(0, 50)}`;
  } finally {
    tf.dispose([x, idx, dy]);
  }
}

async function main(): Promise<void> {
  const reps = arg('--reps', 5);
  const withCpu = !process.argv.includes('--no-cpu');
  const cpuFull = process.argv.includes('--cpu-full');
  const report = await initTrainingBackend({ prefer: 'wasm' });
  console.log(`backend: ${report.reason}`);
  console.log(`median of ${reps} runs after one warm-up, ms\n`);
  for (const c of CASES) {
    console.log(c.name);
    const rows: Array<[string, Record<string, string>]> = [];
    await tf.setBackend('wasm');
    registerWasmKernels();
    await tf.setBackend('wasm');
    rows.push(['wasm + NeurMAP kernels', await measure(c, reps)]);
    unregisterWasmKernels();
    await tf.setBackend('wasm');
    rows.push(['wasm default kernels', await measure(c, Math.min(reps, 2))]);
    registerWasmKernels();
    await tf.setBackend('wasm');
    if (withCpu) {
      await tf.setBackend('cpu');
      rows.push(['cpu backend (pure JS)', await measure(c, 0, new Set(cpuFull ? ['forward', 'dX', 'dW', 'forward+backward'] : ['forward', 'dX']))]);
      await tf.setBackend('wasm');
    }
    const cols = ['forward', 'dX', 'dW', 'forward+backward'];
    const w0 = Math.max(...rows.map(([n]) => n.length));
    const width = (k: string) => Math.max(k.length, ...rows.map(([, r]) => (r[k] ?? '').length));
    console.log(`  ${''.padEnd(w0)}  ${cols.map((k) => k.padStart(width(k))).join('  ')}`);
    for (const [n, r] of rows) console.log(`  ${n.padEnd(w0)}  ${cols.map((k) => (r[k] ?? '').padStart(width(k))).join('  ')}`);
    console.log('');
  }
  console.log('gather forward + backward (UnsortedSegmentSum), 4×128×128 pixels × 3 channels, 60 samples per pixel');
  await tf.setBackend('wasm');
  console.log(`  wasm + NeurMAP kernels  ${await measureGatherGrad(reps)}`);
  unregisterWasmKernels();
  await tf.setBackend('wasm');
  console.log(`  wasm default kernels    ${await measureGatherGrad(1)}`);
  registerWasmKernels();
  await tf.setBackend('wasm');
  if (withCpu && cpuFull) {
    await tf.setBackend('cpu');
    console.log(`  cpu backend (pure JS)   ${await measureGatherGrad(0)}`);
    await tf.setBackend('wasm');
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
