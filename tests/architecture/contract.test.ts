/**
 * The contract (src-shared/contract) against the engine: the engine owns its domain types (EXIF summary, adaptation
 * card, batch summary) and the contract its wire schemas; these checks keep the two compatible, at compile time
 * (typecheck) and on real values. Plus the shared photo-extension list, which every process reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type * as Wire from '../../src-shared/contract/types.ts';
import {
  adaptSummarySchema, batchSummarySchema, exifSummarySchema, fsPickRequestSchema, isAbsolutePath, jobEventSchema, settingsSchema,
} from '../../src-shared/contract/schemas.ts';
import { CallError, toErrorEnvelope } from '../../src-shared/contract/errors.ts';
import { PHOTO_EXTENSIONS, hasPhotoExtension } from '../../src-shared/photo-files.ts';
import type { ExifSummary as EngineExif } from '../../src-main/engine/image/metadata.ts';
import type { AdaptSummary as EngineAdaptSummary } from '../../src-main/engine/jobs/adapt.ts';
import type { BatchSummary as EngineBatchSummary } from '../../src-main/engine/jobs/batch.ts';
import { scanPhotoFolder } from '../../src-main/engine/jobs/scan-folder.ts';
import { decodeImage } from '../../src-main/engine/image/index.ts';
import { listForPicker } from '../../src-main/bridge/server.ts';
import { writeTestPhoto } from '../helpers/photos.ts';

// ---- compile-time: what the engine sends is what the contract says --------------------------------------------
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const checks: {
  exif: EngineExif extends Wire.ExifSummary ? true : false;
  adapt: Same<EngineAdaptSummary, Wire.AdaptSummary>;
  batch: Same<EngineBatchSummary, Wire.BatchSummary>;
  batchResult: Same<Wire.JobResultOf<'batch'>, Wire.BatchSummary | undefined>;
  adaptResult: Same<Wire.JobResultOf<'adapt'>, Wire.AdaptSummary | undefined>;
} = { exif: true, adapt: true, batch: true, batchResult: true, adaptResult: true };

test('the engine’s domain types are the contract’s wire types (compile-time checks above)', () => {
  assert.ok(Object.values(checks).every(Boolean));
});

test('engine values pass the wire schemas', () => {
  const exif: EngineExif = { make: 'Canon', model: 'EOS', exposureTime: 0.008, iso: 400, orientation: 6, hasGps: false, focalLength35mm: 50 };
  assert.ok(exifSummarySchema.safeParse(exif).success);
  const held = { motionLeftPx: 1.5, reblurPsnr: 31 };
  const card: EngineAdaptSummary = {
    status: 'completed', iterations: 10, resumedFrom: null, seconds: 60, before: held, after: held, better: true,
    training: { blurry: 4, heldOut: 1, sharp: 3, sharpSource: 'bundled', skipped: [] },
  };
  assert.ok(adaptSummarySchema.safeParse(card).success);
  const batch: EngineBatchSummary = { total: 2, done: 1, skipped: 0, failed: [{ file: 'a.jpg', error: 'truncated' }], cancelled: false, stoppedBy: null, manifest: '/o/m.json' };
  assert.ok(batchSummarySchema.safeParse(batch).success);
  const base = { jobId: 'j1', state: 'done', fraction: 1, message: 'done', etaSeconds: 0 } as const;
  assert.ok(jobEventSchema.safeParse({ ...base, kind: 'batch', result: batch }).success);
  assert.ok(!jobEventSchema.safeParse({ ...base, kind: 'adapt', result: batch }).success, 'a batch summary is no adaptation card');
  assert.ok(!jobEventSchema.safeParse({ ...base, kind: 'deblur', result: batch }).success, 'a deblur ends without a result');
});

test('one Settings schema: defaults, and out-of-range values refused', () => {
  assert.deepEqual(settingsSchema.parse({}), { executionProvider: 'auto', threads: 0, tileSize: 1024, prior: 'hand-made', refine: false });
  assert.ok(!settingsSchema.safeParse({ tileSize: 64 }).success);
  assert.ok(!settingsSchema.safeParse({ prior: 'sharpest' }).success);
});

test('absolute paths by the rules of the platform, without node:path', () => {
  assert.ok(isAbsolutePath('/home/a.jpg', 'linux'));
  assert.ok(!isAbsolutePath('home/a.jpg', 'linux'));
  assert.ok(!isAbsolutePath('C:\\x\\a.jpg', 'linux'));
  assert.ok(isAbsolutePath('C:\\x\\a.jpg', 'win32'));
  assert.ok(isAbsolutePath('\\\\server\\share', 'win32'));
  assert.ok(!isAbsolutePath('x\\a.jpg', 'win32'));
  assert.equal(isAbsolutePath('/x'), path.isAbsolute('/x'));
});

test('the picker’s pick requests are contract schemas', () => {
  assert.ok(fsPickRequestSchema.safeParse({ kind: 'save', dir: '/tmp', name: 'out.jpg' }).success);
  assert.ok(!fsPickRequestSchema.safeParse({ kind: 'save', dir: '/tmp', name: '../x.jpg' }).success);
  assert.ok(!fsPickRequestSchema.safeParse({ kind: 'mkdir', dir: '/tmp', name: '.hidden' }).success);
  assert.ok(!fsPickRequestSchema.safeParse({ kind: 'open', paths: [] }).success);
  assert.ok(!fsPickRequestSchema.safeParse({ kind: 'delete', dir: '/tmp' }).success);
});

test('one error envelope: a CallError and an engine error with a code travel alike', () => {
  assert.deepEqual(toErrorEnvelope(new CallError('not-granted', 'no')), { code: 'not-granted', message: 'no' });
  assert.deepEqual(toErrorEnvelope(Object.assign(new Error('a.jpg: truncated'), { code: 'truncated' })), { code: 'truncated', message: 'a.jpg: truncated' });
  assert.deepEqual(toErrorEnvelope(new Error('boom')), { code: 'engine-error', message: 'boom' });
  const back = CallError.fromEnvelope({ code: 'x', message: 'y' });
  assert.ok(back instanceof Error && back.code === 'x' && back.message === 'y');
});

test('one photo-extension list: .jpe is listed by the picker, found by folder scans and decoded', async () => {
  assert.ok(PHOTO_EXTENSIONS.includes('.jpe'));
  assert.ok(hasPhotoExtension('IMG_1.JPE') && hasPhotoExtension('/a.b/c.heic') && !hasPhotoExtension('notes.txt') && !hasPhotoExtension('.jpg'));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'neurmap-jpe-'));
  try {
    const file = path.join(dir, 'old-camera.jpe');
    await fs.rename(await writeTestPhoto(path.join(dir, 'tmp.jpg'), { width: 48, height: 32 }), file);
    await fs.writeFile(path.join(dir, 'notes.txt'), 'x');
    assert.deepEqual((await listForPicker(dir)).entries.map((e) => e.name), ['old-camera.jpe']);
    assert.deepEqual(await scanPhotoFolder(dir, { recursive: false }), ['old-camera.jpe']);
    const photo = await decodeImage(file);
    assert.equal(photo.raster.width, 48);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
