import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { Studio } from '../../src-main/engine/studio/studio.ts';
import type { JobEvent } from '../../src-shared/contract/types.ts';
import { tempDir, tinyModelsDir } from '../helpers/cli.ts';
import { writeShakenPhoto, writeTestPhoto } from '../helpers/photos.ts';

let studio: Studio;
let work: string;
const events: JobEvent[] = [];

before(async () => {
  work = await tempDir('neurmap-studio-');
  studio = new Studio({ userDataDir: path.join(work, 'user'), modelsDir: await tinyModelsDir(), assetUrl: (p) => `asset:${p}` });
  studio.onJobEvent((e) => events.push(e));
});

after(() => studio.dispose());

test('opening a photo gives its size, EXIF summary and a preview served as an asset', async () => {
  const file = await writeTestPhoto(path.join(work, 'a.jpg'), { width: 160, height: 120 });
  const info = await studio.openImage(file);
  assert.deepEqual([info.width, info.height, info.bitDepth, info.exif.make], [160, 120, 8, 'TestCam']);
  const asset = await studio.readAsset(info.previewUrl.replace('asset:', ''));
  assert.equal(asset?.mime, 'image/jpeg');
  assert.deepEqual(await studio.recentFiles(), [file]);
});

test('deblurring a photo with no blur to undo says so and leaves the pixels as they were', async () => {
  const file = await writeShakenPhoto(path.join(work, 'still-deblur.jpg'), { width: 200, height: 100, streakPx: 1, seed: 7 });
  const info = await studio.openImage(file);
  const res = await studio.deblur(info.id, 'job-deblur-still');
  const last = events.filter((e) => e.jobId === 'job-deblur-still').at(-1)!;
  assert.equal(last.state, 'done');
  assert.match(last.message, /left as it was/);
  const out = path.join(work, 'still-out.png');
  await studio.exportImage({ resultId: res.id, strength: 1, protectSharp: false, format: 'png', quality: 90, bitDepth: 8, path: out, overwrite: false });
  assert.deepEqual(await sharp(out).raw().toBuffer(), await sharp(file).raw().toBuffer());
});

test('an asset path that was never handed out is not served', async () => {
  assert.equal(await studio.readAsset('preview/../../etc/passwd'), null);
});

test('deblur reports progress as job events and returns a result preview; export keeps EXIF and applies strength', async () => {
  const file = await writeTestPhoto(path.join(work, 'b.jpg'), { width: 160, height: 120 });
  const info = await studio.openImage(file);
  const res = await studio.deblur(info.id, 'job-deblur-1');
  assert.equal(res.provider, 'CPU');
  const mine = events.filter((e) => e.jobId === 'job-deblur-1');
  assert.equal(mine[0].state, 'running');
  assert.equal(mine.at(-1)!.state, 'done');
  const zero = path.join(work, 'zero.png');
  await studio.exportImage({ resultId: res.id, strength: 0, protectSharp: false, format: 'png', quality: 90, bitDepth: 8, path: zero, overwrite: false });
  const original = await sharp(file).raw().toBuffer();
  assert.deepEqual(await sharp(zero).raw().toBuffer(), original, 'strength 0 exports the original pixels');
  const full = path.join(work, 'full.jpg');
  await studio.exportImage({ resultId: res.id, strength: 1, protectSharp: true, format: 'jpeg', quality: 90, bitDepth: 8, path: full, overwrite: false });
  const meta = await sharp(full).metadata();
  assert.ok(meta.exif?.includes(Buffer.from('TestCam')));
});

