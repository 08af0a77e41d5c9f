/**
 * Formats are told by content: HEIC/HEIF (HEVC) goes through libheif's WebAssembly build, AVIF
 * (the same container, AV1 inside) through sharp, decided by the ftyp brands.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeImage, exportImage, sniffFormat } from '../../src-main/engine/image/index.ts';
import { FIXTURES, gradientRgb8, meanAbsDiff, rawSharp, tempDir } from './helpers.ts';

function ftyp(major: string, ...compatible: string[]): Uint8Array {
  const size = 16 + 4 * compatible.length;
  const b = Buffer.alloc(size);
  b.writeUInt32BE(size, 0);
  b.write('ftyp', 4, 'latin1');
  b.write(major, 8, 'latin1');
  compatible.forEach((c, i) => b.write(c, 16 + 4 * i, 'latin1'));
  return b;
}

test('ISO-BMFF brands decide between HEIF and AVIF', () => {
  assert.deepEqual(sniffFormat(ftyp('heic', 'mif1', 'heic')), { kind: 'image', format: 'heif', brands: ['heic', 'mif1', 'heic'] });
  assert.equal((sniffFormat(ftyp('mif1', 'mif1', 'heic', 'miaf')) as { format: string }).format, 'heif');
  assert.equal((sniffFormat(ftyp('avif', 'mif1', 'avif', 'miaf')) as { format: string }).format, 'avif');
  assert.equal((sniffFormat(ftyp('mif1', 'mif1', 'avif', 'miaf')) as { format: string }).format, 'avif');
  assert.deepEqual(sniffFormat(ftyp('isom', 'isom', 'mp41')), { kind: 'unsupported', name: 'an ISO media file (brand "isom", e.g. a video)' });
  assert.equal((sniffFormat(readFileSync(join(FIXTURES, 'iphone-irot-p3.heic'))) as { format: string }).format, 'heif');
});

test('the other signatures', () => {
  const f = (bytes: number[] | string) => sniffFormat(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Uint8Array.from(bytes));
  assert.deepEqual(f([0xff, 0xd8, 0xff, 0xe0]), { kind: 'image', format: 'jpeg' });
  assert.deepEqual(f('II*\0\x08\0\0\0'), { kind: 'image', format: 'tiff' });
  assert.deepEqual(f('MM\0*\0\0\0\x08'), { kind: 'image', format: 'tiff' });
  assert.deepEqual(f('RIFF\x10\0\0\0WEBPVP8 '), { kind: 'image', format: 'webp' });
  assert.deepEqual(f('GIF89a'), { kind: 'unsupported', name: 'GIF' });
  assert.deepEqual(f('hello world\n'), { kind: 'unknown', looksLikeText: true });
});

test('HEIC 10-bit with alpha decodes to a 16-bit raster with its alpha', async () => {
  // coded: red ramps 0→1 left to right, green 0→1 top to bottom, blue 0.5; alpha 1 left half, 0.25 right half
  const photo = await decodeImage(join(FIXTURES, 'ten-bit-alpha.heic'));
  const r = photo.raster;
  assert.equal(photo.source.bitDepth, 10);
  assert.equal(r.depth, 16);
  assert.ok(r.rgb instanceof Uint16Array);
  assert.ok(r.alpha instanceof Uint16Array);
  const px = (x: number, y: number) => Array.from(r.rgb.subarray((y * r.width + x) * 3, (y * r.width + x) * 3 + 3));
  const near = (a: number, b: number, tol = 1500) => Math.abs(a - b) <= tol;
  assert.ok(near(px(0, 0)[0], 0) && near(px(63, 0)[0], 65535), `red ramp ${px(0, 0)[0]}…${px(63, 0)[0]}`);
  assert.ok(near(px(0, 0)[1], 0) && near(px(0, 47)[1], 65535), `green ramp ${px(0, 0)[1]}…${px(0, 47)[1]}`);
  assert.ok(near(px(20, 20)[2], 32768), `blue ${px(20, 20)[2]}`);
  assert.ok(near(r.alpha[10 * 64 + 5], 65535) && near(r.alpha[10 * 64 + 60], 16384), 'alpha halves');
});

test('AVIF decodes through sharp (told apart from HEIC by its brands)', async (t) => {
  const dir = tempDir(t);
  const src = gradientRgb8(48, 32);
  const file = join(dir, 'photo.heic'); // the name lies; the content decides
  await rawSharp(src, 48, 32, 3).avif({ quality: 90, chromaSubsampling: '4:4:4' }).toFile(file);
  const photo = await decodeImage(file);
  assert.equal(photo.source.format, 'avif');
  assert.ok(meanAbsDiff(photo.raster.rgb, src) < 4);
});

test('HEIC exports to every format', async (t) => {
  const dir = tempDir(t);
  const photo = await decodeImage(join(FIXTURES, 'ten-bit-alpha.heic'));
  for (const format of ['png', 'tiff', 'webp', 'jpeg'] as const) {
    const out = join(dir, `out.${format}`);
    const res = await exportImage(photo.raster, photo.metadata, { path: out, format });
    assert.equal(res.bitDepth, format === 'png' || format === 'tiff' ? 16 : 8);
    const back = await decodeImage(out);
    assert.deepEqual([back.raster.width, back.raster.height], [64, 48]);
    assert.equal(back.raster.alpha !== null, format !== 'jpeg');
  }
});
