/**
 * Bad input gets one clear line naming the file (an ImageError with a code) and nothing else
 * happens. Each case below shows the exact message a user sees.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_MAX_PIXELS, ImageError, decodeImage } from '../../src-main/engine/image/index.ts';
import { readError } from '../../src-main/engine/image/errors.ts';
import { FIXTURES, canRunAsNobody, isRoot, noiseRgb8, pngClaimingSize, rawSharp, runAsNobody, tempDir } from './helpers.ts';

/** The decode of `path` must fail with exactly this code and message. */
async function refuses(path: string, code: string, message: string, opts?: Parameters<typeof decodeImage>[1]) {
  await assert.rejects(decodeImage(path, opts), (e: unknown) => {
    assert.ok(e instanceof ImageError, `an ImageError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    assert.equal(e.message.includes('\n'), false, 'one line');
    return true;
  });
}

test('a truncated JPEG', async (t) => {
  const dir = tempDir(t);
  const jpg = await rawSharp(noiseRgb8(64, 48), 64, 48, 3).jpeg().toBuffer();
  const file = join(dir, 'photo.jpg');
  writeFileSync(file, jpg.subarray(0, Math.floor(jpg.length / 2)));
  await refuses(file, 'truncated', 'photo.jpg: the file is truncated or corrupt (JPEG data ends early)');
});

test('a truncated PNG and a truncated HEIC', async (t) => {
  const dir = tempDir(t);
  const png = await rawSharp(noiseRgb8(64, 48), 64, 48, 3).png().toBuffer();
  writeFileSync(join(dir, 'cut.png'), png.subarray(0, Math.floor(png.length / 2)));
  await refuses(join(dir, 'cut.png'), 'truncated', 'cut.png: the file is truncated or corrupt (PNG data ends early)');
  const heic = readFileSync(join(FIXTURES, 'exif-orientation-only.heic'));
  writeFileSync(join(dir, 'cut.heic'), heic.subarray(0, heic.length - 200));
  await assert.rejects(decodeImage(join(dir, 'cut.heic')), (e: ImageError) => {
    assert.equal(e.code, 'truncated');
    assert.equal(e.message, 'cut.heic: the file is truncated or corrupt (HEIC/HEIF data ends early)');
    return true;
  });
});

test('a zero-byte file', async (t) => {
  const file = join(tempDir(t), 'empty.jpg');
  writeFileSync(file, '');
  await refuses(file, 'empty', 'empty.jpg: the file is empty (0 bytes)');
});

test('a text file named .jpg', async (t) => {
  const file = join(tempDir(t), 'notes.jpg');
  writeFileSync(file, 'Shopping list:\n- milk\n- bread\n');
  await refuses(file, 'not-an-image', 'notes.jpg: not an image (it contains text; expected JPEG, PNG, TIFF, WebP, HEIC/HEIF or AVIF)');
});

test('random bytes named .png', async (t) => {
  const file = join(tempDir(t), 'noise.png');
  writeFileSync(file, Buffer.from(noiseRgb8(100, 1, 5)).fill(0, 0, 1));
  await refuses(file, 'not-an-image', 'noise.png: not an image (its content is no known image format; expected JPEG, PNG, TIFF, WebP, HEIC/HEIF or AVIF)');
});

test('an image kind that is not supported (GIF)', async (t) => {
  const file = join(tempDir(t), 'anim.gif');
  await rawSharp(noiseRgb8(32, 32), 32, 32, 3).gif().toFile(file);
  await refuses(file, 'unsupported', 'anim.gif: GIF files are not supported (use JPEG, PNG, TIFF, WebP, HEIC/HEIF or AVIF)');
});

test('a 0×0 image (a PNG whose header claims 0×0)', async (t) => {
  const file = join(tempDir(t), 'nothing.png');
  writeFileSync(file, await pngClaimingSize(0, 0));
  await refuses(file, 'too-small', 'nothing.png: the image has no pixels (its header says 0×0)');
});

test('a 1×1 image is too small to deblur (the minimum is 16×16); minSide lowers it', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'dot.png');
  await rawSharp(new Uint8Array([200, 100, 50]), 1, 1, 3).png().toFile(file);
  await refuses(file, 'too-small', 'dot.png: the image is too small to deblur (1×1 pixels; the minimum is 16×16)');
  const photo = await decodeImage(file, { minSide: 1 });
  assert.deepEqual(Array.from(photo.raster.rgb), [200, 100, 50]);
});

test('an image over the pixel limit is refused before decoding, naming the limit', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'panorama.png');
  // a small PNG whose header claims 20000×10000: refused from the header, the pixels are never read
  writeFileSync(file, await pngClaimingSize(20000, 10000));
  assert.equal(DEFAULT_MAX_PIXELS, 120_000_000);
  await refuses(file, 'too-large', 'panorama.png: the image is too large (20000×10000 = 200 megapixels; the limit is 120 megapixels)');
  // the limit is configurable
  const small = join(dir, 'small.png');
  await rawSharp(noiseRgb8(64, 48), 64, 48, 3).png().toFile(small);
  await refuses(small, 'too-large', 'small.png: the image is too large (64×48 = 3,072 pixels; the limit is 3,000 pixels)', { maxPixels: 3000 });
  await refuses(join(FIXTURES, 'ten-bit-alpha.heic'), 'too-large', 'ten-bit-alpha.heic: the image is too large (64×48 = 3,072 pixels; the limit is 3,000 pixels)', {
    maxPixels: 3000,
  });
});

test('a path that does not exist', async (t) => {
  const dir = tempDir(t);
  await refuses(join(dir, 'IMG_404.jpg'), 'not-found', 'IMG_404.jpg: the file does not exist');
});

test('a path through a regular file (ENOTDIR)', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'album.txt'), 'not a folder');
  await refuses(join(dir, 'album.txt', 'photo.jpg'), 'not-found', 'photo.jpg: the file does not exist (album.txt is not a folder)');
});

test('a folder given as a photo', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'Holidays'));
  await refuses(join(dir, 'Holidays'), 'not-an-image', 'Holidays: this is a folder, not an image file');
});

test('a folder without read permission', { skip: process.platform === 'win32' }, async (t) => {
  const dir = tempDir(t);
  const locked = join(dir, 'private');
  mkdirSync(locked);
  const file = join(locked, 'photo.jpg');
  await rawSharp(noiseRgb8(32, 32), 32, 32, 3).jpeg().toFile(file);
  chmodSync(locked, 0o000);
  try {
    // root reads everything, so as root the call runs in a child process as the user `nobody`;
    // where nobody cannot load this checkout, the errno mapping is checked with the error itself
    if (isRoot) chmodSync(dir, 0o755);
    const pick = (e: ImageError) => ({ code: e.code, message: e.message });
    const outcome =
      isRoot && canRunAsNobody()
        ? runAsNobody('decode', { path: file })
        : isRoot
          ? (t.diagnostic('nobody cannot read this checkout: checking the EACCES mapping directly'),
            pick(readError(file, Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }))))
          : await decodeImage(file).then(() => ({ ok: true }), pick);
    assert.deepEqual(outcome, { code: 'permission', message: 'photo.jpg: permission denied: the file or its folder cannot be read' });
  } finally {
    chmodSync(locked, 0o755);
  }
});
