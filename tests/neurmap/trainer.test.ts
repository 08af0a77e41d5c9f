import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { trainNeurmap, CHECKPOINT_FILE, LOG_FILE, type TrainOptions } from '../../src-main/engine/neurmap/trainer.ts';
import { CheckpointCorruptError, loadCheckpoint } from '../../src-main/engine/neurmap/checkpoint.ts';
import { parseTrainingConfig, type TrainingConfigInput } from '../../src-main/engine/neurmap/config.ts';
import { IterationCore, type NeurmapNetworks } from '../../src-main/engine/neurmap/iteration.ts';
import { TrainingLog } from '../../src-main/engine/neurmap/training-log.ts';
import type { LossValues } from '../../src-main/engine/neurmap/iteration.ts';
import { createTinyNetwork, disposeNetworks, MemoryBatchSource, mean, tempDir, tinyNetworks, useCpu } from './helpers/fixtures.ts';

before(useCpu);

const CROP = 16;
const FAST_LR = { G: 3e-3, M: 1e-3, D: 1e-3 };

function config(extra: TrainingConfigInput = {}): TrainingConfigInput {
  return { cropSize: CROP, iterations: 4, seed: 3, optimizer: { lr: FAST_LR }, ...extra };
}

async function run(nets: NeurmapNetworks, opts: Partial<TrainOptions> & { config: TrainingConfigInput }): Promise<{ losses: LossValues[]; result: Awaited<ReturnType<typeof trainNeurmap>> }> {
  const losses: LossValues[] = [];
  const result = await trainNeurmap({ compute: { kind: 'local', networks: nets }, data: new MemoryBatchSource(CROP), onIteration: (_, l) => losses.push(l), ...opts });
  return { losses, result };
}

function snapshot(vars: tf.Variable[]): Float32Array[] {
  return vars.map((v) => (v.dataSync() as Float32Array).slice());
}

function changed(before: Float32Array[], vars: tf.Variable[]): boolean {
  return vars.some((v, i) => {
    const now = v.dataSync();
    return now.some((x, k) => x !== before[i][k]);
  });
}

test('one iteration runs with every ablation flag, reporting every loss it computes', async () => {
  const cases: Array<[string, TrainingConfigInput['ablations'], (l: LossValues) => void]> = [
    ['reference', {}, (l) => ['M.reblurMse', 'M.reblurMsSsim', 'M.offsetTv', 'D.total', 'G.content', 'G.reblur', 'G.sharpPrior', 'G.naturalPrior', 'G.imageTv', 'G.motionTv'].forEach((k) => assert.ok(k in l, k))],
    ['noReblur', { noReblur: true }, (l) => assert.ok(!('G.reblur' in l) && !('M.reblurMse' in l) && 'M.sharpZero' in l && 'G.sharpPrior' in l)],
    ['noMotionNetwork', { noMotionNetwork: true }, (l) => assert.ok(!Object.keys(l).some((k) => k.startsWith('M.')) && !('G.sharpPrior' in l) && 'G.content' in l && 'G.naturalPrior' in l)],
    ['sharpVsBlurryDiscriminator', { sharpVsBlurryDiscriminator: true }, (l) => assert.ok('D.real' in l && 'D.fake' in l)],
    ['noTV', { noTV: true }, (l) => assert.ok('M.offsetTv' in l)],
    ['all at once', { noReblur: true, noTV: true, sharpVsBlurryDiscriminator: true }, (l) => assert.ok('G.content' in l)],
  ];
  for (const [name, ablations, check] of cases) {
    const nets = tinyNetworks(1, 4);
    const { losses, result } = await run(nets, { config: config({ iterations: 1, ablations }) });
    assert.equal(result.status, 'completed', name);
    assert.equal(losses.length, 1, name);
    for (const [k, v] of Object.entries(losses[0])) assert.ok(Number.isFinite(v), `${name}: ${k} = ${v}`);
    check(losses[0]);
    disposeNetworks(nets);
  }
});

