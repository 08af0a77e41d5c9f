import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { runAdaptation } from '../../src-main/engine/jobs/adapt.ts';
import { AdaptationSession } from '../../src-main/engine/jobs/adapt-session.ts';
import { createModelRegistry } from '../../src-main/engine/studio/locations.ts';
import { loadCheckpoint } from '../../src-main/engine/neurmap/checkpoint.ts';
import { CHECKPOINT_FILE } from '../../src-main/engine/neurmap/trainer.ts';
import { runCli, tempDir, tinyModelsDir } from '../helpers/cli.ts';
import { writeShakenPhoto, writeTestPhoto } from '../helpers/photos.ts';

let models: string;

before(async () => {
  models = await tinyModelsDir({ refiner: true });
});

/** Photos with camera shake (a streak the MAP core finds), or sharp ones. */
async function library(count: number, kind: 'shaken' | 'sharp' = 'shaken'): Promise<string> {
  const dir = await tempDir('neurmap-adapt-lib-');
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `b${i}.jpg`);
    if (kind === 'sharp') await writeTestPhoto(file, { width: 96, height: 80, seed: 50 + i });
    else await writeShakenPhoto(file, { width: 96, height: 80, seed: 50 + i, streakPx: 9, angleDeg: 20 * i });
  }
  return dir;
}

async function env(): Promise<Record<string, string>> {
  return { NEURMAP_MODELS_DIR: models, NEURMAP_USER_DATA: await tempDir('neurmap-adapt-user-') };
}

const tiny = ['--iterations', '3', '--crop', '32', '--workers', '0'];

test('a tiny adaptation runs end to end from the CLI, and the personal model it saves deblurs photos', async () => {
  const e = await env();
  const blurry = await library(5);
  const r = await runCli(['adapt', '--blurry', blurry, '--name', 'Phone 2024', ...tiny, '--keep'], e);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /finished: 3 iterations/);
  assert.match(r.stdout, /held-out photos: 1/);
  assert.match(r.stdout, /motion left \(px, lower is sharper\): +[\d.]+ → [\d.]+/);
  const id = r.stderr.match(/saved as (personal:[^:\s]+)/)![1];
  const card = JSON.parse(await fs.readFile(path.join(e.NEURMAP_USER_DATA, 'models', id.slice('personal:'.length), 'card.json'), 'utf8'));
  assert.equal(card.name, 'Phone 2024');
  assert.equal(card.baseModel, 'refiner');
  assert.equal(card.metrics.iterations, 3);
  const out = path.join(e.NEURMAP_USER_DATA, 'out');
  const d = await runCli(['deblur', path.join(blurry, 'b0.jpg'), '--out', out, '--model', id], e);
  assert.equal(d.code, 0, d.stderr);
  assert.equal((await sharp(path.join(out, 'b0-deblurred.jpg')).metadata()).width, 96);
  await fs.access(path.join(e.NEURMAP_USER_DATA, 'models', id.slice('personal:'.length), 'refiner.onnx'));
  const info = JSON.parse((await runCli(['info', '--json'], e)).stdout) as { models: Array<{ id: string; kind: string; ok: boolean }> };
  assert.deepEqual(info.models.find((m) => m.id === id), { id, kind: 'refiner', name: 'Phone 2024', ok: true, error: null, selected: false });
  // the personal model is the refiner: the shipped one cannot be asked for beside it
  const u = await runCli(['deblur', path.join(blurry, 'b0.jpg'), '--out', out, '--model', id, '--refiner'], e);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /is a refiner of the MAP core: it takes no --refiner/);
});

test('a folder with no photos, or only one, is refused with one clear line', async () => {
  const e = await env();
  const empty = await tempDir('neurmap-adapt-empty-');
  const r0 = await runCli(['adapt', '--blurry', empty, '--name', 'x', ...tiny], e);
  assert.equal(r0.code, 3);
  assert.match(r0.stderr, /holds no photos/);
  const one = await library(1);
  const r1 = await runCli(['adapt', '--blurry', one, '--name', 'x', ...tiny], e);
  assert.equal(r1.code, 3);
  assert.match(r1.stderr, /only one photo: adapting needs at least two/);
});

