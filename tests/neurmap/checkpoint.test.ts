import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  CheckpointCorruptError,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type TrainingCheckpoint,
} from '../../src-main/engine/neurmap/checkpoint.ts';
import { defaultTrainingConfig } from '../../src-main/engine/neurmap/config.ts';
import { TrainingLog } from '../../src-main/engine/neurmap/training-log.ts';
import { tempDir } from './helpers/fixtures.ts';

function sample(): TrainingCheckpoint {
  const f = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + s) * 1e3);
  return {
    iteration: 42,
    config: defaultTrainingConfig(),
    rng: { seed: 1, nextIteration: 42 },
    sharpPool: { capacity: 50, entries: [[0.1, 0.2], [0.3, 0.4]] },
    networkNames: { G: 'deblur', D: 'discriminator' },
    meta: { job: 'test' },
    state: {
      G: { shapes: [[2, 3], [5]], weights: [f(6, 1), f(5, 2)], adam: { step: 42, m: [f(6, 3), f(5, 4)], v: [f(6, 5), f(5, 6)] } },
      D: { shapes: [[7]], weights: [f(7, 7)], adam: { step: 42, m: [f(7, 8)], v: [f(7, 9)] } },
    },
  };
}

test('a checkpoint round-trips exactly', () => {
  const c = sample();
  const back = decodeCheckpoint(encodeCheckpoint(c));
  assert.equal(back.iteration, 42);
  assert.deepEqual(back.config, c.config);
  assert.deepEqual(back.rng, c.rng);
  assert.deepEqual(back.sharpPool, c.sharpPool);
  assert.deepEqual(back.meta, c.meta);
  assert.deepEqual(back.state, c.state);
});

test('any changed byte, a truncation or another file is refused with CheckpointCorruptError', () => {
  const bytes = encodeCheckpoint(sample());
  for (const at of [0, 9, 41, 60, bytes.length - 1]) {
    const bad = bytes.slice();
    bad[at] ^= 1;
    assert.throws(() => decodeCheckpoint(bad, 'x.nmckpt'), CheckpointCorruptError, `byte ${at}`);
  }
  assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), 'x'), /checksum mismatch/);
  assert.throws(() => decodeCheckpoint(Buffer.from('{"json": true}'), 'x'), /corrupt or not a NeurMAP checkpoint/);
});

test('save is atomic: a missing file reads as null, a save replaces the whole file, no temp file stays', async () => {
  const dir = await tempDir('ckpt');
  const file = path.join(dir, 'run.nmckpt');
  assert.equal(await loadCheckpoint(file), null);
  await saveCheckpoint(file, sample());
  const c = sample();
  c.iteration = 43;
  await saveCheckpoint(file, c);
  assert.equal((await loadCheckpoint(file))!.iteration, 43);
  assert.deepEqual(await fs.readdir(dir), ['run.nmckpt']);
  // A save that cannot complete (the target is a folder) leaves nothing behind.
  const folder = path.join(dir, 'sub');
  await fs.mkdir(folder);
  await assert.rejects(saveCheckpoint(folder, sample()));
  assert.deepEqual((await fs.readdir(dir)).sort(), ['run.nmckpt', 'sub']);
});

test('the loss log drops the lines after the checkpoint when a run resumes', async () => {
  const dir = await tempDir('log');
  const file = path.join(dir, 'losses.jsonl');
  const log = await TrainingLog.open(file, 0);
  for (let i = 0; i < 5; i++) await log.append({ iteration: i, time: '', seconds: 0, lr: { G: 1 }, losses: { 'G.total': i } });
  await fs.appendFile(file, '{"iteration": 5, "cut sh');
  await TrainingLog.open(file, 3);
  assert.deepEqual(
    (await TrainingLog.read(file)).map((r) => r.iteration),
    [0, 1, 2],
  );
});