test('stop-gradients: each step changes only its own network; G still learns through M and D', async () => {
  const nets = tinyNetworks(2, 4);
  const M = nets.M!;
  const batch = await new MemoryBatchSource(CROP).batch(0);
  const lr = { G: 1e-2, M: 1e-2, D: 1e-2 };
  const g0 = snapshot(nets.G.variables);
  const m0 = snapshot(M.variables);
  const d0 = snapshot(nets.D.variables);
  let m1: Float32Array[] = [];
  let d1: Float32Array[] = [];
  const seen: string[] = [];
  const core = new IterationCore(nets, parseTrainingConfig(config()));
  core.iterate(batch, lr, (role, r) => {
    seen.push(role);
    if (role === 'D') {
      // M has been updated by now, and nothing else.
      assert.ok(changed(m0, M.variables), 'M updated');
      assert.ok(!changed(g0, nets.G.variables), "M's update leaves G");
      assert.ok(!changed(d0, nets.D.variables), "M's update leaves D");
      m1 = snapshot(M.variables);
    }
    if (role === 'G') {
      assert.ok(changed(d0, nets.D.variables), 'D updated');
      assert.ok(!changed(g0, nets.G.variables) && !changed(m1, M.variables), "D's update leaves G and M");
      d1 = snapshot(nets.D.variables);
    }
    return { grads: r.grads, poolMean: [0.1, 0.1] };
  });
  assert.deepEqual(seen, ['M', 'D', 'G']);
  assert.ok(changed(g0, nets.G.variables), 'G updated');
  assert.ok(!changed(m1, M.variables) && !changed(d1, nets.D.variables), "G's update leaves M and D");
  core.dispose();

  // The sharp-image prior alone still gives G a gradient: it flows through the (fixed) M into G.
  const priorOnly = new IterationCore(
    nets,
    parseTrainingConfig(config({ weights: { generator: { content: 0, reblur: 0, naturalPrior: 0, sharpPrior: 1 } } })),
  );
  let norm = 0;
  priorOnly.iterate(batch, { G: 0, M: 0, D: 0 }, (role, r) => {
    if (role === 'G') norm = tf.tidy(() => tf.addN(r.grads.map((g) => tf.sum(tf.abs(g)))).dataSync()[0]);
    return { grads: r.grads, poolMean: [0, 0] };
  });
  assert.ok(norm > 0, 'the sharp prior reaches G through M');
  priorOnly.dispose();
  disposeNetworks(nets);
});

test('no tensor leaks across iterations', async () => {
  const nets = tinyNetworks(3, 4);
  const counts: number[] = [];
  await run(nets, { config: config({ iterations: 4 }), onIteration: () => counts.push(tf.memory().numTensors) });
  assert.equal(new Set(counts).size, 1, `live tensors per iteration: ${counts.join(', ')}`);
  const before = tf.memory().numTensors;
  disposeNetworks(nets);
  assert.ok(tf.memory().numTensors < before);
});

test('30 iterations with tiny networks lower the paired content loss and the reblur loss', async () => {
  const nets: NeurmapNetworks = {
    G: createTinyNetwork('deblur', { seed: 1, width: 4, residualScale: 4 }),
    M: createTinyNetwork('motion', { seed: 2, width: 4 }),
    D: createTinyNetwork('discriminator', { seed: 3, width: 4 }),
  };
  const { losses } = await run(nets, { config: config({ iterations: 30 }) });
  const series = (k: string) => losses.map((l) => l[k]);
  const first = (k: string) => mean(series(k).slice(0, 5));
  const last = (k: string) => mean(series(k).slice(-5));
  assert.ok(last('G.content') < 0.85 * first('G.content'), `content ${first('G.content')} → ${last('G.content')}`);
  assert.ok(last('G.reblur') < 0.5 * first('G.reblur'), `G reblur ${first('G.reblur')} → ${last('G.reblur')}`);
  assert.ok(last('M.reblurMse') < 0.5 * first('M.reblurMse'), `M reblur ${first('M.reblurMse')} → ${last('M.reblurMse')}`);
  disposeNetworks(nets);
});