test('a deblur shows a display-sized preview first, from the same blur estimate, and its result replaces it', async () => {
  // previews of 128 px a side make this 320 px photo one that gets a preview
  const small = new Studio({ userDataDir: path.join(work, 'user-preview'), modelsDir: await tinyModelsDir(), assetUrl: (p) => `asset:${p}`, previewMaxSide: 128 });
  const seen: JobEvent[] = [];
  small.onJobEvent((e) => seen.push(e));
  try {
    const file = await writeShakenPhoto(path.join(work, 'preview.jpg'), { width: 320, height: 240, streakPx: 12, angleDeg: 20 });
    const info = await small.openImage(file);
    const res = await small.deblur(info.id, 'job-preview');
    const previews = seen.filter((e) => e.jobId === 'job-preview' && e.previewUrl);
    assert.equal(previews.length, 1);
    assert.equal(previews[0].state, 'running');
    assert.ok(seen.indexOf(previews[0]) < seen.findIndex((e) => e.jobId === 'job-preview' && e.state === 'done'));
    const pixels = async (url: string) => sharp(Buffer.from((await small.readAsset(url.replace('asset:', '')))!.bytes)).raw().toBuffer({ resolveWithObject: true });
    const [before, preview, result] = await Promise.all([pixels(info.previewUrl), pixels(previews[0].previewUrl!), pixels(res.previewUrl)]);
    assert.deepEqual([preview.info.width, preview.info.height], [128, 96]);
    const diff = (a: Buffer, b: Buffer) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;
    // deblurred like the result: nearer to it than the photo is
    assert.ok(diff(preview.data, result.data) < 0.75 * diff(before.data, result.data), `${diff(preview.data, result.data)} vs ${diff(before.data, result.data)}`);
  } finally {
    await small.dispose();
  }
});

test('the motion view reads the blur the MAP core found: arrows along the streak with its half-length, the blur trace and its regions', async () => {
  // a horizontal 12 px streak: half-extent 6 px
  const file = await writeShakenPhoto(path.join(work, 'c.jpg'), { width: 200, height: 100, streakPx: 12, angleDeg: 0 });
  const info = await studio.openImage(file);
  const m = await studio.estimateMotion(info.id, 'job-motion-1');
  const [x, y, u, v] = m.grid.vectors[0];
  assert.ok(x > 0 && y > 0);
  assert.ok(Math.abs(Math.hypot(u, v) - 6) < 1 && Math.abs(v) < 1, `${u},${v}`);
  assert.ok(Math.abs(m.blurScore - 6) < 1, `blur score ${m.blurScore}`);
  assert.equal((await studio.readAsset(m.heatmapUrl.replace('asset:', '')))?.mime, 'image/png');
  assert.equal((await studio.readAsset(m.blurTraceUrl.replace('asset:', '')))?.mime, 'image/png');
  assert.equal(m.regions.length, m.regionCols * m.regionRows);
  assert.ok(m.regions.every((r) => r.confidence > 0.5 && Math.abs(r.halfExtentPx - 6) < 1));
});

test('a sharp photo scores sharper than the same scene shaken', async () => {
  await writeShakenPhoto(path.join(work, 'still.jpg'), { width: 200, height: 100, streakPx: 1, seed: 5 });
  await writeShakenPhoto(path.join(work, 'shaken.jpg'), { width: 200, height: 100, streakPx: 15, seed: 5 });
  const scores = Object.fromEntries((await studio.listFolder(work)).map((p) => [p.name, p.blurScore]));
  assert.ok(scores['still.jpg']! + 3 < scores['shaken.jpg']!, JSON.stringify(scores));
});

test('a batch job runs in the background with per-file events and a summary', async () => {
  const input = path.join(work, 'batch-in');
  for (let i = 0; i < 3; i++) await writeTestPhoto(path.join(input, `p${i}.jpg`), { seed: i });
  await fs.writeFile(path.join(input, 'bad.jpg'), 'nope');
  const jobId = await studio.startBatch({ inputDir: input, outputDir: path.join(work, 'batch-out'), recursive: false, format: 'jpeg', quality: 80, suffix: '', skipExisting: false, strength: 1, protectSharp: false });
  const final = await new Promise<JobEvent>((resolve) => {
    const off = studio.onJobEvent((e) => e.jobId === jobId && e.state !== 'running' && (off(), resolve(e)));
  });
  assert.equal(final.state, 'done');
  assert.match(final.message, /3 done, 0 skipped, 1 failed of 4/);
  const fileEvents = events.filter((e) => e.jobId === jobId && e.file?.status === 'failed');
  assert.match(fileEvents[0].file!.error!, /bad\.jpg: not an image/);
});

