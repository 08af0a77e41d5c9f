import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { DataError, PhotoBatchStream, type PhotoStreamOptions } from '../../src-main/engine/neurmap/data.ts';
import { tempDir, writePhotos } from './helpers/fixtures.ts';

const base: PhotoStreamOptions = {
  seed: 11,
  cropSize: 16,
  paired: 2,
  unpaired: 2,
  recipes: { linear: 1, shake: 1, none: 0 },
  workingSize: 48,
  photosPerWindow: 2,
  iterationsPerWindow: 3,
};

async function library() {
  const dir = await tempDir('data');
  return {
    dir,
    sharp: await writePhotos(dir, 'sharp', 4, 64, 48, 1),
    blurry: await writePhotos(dir, 'blurry', 3, 50, 70, 2),
  };
}

test('batches: the right shapes and ranges, paired blur really blurs, and batch(i) is a function of (seed, i)', async () => {
  const lib = await library();
  const stream = await PhotoBatchStream.open({ sharp: lib.sharp, blurry: lib.blurry }, base);
  const b = await stream.batch(5);
  const per = 3 * 16 * 16;
  assert.equal(b.iteration, 5);
  for (const arr of [b.pairedBlurry, b.pairedSharp, b.unpairedBlurry, b.unpairedSharp]) {
    assert.equal(arr.length, 2 * per);
    for (const v of arr) assert.ok(v >= 0 && v <= 1);
  }
  let diff = 0;
  for (let i = 0; i < b.pairedSharp.length; i++) diff += Math.abs(b.pairedSharp[i] - b.pairedBlurry[i]);
  assert.ok(diff / b.pairedSharp.length > 1e-3, 'synthetic blur changes the crop');
  // Same batch again, out of order, and from a second stream (as after a resume).
  await stream.batch(9);
  const again = await stream.batch(5);
  const other = await (await PhotoBatchStream.open({ sharp: lib.sharp, blurry: lib.blurry }, base)).batch(5);
  for (const key of ['pairedBlurry', 'pairedSharp', 'unpairedBlurry', 'unpairedSharp'] as const) {
    assert.deepEqual(again[key], b[key]);
    assert.deepEqual(other[key], b[key]);
  }
  const next = await stream.batch(6);
  assert.notDeepEqual(next.unpairedBlurry, b.unpairedBlurry);
});

test('photos smaller than the crop are skipped with a warning while others remain; when none remain it is a clear error', async () => {
  const lib = await library();
  const small = await writePhotos(lib.dir, 'small', 1, 12, 40, 3);
  const warnings: string[] = [];
  const stream = await PhotoBatchStream.open({ sharp: [...lib.sharp, ...small], blurry: lib.blurry }, { ...base, onWarning: (w) => warnings.push(w) });
  assert.equal(stream.counts().sharp, 4);
  assert.equal(stream.skipped.length, 1);
  assert.match(warnings[0], /small-0\.png.*12×40 px is smaller than the 16-px crop/);
  await assert.rejects(PhotoBatchStream.open({ sharp: lib.sharp, blurry: small }, base), (err: unknown) => {
    assert.ok(err instanceof DataError);
    assert.match((err as Error).message, /no usable blurry photo: every one was skipped[\s\S]*smaller than the 16-px crop/);
    return true;
  });
  // The working-size resize counts: a 64×48 photo resized to at most 20 px is too small for a 16-px crop.
  await assert.rejects(PhotoBatchStream.open({ sharp: lib.sharp, blurry: lib.blurry }, { ...base, workingSize: 20 }), /at the working size/);
  await assert.rejects(PhotoBatchStream.open({ sharp: lib.sharp, blurry: [] }, base), /no blurry photos were given/);
});

test('unreadable files are skipped and listed', async () => {
  const lib = await library();
  const broken = path.join(lib.dir, 'broken.jpg');
  await fs.writeFile(broken, Buffer.from('not a jpeg at all'));
  const stream = await PhotoBatchStream.open({ sharp: lib.sharp, blurry: [...lib.blurry, broken] }, base);
  assert.equal(stream.counts().blurry, 3);
  assert.deepEqual(
    stream.skipped.map((s) => s.file),
    [broken],
  );
  const b = await stream.batch(0);
  assert.equal(b.unpairedBlurry.length, 2 * 3 * 16 * 16);
});

test('a file whose header reads but whose pixels do not (truncated JPEG) is skipped when first decoded', async () => {
  const dir = await tempDir('trunc');
  const [png] = await writePhotos(dir, 'whole', 1, 64, 64, 4);
  const jpeg = await sharp(png).jpeg({ quality: 90 }).toBuffer();
  const truncated = path.join(dir, 'truncated.jpg');
  await fs.writeFile(truncated, jpeg.subarray(0, jpeg.length >> 1));
  const warnings: string[] = [];
  const stream = await PhotoBatchStream.open({ sharp: [png], blurry: [truncated, png] }, { ...base, unpaired: 4, onWarning: (w) => warnings.push(w) });
  assert.equal(stream.counts().blurry, 2, 'the header is fine');
  await stream.batch(0);
  await stream.batch(1);
  assert.ok(stream.skipped.some((s) => s.file === truncated), 'skipped once its pixels fail');
  assert.ok(warnings.some((w) => w.includes('truncated.jpg')));
  await assert.rejects(
    (await PhotoBatchStream.open({ sharp: [png], blurry: [truncated] }, base)).batch(0),
    /no blurry photo could be decoded/,
  );
});
