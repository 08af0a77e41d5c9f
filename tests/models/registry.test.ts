import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ModelRegistry } from '../../src-main/engine/models/registry.ts';
import { parseCard, ModelCardSchema } from '../../src-main/engine/models/card.ts';
import { openSession, closeSessions } from '../../src-main/engine/infer/session.ts';
import { tinyDeblur, tinyRefiner, constantMotion } from '../helpers/tiny-onnx.ts';

let root: string;
let modelsDir: string;
let userDir: string;

const card = (name: string, created = '2025-03-01T10:00:00Z') => ({
  name,
  created,
  baseModel: 'fast',
  trainingData: { summary: '40 blurry photos from the phone, unpaired', blurryPhotos: 40 },
  metrics: { reblur_psnr_db: 31.2, minutes: 12 },
});

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'nm-registry-'));
  modelsDir = path.join(root, 'models');
  userDir = path.join(root, 'user', 'models');
  await mkdir(modelsDir, { recursive: true });
  await tinyDeblur(1).save(path.join(modelsDir, 'deblur.onnx'));
  await constantMotion(0.1, 0.2).save(path.join(modelsDir, 'motion.onnx'));
});

afterEach(async () => {
  await closeSessions();
  await rm(root, { recursive: true, force: true });
});

test('cards are validated with zod', () => {
  const c = parseCard(card('Holiday'));
  assert.equal(c.kind, 'deblur');
  assert.equal(c.metrics.reblur_psnr_db, 31.2);
  assert.throws(() => parseCard({ ...card('x'), created: 'yesterday' }), /created: Invalid ISO datetime/);
  assert.throws(() => parseCard({ ...card('x'), name: '' }), /name:/);
  assert.throws(() => parseCard({ ...card('x'), metrics: { psnr: 'high' } }), /metrics\.psnr/);
  assert.throws(() => parseCard({ name: 'x' }), /invalid model card/);
  assert.ok(ModelCardSchema.safeParse({ ...card('x'), extra: { fine: true } }).success, 'unknown fields are kept');
});

test('lists base models; missing personal folder is fine; fast is selected by default', async () => {
  const reg = new ModelRegistry(modelsDir, userDir);
  const list = await reg.list();
  assert.deepEqual(list.map((e) => [e.id, e.kind, e.origin, e.ok]), [['fast', 'deblur', 'base', true], ['motion', 'motion', 'base', true]]);
  assert.equal((await reg.selected())?.id, 'fast');
  assert.equal((await reg.motionModel())?.id, 'motion');
  assert.equal(list[0].sizeMultiple, 16);
  assert.ok(list[0].card && list[0].card.name === 'Fast');
  // deblur-fine.onnx appears when shipped
  await tinyDeblur(2).save(path.join(modelsDir, 'deblur-fine.onnx'));
  assert.deepEqual((await reg.list()).map((e) => e.id), ['fast', 'fine', 'motion']);
});

test('personal models: save, list (newest first), select (persisted), delete', async () => {
  const reg = new ModelRegistry(modelsDir, userDir);
  const a = await reg.savePersonal({ card: card('Holiday', '2025-03-01T10:00:00Z'), refiner: tinyRefiner(3).bytes() });
  const b = await reg.savePersonal({
    card: card('Night shots', '2025-04-01T10:00:00Z'), refiner: tinyRefiner(4).bytes(), motion: constantMotion(0.3, 0.3).bytes(),
  });
  assert.ok(a.ok && b.ok, `${a.error} ${b.error}`);
  assert.match(a.id, /^personal:holiday-20250301100000$/);
  const list = await reg.list();
  assert.deepEqual(list.map((e) => e.id), ['fast', 'motion', b.id, a.id]);
  assert.equal(list.find((e) => e.id === b.id)?.name, 'Night shots');
  assert.equal(list.find((e) => e.id === b.id)?.card?.trainingData.blurryPhotos, 40);

  await reg.select(a.id);
  assert.equal((await new ModelRegistry(modelsDir, userDir).selected())?.id, a.id, 'selection persisted');
  const sel = (await reg.list()).filter((e) => e.selected);
  assert.equal(sel.length, 1);

  // a personal model with its own M pairs with it
  assert.equal((await reg.motionModel(await reg.get(b.id)))?.path, path.join(userDir, b.id.slice(9), 'motion.onnx'));
  assert.equal((await reg.motionModel(await reg.get(a.id)))?.id, 'motion');

  // the selected model's session is open; delete closes it and falls back to fast
  const s = await openSession(a.path, { role: 'refine' });
  await reg.delete(a.id);
  assert.equal(s.disposed, true);
  assert.equal((await reg.selected())?.id, 'fast');
  assert.deepEqual((await reg.list()).map((e) => e.id), ['fast', 'motion', b.id]);
  assert.deepEqual((await readdir(userDir)).sort(), [b.id.slice(9)].sort(), 'folder removed, no leftovers');
  await assert.rejects(reg.savePersonal({ card: card('Night shots', '2025-04-01T10:00:00Z'), refiner: tinyRefiner(4).bytes() }), /already exists/);
});