test('corrupt and oversized photos are skipped and listed; the rest trains', async () => {
  const e = await env();
  const blurry = await library(4);
  await fs.writeFile(path.join(blurry, 'broken.jpg'), 'not a jpeg');
  // A PNG whose header claims 40000×40000 pixels: refused from the header, never decoded.
  const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#888' } }).png().toBuffer();
  png.writeUInt32BE(40000, 16);
  png.writeUInt32BE(40000, 20);
  await fs.writeFile(path.join(blurry, 'huge.png'), png);
  const r = await runCli(['adapt', '--blurry', blurry, '--name', 'skips', ...tiny, '--discard'], e);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /skipped: broken\.jpg: not an image/);
  assert.match(r.stdout, /skipped: huge\.png: the image is too large .*the limit is 120 megapixels/);
  assert.match(r.stderr, /discarded/);
});

test('a name that already exists is refused before any training', async () => {
  const e = await env();
  const blurry = await library(3);
  assert.equal((await runCli(['adapt', '--blurry', blurry, '--name', 'Twice', ...tiny, '--keep'], e)).code, 0);
  const again = await runCli(['adapt', '--blurry', blurry, '--name', 'twice', ...tiny, '--keep'], e);
  assert.equal(again.code, 3);
  assert.match(again.stderr, /a personal model named "twice" already exists/);
});

test('an adaptation session checks the name before any work, reports both budgets, and discarding saves nothing and clears its run', async () => {
  const userData = await tempDir('neurmap-adapt-user-');
  const registry = createModelRegistry(userData, models);
  const blurry = await library(3);
  const session = await AdaptationSession.prepare(registry, userData, { blurryDir: blurry, name: 'Session', iterations: 2 });
  assert.equal(session.runDir, path.join(userData, 'adapt-runs', 'session'));
  const fractions: number[] = [];
  const sharper: Array<{ iteration: number; sharperPercent: number }> = [];
  const outcome = await session.run({ workers: 0, config: { cropSize: 32 }, onProgress: (_p, budget) => fractions.push(budget.fraction), onHeldOut: (p) => sharper.push(p) });
  assert.equal(outcome.iterations, 2);
  assert.deepEqual(fractions, [0.5, 1]);
  // the "how much sharper" curve: held-out photos scored as the refiner trains, the last point the final score
  assert.deepEqual(sharper.map((p) => p.iteration), [1, 2]);
  assert.ok(sharper.every((p) => Number.isFinite(p.sharperPercent)));
  const final = (100 * (outcome.before.motionLeftPx - outcome.after.motionLeftPx)) / outcome.before.motionLeftPx;
  assert.ok(Math.abs(sharper[1].sharperPercent - final) < 1e-3, `${sharper[1].sharperPercent} vs ${final}`);
  await fs.access(session.runDir);
  assert.equal(await session.finish(false), null);
  await assert.rejects(fs.access(session.runDir), { code: 'ENOENT' });
  assert.ok(!(await registry.list()).some((m) => m.origin === 'personal'), 'nothing saved');
  await assert.rejects(AdaptationSession.prepare(registry, userData, { blurryDir: blurry, name: 'x', iterations: 1 }, 'no-such-model'), /no deblur model "no-such-model"/);
});

test('a run that continues a cancelled one says so before training, in its progress and in its summary', async () => {
  const blurry = await library(3);
  const runDir = await tempDir('neurmap-adapt-resume-');
  const base = { id: 'refiner', refiner: path.join(models, 'refiner.onnx'), motion: path.join(models, 'motion.onnx') };
  const opts = { base, runDir, workers: 0, config: { cropSize: 32 } };
  const inputs = { blurryDir: blurry, name: 'Resumed', iterations: 3 };
  const cancel = new AbortController();
  const fresh: string[] = [];
  await assert.rejects(
    runAdaptation(inputs, { ...opts, signal: cancel.signal, onStatus: (m) => fresh.push(m), onProgress: () => cancel.abort() }),
    /cancelled at iteration 1; the checkpoint is kept and the same name resumes it/,
  );
  assert.ok(!fresh.some((m) => /resum/.test(m)), `a first run says nothing about resuming: ${fresh.join(' | ')}`);
  const statuses: string[] = [];
  const resumedFrom: Array<number | null> = [];
  const outcome = await runAdaptation(inputs, { ...opts, onStatus: (m) => statuses.push(m), onProgress: (p) => resumedFrom.push(p.resumedFrom) });
  assert.ok(
    statuses.includes('resuming the cancelled run named "Resumed" from its checkpoint: 1 of 3 iterations already done (another name starts over)'),
    statuses.join(' | '),
  );
  assert.deepEqual(resumedFrom, [1, 1]);
  assert.equal(outcome.resumedFrom, 1);
  assert.equal(outcome.iterations, 3);
});