test('a resumed run continues exactly as an uninterrupted one', async () => {
  const cfg = config({ iterations: 5, checkpointEvery: 2 });
  const straight = tinyNetworks(4, 4);
  const { losses: expected } = await run(straight, { config: cfg });
  disposeNetworks(straight);

  const dir = await tempDir('resume');
  const first = tinyNetworks(4, 4);
  const a = await run(first, { config: cfg, runDir: dir, stopAtIteration: 3 });
  disposeNetworks(first);
  assert.equal(a.result.status, 'stopped');
  assert.equal((await loadCheckpoint(path.join(dir, CHECKPOINT_FILE)))!.iteration, 3);

  // Different initial weights: everything must come from the checkpoint.
  const second = tinyNetworks(99, 4);
  const b = await run(second, { config: cfg, runDir: dir });
  disposeNetworks(second);
  assert.equal(b.result.status, 'completed');
  assert.equal(b.result.resumedFrom, 3);
  const resumed = [...a.losses, ...b.losses];
  assert.equal(resumed.length, 5);
  for (let i = 0; i < 5; i++) {
    for (const [k, v] of Object.entries(expected[i])) assert.ok(Math.abs(resumed[i][k] - v) <= 1e-6 * Math.max(1, Math.abs(v)), `iteration ${i} ${k}: ${resumed[i][k]} vs ${v}`);
  }
  const log = await TrainingLog.read(path.join(dir, LOG_FILE));
  assert.deepEqual(
    log.map((r) => r.iteration),
    [0, 1, 2, 3, 4],
  );
  assert.ok(log[0].lr.G! > log[4].lr.G!, 'learning rate decays');
});

test('a corrupt checkpoint is refused with a clear message and never written over', async () => {
  const dir = await tempDir('corrupt');
  const nets = tinyNetworks(5, 4);
  await run(nets, { config: config({ iterations: 4 }), runDir: dir, stopAtIteration: 2 });
  const file = path.join(dir, CHECKPOINT_FILE);
  const bytes = await fs.readFile(file);
  bytes[bytes.length - 7] ^= 0x5a;
  await fs.writeFile(file, bytes);
  const hash = () => fs.readFile(file).then((b) => crypto.createHash('sha256').update(b).digest('hex'));
  const before = await hash();
  await assert.rejects(run(nets, { config: config({ iterations: 4 }), runDir: dir }), (err: unknown) => {
    assert.ok(err instanceof CheckpointCorruptError);
    assert.match((err as Error).message, /corrupt.*checksum mismatch.*left untouched/);
    return true;
  });
  await assert.rejects(run(nets, { config: config({ iterations: 4 }), runDir: dir, resume: false }), CheckpointCorruptError);
  assert.equal(await hash(), before);
  assert.deepEqual((await fs.readdir(dir)).sort(), [CHECKPOINT_FILE, LOG_FILE].sort());
  disposeNetworks(nets);
});

test('starting fresh over an existing checkpoint, or resuming with another configuration, is refused', async () => {
  const dir = await tempDir('exists');
  const nets = tinyNetworks(6, 4);
  await run(nets, { config: config({ iterations: 2 }), runDir: dir });
  await assert.rejects(run(nets, { config: config({ iterations: 2 }), runDir: dir, resume: false }), /already holds a checkpoint/);
  await assert.rejects(run(nets, { config: config({ iterations: 3, weights: { generator: { sharpPrior: 2 } } }), runDir: dir }), /weights\.generator\.sharpPrior: 0\.5 → 2/);
  assert.equal((await loadCheckpoint(path.join(dir, CHECKPOINT_FILE)))!.iteration, 2);
  disposeNetworks(nets);
});

test('cancel stops between iterations and keeps a checkpoint of the last completed one', async () => {
  const dir = await tempDir('cancel');
  const nets = tinyNetworks(7, 4);
  const abort = new AbortController();
  const progress: number[] = [];
  const { result } = await run(nets, {
    config: config({ iterations: 6, checkpointEvery: 2 }),
    runDir: dir,
    signal: abort.signal,
    onIteration: (i) => {
      if (i === 2) abort.abort();
    },
    onProgress: (p) => {
      progress.push(p.iteration);
      assert.ok(p.iterationsPerSecond! > 0 && p.etaSeconds! >= 0 && p.totalIterations === 6);
    },
  });
  assert.equal(result.status, 'cancelled');
  assert.equal(result.iteration, 3);
  assert.deepEqual(progress, [1, 2, 3]);
  const ckpt = await loadCheckpoint(path.join(dir, CHECKPOINT_FILE));
  assert.equal(ckpt!.iteration, 3);
  assert.equal((await TrainingLog.read(path.join(dir, LOG_FILE))).length, 3);
  // …and the run can be continued from there.
  const again = await run(nets, { config: config({ iterations: 6, checkpointEvery: 2 }), runDir: dir });
  assert.equal(again.result.iteration, 6);
  assert.equal(again.losses.length, 3);
  disposeNetworks(nets);
});