test('select and delete refuse what they must', async () => {
  const reg = new ModelRegistry(modelsDir, userDir);
  await assert.rejects(reg.select('nope'), /no model "nope"/);
  await assert.rejects(reg.select('motion'), /motion model and cannot be selected/);
  await assert.rejects(reg.delete('fast'), /base model and cannot be deleted/);
  await assert.rejects(reg.delete('personal:missing'), /no personal model/);
  await assert.rejects(reg.delete('personal:../models'), /invalid personal model id/);
  await assert.rejects(reg.delete('personal:..'), /invalid personal model id/);
  assert.ok((await readdir(modelsDir)).includes('deblur.onnx'), 'nothing outside the personal folder touched');
});

test('a personal model that fails to load is listed with its error and skipped, never crashing anything', async () => {
  const reg = new ModelRegistry(modelsDir, userDir);
  const good = await reg.savePersonal({ card: card('Good'), refiner: tinyRefiner(5).bytes() });
  const mk = async (name: string, files: Record<string, string | Uint8Array>) => {
    await mkdir(path.join(userDir, name), { recursive: true });
    for (const [f, data] of Object.entries(files)) await writeFile(path.join(userDir, name, f), data);
  };
  await mk('corrupt', { 'card.json': JSON.stringify(card('Corrupt')), 'refiner.onnx': Uint8Array.from({ length: 999 }, (_, i) => (i * 31) & 255) });
  await mk('badcard', { 'card.json': JSON.stringify({ ...card('Bad card'), created: 'last week' }), 'refiner.onnx': tinyRefiner().bytes() });
  await mk('notjson', { 'card.json': '{ name: oops', 'refiner.onnx': tinyRefiner().bytes() });
  await mk('nomodel', { 'card.json': JSON.stringify(card('No model')) });
  await mk('nocard', { 'refiner.onnx': tinyRefiner().bytes() });
  await mk('wrongnet', { 'card.json': JSON.stringify(card('Wrong net')), 'refiner.onnx': tinyDeblur().bytes() });
  await mk('badmotion', { 'card.json': JSON.stringify(card('Bad M')), 'refiner.onnx': tinyRefiner().bytes(), 'motion.onnx': 'garbage' });
  // made by "adapt to my photos" before the MAP core: a 3-channel G of the old end-to-end base
  await mk('oldbase', { 'card.json': JSON.stringify(card('Old base')), 'model.onnx': tinyDeblur().bytes() });
  await mkdir(path.join(userDir, '.saving-half-written'), { recursive: true }); // leftovers of a crash are ignored
  await writeFile(path.join(userDir, 'stray.txt'), 'not a model');

  const list = await reg.list();
  const byId = new Map(list.map((e) => [e.id, e]));
  assert.equal(byId.get(good.id)?.ok, true);
  const expect: [string, RegExp][] = [
    ['corrupt', /refiner\.onnx: not a valid ONNX model/],
    ['badcard', /card\.json: invalid model card \(created: Invalid ISO datetime\)/],
    ['notjson', /card\.json: model card is not valid JSON/],
    ['nomodel', /refiner\.onnx: model file is missing/],
    ['nocard', /card\.json: cannot read model card/],
    ['wrongnet', /must have 6 channels/],
    ['oldbase', /adapted from the old end-to-end network "fast", which the MAP core replaced: adapt again/],
    ['badmotion', /motion\.onnx: not a valid ONNX model/],
  ];
  for (const [name, pattern] of expect) {
    const e = byId.get(`personal:${name}`);
    assert.ok(e, `${name} listed`);
    assert.equal(e.ok, false, name);
    assert.match(e.error ?? '', pattern, name);
    assert.ok(!(e.error ?? '').includes('\n'));
    assert.equal(e.selected, false);
    await assert.rejects(reg.select(e.id), /cannot be used/);
  }
  assert.equal(list.filter((e) => e.origin === 'personal').length, 9);
  // a stale selection of a model that broke later falls back instead of failing
  await reg.select(good.id);
  await writeFile(good.path, 'now corrupt');
  const sel = await reg.selected();
  assert.equal(sel?.id, 'fast');
  assert.equal((await reg.get(good.id))?.ok, false);
  // broken models can still be deleted
  await reg.delete('personal:corrupt');
  assert.equal(await reg.get('personal:corrupt'), null);
  assert.equal(JSON.parse(await readFile(path.join(userDir, 'selection.json'), 'utf8')).deblur, good.id);
});