test('a batch job uses the execution provider and thread count chosen in Settings', async () => {
  await studio.updateSettings({ executionProvider: 'cpu', threads: 2 });
  const input = path.join(work, 'batch-settings-in');
  await writeTestPhoto(path.join(input, 'p.jpg'), { seed: 9 });
  const from = studio.sessions.uses.length;
  const jobId = await studio.startBatch({ inputDir: input, outputDir: path.join(work, 'batch-settings-out'), recursive: false, format: 'jpeg', quality: 80, suffix: '', skipExisting: false, strength: 1, protectSharp: false });
  const final = await new Promise<JobEvent>((resolve) => {
    const off = studio.onJobEvent((e) => e.jobId === jobId && e.state !== 'running' && (off(), resolve(e)));
  });
  assert.equal(final.state, 'done', final.message);
  assert.deepEqual(studio.sessions.uses.slice(from), [{ kind: 'map', provider: 'cpu', threads: 2 }]);
  // The network sessions the Studio opens (systemInfo's provider line) come from the same provider and Settings.
  const info = await studio.systemInfo();
  assert.equal(info.executionProvider.active, 'CPU');
  assert.deepEqual(info.executionProvider.skipped, [], 'auto would have tried CUDA first');
  const network = studio.sessions.uses.at(-1)!;
  assert.deepEqual([network.kind, network.provider, network.threads], ['network', 'cpu', 2]);
  await studio.updateSettings({ executionProvider: 'auto', threads: 0 });
});

test('settings persist and the models list shows the base models', async () => {
  const s = await studio.updateSettings({ tileSize: 256, executionProvider: 'cpu' });
  assert.equal(s.tileSize, 256);
  assert.equal((await studio.systemInfo()).settings.tileSize, 256);
  const models = await studio.listModels();
  assert.deepEqual(models.map((m) => [m.id, m.task, m.kind]), [['fast', 'deblur', 'base'], ['motion', 'motion', 'base']]);
  assert.equal(models[0].selected, true);
});

test('listing a folder gives thumbnails and blur scores', async () => {
  const list = await studio.listFolder(path.join(work, 'batch-in'));
  assert.deepEqual(list.map((p) => p.name), ['bad.jpg', 'p0.jpg', 'p1.jpg', 'p2.jpg']);
  assert.equal(list[0].blurScore, undefined, 'an unreadable photo has no score');
  // a sharp test pattern: the estimator's own spread is not shown as blur
  assert.equal(list[1].blurScore, 0);
  const thumb = await studio.readAsset(list[1].thumbnailUrl.replace('asset:', ''));
  const meta = await sharp(Buffer.from(thumb!.bytes)).metadata();
  assert.ok(Math.max(meta.width!, meta.height!) <= 240);
});

test('a selected personal model refines every deblur in place of the shipped refiner, and the System panel names it', async () => {
  const { createModelRegistry } = await import('../../src-main/engine/studio/locations.ts');
  const { tinyRefiner } = await import('../helpers/tiny-onnx.ts');
  const registry = createModelRegistry(path.join(work, 'user'));
  const saved = await registry.savePersonal({
    card: { name: 'Night phone', created: '2026-12-07T10:00:00Z', baseModel: 'refiner', trainingData: { summary: 'test' } },
    refiner: tinyRefiner(3, 4, 0.01).bytes(),
  });
  await studio.selectModel(saved.id);
  assert.deepEqual((await studio.listModels()).filter((m) => m.kind === 'personal').map((m) => [m.task, m.selected]), [['refine', true]]);
  assert.equal((await studio.systemInfo()).learnedParts.personal, 'Night phone');
  const file = await writeShakenPhoto(path.join(work, 'personal.jpg'), { width: 200, height: 160, streakPx: 12, seed: 3 });
  const res = await studio.deblur((await studio.openImage(file)).id, 'job-deblur-personal');
  assert.equal(res.modelId, `map+refiner(${saved.id})`);
  await studio.selectModel('fast');
  assert.equal((await studio.systemInfo()).learnedParts.personal, undefined);
});