test('a full disk while writing a checkpoint fails the run and leaves the previous checkpoint intact', async (t) => {
  const runDir = await tempDir('neurmap-adapt-full-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', runDir], { stdio: 'ignore' });
  } catch {
    return t.skip('mounting a small tmpfs needs root in a container that allows it');
  }
  try {
    const blurry = await library(3);
    const base = { id: 'refiner', refiner: path.join(models, 'refiner.onnx'), motion: path.join(models, 'motion.onnx') };
    // Each checkpoint (the in-app PatchGAN with its Adam state, ~2 MB) fits once; writing the second does not.
    await assert.rejects(
      runAdaptation({ blurryDir: blurry, name: 'full', iterations: 4 }, { base, runDir, workers: 0, config: { cropSize: 32, checkpointEvery: 1 } }),
      /ENOSPC|no space|disk is full/i,
    );
    const kept = await loadCheckpoint(path.join(runDir, CHECKPOINT_FILE));
    assert.ok(kept && kept.iteration >= 1, 'the earlier checkpoint is still readable');
    assert.deepEqual((await fs.readdir(runDir)).filter((f) => f.includes('.tmp-')), []);
  } finally {
    execFileSync('umount', [runDir]);
  }
});

test('the MAP results an adaptation trains on are made once: a resumed run reads them from its run folder', async () => {
  const { prepareGuidedSamples, prepareHeldOut } = await import('../../src-main/engine/jobs/adapt-guides.ts');
  const blurry = await library(2);
  const sharpDir = await library(1);
  await fs.writeFile(path.join(blurry, 'broken.jpg'), 'not a jpeg');
  const cacheDir = path.join(await tempDir('neurmap-adapt-guides-'), 'map-results');
  const files = { blurry: [path.join(blurry, 'b0.jpg'), path.join(blurry, 'b1.jpg'), path.join(blurry, 'broken.jpg')], sharp: [path.join(sharpDir, 'b0.jpg')] };
  const prep = { cacheDir, workingSize: 80, cropSize: 16, pairSize: 24, pairs: 2, recipes: { linear: 1, shake: 1, none: 0 }, seed: 1 };
  const first = await prepareGuidedSamples(files, prep);
  assert.equal(first.photos.length, 2);
  assert.equal(first.pairs.length, 2);
  assert.deepEqual(first.skipped.map((s) => s.split(':')[0]), ['broken.jpg']);
  for (const p of [...first.photos, ...first.pairs]) assert.deepEqual([p.guide.width, p.guide.height], [p.blurry.width, p.blurry.height]);
  const cached = (await fs.readdir(cacheDir)).sort();
  assert.equal(cached.length, 4);
  const times = await Promise.all(cached.map(async (f) => (await fs.stat(path.join(cacheDir, f))).mtimeMs));
  const statuses: string[] = [];
  const again = await prepareGuidedSamples(files, { ...prep, onStatus: (m) => statuses.push(m) });
  assert.deepEqual(again.photos.map((p) => p.guide.data), first.photos.map((p) => p.guide.data));
  assert.deepEqual(again.pairs.map((p) => p.blurry.data), first.pairs.map((p) => p.blurry.data));
  assert.deepEqual(await Promise.all(cached.map(async (f) => (await fs.stat(path.join(cacheDir, f))).mtimeMs)), times, 'nothing rewritten');
  assert.ok(statuses.length > 0);
  // a held-out photo is scored at the training scale: the centre square (a multiple of 16) of the working-size photo
  // and of its MAP result, the same one training would use
  const [held] = await prepareHeldOut([files.blurry[0]], 256, prep);
  const whole = first.photos[0];
  assert.deepEqual([whole.blurry.width, whole.blurry.height, held.blurry.width, held.blurry.height], [80, 67, 64, 64]);
  const [x0, y0] = [8, 1];
  for (let y = 0; y < 64; y += 9) for (let x = 0; x < 64; x += 7) assert.equal(held.guide.data[y * 64 + x], whole.guide.data[(y0 + y) * 80 + x0 + x]);
});