test('networks of the wrong shape are a clear error before anything is written', async () => {
  const dir = await tempDir('shape');
  const nets = tinyNetworks(8, 4);
  const wrongM = { ...nets, M: createTinyNetwork('deblur', { seed: 1, width: 4 }) };
  await assert.rejects(run(wrongM, { config: config(), runDir: dir }), /M \(deblur\) outputs \[1, 3, 16, 16\].*expected \[1, 2, 16, 16\]/);
  await assert.rejects(run(nets, { config: config({ cropSize: 18 }), runDir: dir }), /not a multiple/);
  assert.deepEqual(await fs.readdir(dir), []);
  disposeNetworks(nets);
  wrongM.M.dispose();
});

test('ONNX networks through the interpreter: train, stop on a time budget, export the trained G and reload it', async () => {
  const { tinyDeblur, colourMotion } = await import('../helpers/tiny-onnx.ts');
  const { loadTrainableNetwork } = await import('../../src-main/engine/graph/interpreter.ts');
  const { createPatchGan } = await import('../../src-main/engine/graph/patchgan.ts');
  const { reblurConsistency } = await import('../../src-main/engine/neurmap/evaluate.ts');
  const nets: NeurmapNetworks = {
    G: loadTrainableNetwork(tinyDeblur(7, 4, 0.3).bytes(), 'deblur'),
    M: loadTrainableNetwork(colourMotion(2).bytes(), 'motion'),
    D: createPatchGan({ baseChannels: 4, layers: 2, seed: 5 }),
  };
  const before = snapshot(nets.G.variables);
  let exported: Uint8Array | null = null;
  const { result } = await run(nets, {
    config: config({ iterations: 50 }),
    maxSeconds: 0, // stops after the first iteration
    finalize: async (engine) => {
      exported = await engine.exportOnnx('G');
    },
  });
  assert.equal(result.status, 'stopped');
  assert.equal(result.iteration, 1);
  assert.ok(changed(before, nets.G.variables));
  const reloaded = loadTrainableNetwork(exported!, 'deblur');
  reloaded.variables.forEach((v, i) => assert.deepEqual(v.dataSync(), nets.G.variables[i].dataSync()));
  // The reblur-consistency score the adaptation job reports on held-out photos.
  const blurry = (await new MemoryBatchSource(CROP).batch(0)).unpairedBlurry;
  const input = tf.tensor4d(blurry, [2, 3, CROP, CROP]);
  const score = reblurConsistency(nets.G, nets.M!, input);
  assert.equal(score.mse.length, 2);
  assert.ok(score.mse.every(Number.isFinite) && score.msSsim.every((s) => s > 0 && s <= 1));
  input.dispose();
  reloaded.dispose();
  disposeNetworks(nets);
});

test('end to end from photo files: the streamed batches train, and a resume picks the same crops', async () => {
  const { PhotoBatchStream, streamOptionsFromConfig } = await import('../../src-main/engine/neurmap/data.ts');
  const { writePhotos } = await import('./helpers/fixtures.ts');
  const dir = await tempDir('photos');
  const sharp = await writePhotos(dir, 'sharp', 3, 40, 32, 1);
  const blurry = await writePhotos(dir, 'blurry', 2, 32, 40, 2);
  const cfg = parseTrainingConfig(config({ iterations: 3, data: { workingSize: 32, recipes: { linear: 1, shake: 1, none: 0 } } }));
  const stream = () => PhotoBatchStream.open({ sharp, blurry }, streamOptionsFromConfig(cfg));
  const straight = tinyNetworks(9, 4);
  const a = await run(straight, { config: cfg, data: await stream() });
  disposeNetworks(straight);
  const runDir = path.join(dir, 'run');
  const first = tinyNetworks(9, 4);
  await run(first, { config: cfg, data: await stream(), runDir, stopAtIteration: 2 });
  const b = await run(first, { config: cfg, data: await stream(), runDir });
  disposeNetworks(first);
  assert.equal(a.losses.length, 3);
  assert.equal(b.losses.length, 1);
  for (const [k, v] of Object.entries(a.losses[2])) assert.ok(Math.abs(b.losses[0][k] - v) <= 1e-6 * Math.max(1, Math.abs(v)), `${k}: ${b.losses[0][k]} vs ${v}`);
});