test('a personal model made on the old end-to-end base is refused with one line that says to adapt again', async () => {
  const e = await env();
  const dir = path.join(e.NEURMAP_USER_DATA, 'models', 'old-2024');
  await fs.mkdir(dir, { recursive: true });
  await fs.copyFile(path.join(models, 'deblur.onnx'), path.join(dir, 'model.onnx'));
  await fs.writeFile(path.join(dir, 'card.json'), JSON.stringify({ name: 'Old', created: '2026-01-01T00:00:00Z', baseModel: 'fast', trainingData: { summary: 'before the MAP core' } }));
  const photo = path.join(await library(1), 'b0.jpg');
  const r = await runCli(['deblur', photo, '--out', path.join(e.NEURMAP_USER_DATA, 'out'), '--model', 'personal:old-2024'], e);
  assert.equal(r.code, 3);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /adapted from the old end-to-end network "fast", which the MAP core replaced: adapt again/);
  const a = await runCli(['adapt', '--blurry', await library(3), '--name', 'again', '--base', 'personal:old-2024', ...tiny], e);
  assert.equal(a.code, 3);
  assert.match(a.stderr, /adapt again/);
});

test('a library of sharp photos, or of photos smaller than a crop, or a run folder that cannot be written, is refused with one clear line and nothing saved', async () => {
  const e = await env();
  const r = await runCli(['adapt', '--blurry', await library(4, 'sharp'), '--name', 'Sharp ones', ...tiny, '--keep'], e);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /the MAP core found no blur to undo in any of the 3 photos it trains on: .*nothing to adapt to \(nothing saved\)/);
  assert.deepEqual((await createModelRegistry(e.NEURMAP_USER_DATA, models).list()).filter((m) => m.origin === 'personal'), [], 'nothing saved');
  const tinyPhotos = await tempDir('neurmap-adapt-tiny-');
  for (let i = 0; i < 3; i++) await writeShakenPhoto(path.join(tinyPhotos, `t${i}.jpg`), { width: 24, height: 20, seed: i, streakPx: 5 });
  const small = await runCli(['adapt', '--blurry', tinyPhotos, '--name', 'Tiny ones', ...tiny], e);
  assert.equal(small.code, 3);
  assert.match(small.stderr, /none of the 2 blurry photos to train on could be used: t0\.jpg: 24×20 px is smaller than the 32 px crop/);
  const notAFolder = path.join(await tempDir('neurmap-adapt-file-'), 'file');
  await fs.writeFile(notAFolder, 'x');
  const base = { id: 'refiner', refiner: path.join(models, 'refiner.onnx'), motion: path.join(models, 'motion.onnx') };
  await assert.rejects(
    runAdaptation({ blurryDir: await library(3), name: 'x', iterations: 1 }, { base, runDir: path.join(notAFolder, 'run'), workers: 0, config: { cropSize: 32 } }),
    /cannot write the adaptation's folder .*file\/run \(ENOTDIR\)/,
  );
});

test('a cancelled run of the old end-to-end network is not resumed as a refiner: one line says to pick another name', async () => {
  const { trainNeurmap } = await import('../../src-main/engine/neurmap/trainer.ts');
  const { loadTrainableNetwork } = await import('../../src-main/engine/graph/interpreter.ts');
  const { createPatchGan } = await import('../../src-main/engine/graph/patchgan.ts');
  const { MemoryBatchSource } = await import('../neurmap/helpers/fixtures.ts');
  const runDir = await tempDir('neurmap-adapt-old-run-');
  const G = loadTrainableNetwork(await fs.readFile(path.join(models, 'deblur.onnx')), 'deblur');
  const M = loadTrainableNetwork(await fs.readFile(path.join(models, 'motion.onnx')), 'motion');
  await trainNeurmap({ compute: { kind: 'local', networks: { G, M, D: createPatchGan({ baseChannels: 4, layers: 2, seed: 1 }) } }, data: new MemoryBatchSource(16), runDir, config: { cropSize: 16, iterations: 1 } });
  const base = { id: 'refiner', refiner: path.join(models, 'refiner.onnx'), motion: path.join(models, 'motion.onnx') };
  await assert.rejects(
    runAdaptation({ blurryDir: await library(3), name: 'Old run', iterations: 1 }, { base, runDir, workers: 0, config: { cropSize: 32 } }),
    /the cancelled run named "Old run" adapted the old end-to-end network, which the MAP core replaced: give this adaptation another name/,
  );
});
