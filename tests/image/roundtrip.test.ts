/**
 * Pixels survive decode → export → decode: exactly for PNG and TIFF (8 and 16 bit), within a
 * small tolerance for JPEG and WebP. Grey stays grey, alpha survives untouched, 16-bit stays
 * 16-bit, and colours stay in the photo's own RGB space with its ICC profile.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { decodeImage, exportImage, iccDescription } from '../../src-main/engine/image/index.ts';
import { gradientRgb8, maxAbsDiff, meanAbsDiff, noiseRgb16, noiseRgb8, rawSharp, tempDir } from './helpers.ts';

const W = 40;
const H = 24;

test('8-bit PNG: decoded pixels equal the file, and export → decode is exact', async (t) => {
  const dir = tempDir(t);
  const src = noiseRgb8(W, H);
  const file = join(dir, 'in.png');
  await rawSharp(src, W, H, 3).png().toFile(file);

  const photo = await decodeImage(file);
  assert.equal(photo.raster.depth, 8);
  assert.ok(photo.raster.rgb instanceof Uint8Array);
  assert.deepEqual([photo.raster.width, photo.raster.height], [W, H]);
  assert.equal(photo.raster.grey, false);
  assert.equal(photo.raster.alpha, null);
  assert.equal(maxAbsDiff(photo.raster.rgb, src), 0);

  const out = join(dir, 'out.png');
  const res = await exportImage(photo.raster, photo.metadata, { path: out, format: 'png', sourcePath: file });
  assert.equal(res.bitDepth, 8);
  const back = await decodeImage(out);
  assert.equal(maxAbsDiff(back.raster.rgb, src), 0);
});

for (const format of ['png', 'tiff'] as const) {
  test(`16-bit ${format.toUpperCase()}: stays 16-bit and round-trips exactly`, async (t) => {
    const dir = tempDir(t);
    const src = noiseRgb16(W, H);
    const file = join(dir, `in.${format}`);
    const enc = rawSharp(src, W, H, 3).toColourspace('rgb16');
    await (format === 'png' ? enc.png() : enc.tiff({ compression: 'deflate' })).toFile(file);
    assert.equal((await sharp(file).metadata()).depth, 'ushort');

    const photo = await decodeImage(file);
    assert.equal(photo.raster.depth, 16);
    assert.ok(photo.raster.rgb instanceof Uint16Array);
    assert.equal(photo.source.bitDepth, 16);
    assert.equal(maxAbsDiff(photo.raster.rgb, src), 0, 'decoded 16-bit values equal the file');

    const out = join(dir, `out.${format}`);
    const res = await exportImage(photo.raster, photo.metadata, { path: out, format });
    assert.equal(res.bitDepth, 16);
    const meta = await sharp(out).metadata();
    assert.equal(meta.depth, 'ushort', 'written 16-bit');
    const back = await decodeImage(out);
    assert.equal(back.raster.depth, 16);
    assert.equal(maxAbsDiff(back.raster.rgb, src), 0);
  });
}

test('a 16-bit raster exported at 8 bits is rounded to nearest; JPEG refuses 16 bits', async (t) => {
  const dir = tempDir(t);
  const src = noiseRgb16(W, H);
  const file = join(dir, 'in.png');
  await rawSharp(src, W, H, 3).toColourspace('rgb16').png().toFile(file);
  const photo = await decodeImage(file);
  const out = join(dir, 'out.png');
  const res = await exportImage(photo.raster, photo.metadata, { path: out, format: 'png', bitDepth: 8 });
  assert.equal(res.bitDepth, 8);
  const back = await decodeImage(out);
  assert.equal(back.raster.depth, 8);
  const expected = Array.from(src, (v) => Math.round(v / 257));
  assert.equal(maxAbsDiff(back.raster.rgb, expected), 0);
  await assert.rejects(exportImage(photo.raster, photo.metadata, { path: join(dir, 'x.jpg'), format: 'jpeg', bitDepth: 16 }), {
    code: 'unsupported',
  });
});

test('JPEG and WebP round trips stay within a small tolerance', async (t) => {
  const dir = tempDir(t);
  const src = gradientRgb8(64, 48);
  const file = join(dir, 'in.png');
  await rawSharp(src, 64, 48, 3).png().toFile(file);
  const photo = await decodeImage(file);
  for (const format of ['jpeg', 'webp'] as const) {
    const out = join(dir, `out.${format}`);
    await exportImage(photo.raster, photo.metadata, { path: out, format, quality: 95 });
    const back = await decodeImage(out);
    assert.equal(back.source.format, format);
    assert.ok(meanAbsDiff(back.raster.rgb, src) < 2, `${format}: mean error ${meanAbsDiff(back.raster.rgb, src)}`);
    assert.ok(maxAbsDiff(back.raster.rgb, src) < 16, `${format}: max error ${maxAbsDiff(back.raster.rgb, src)}`);
  }
});

test('grey stays grey: expanded to RGB in the raster, written as one channel again (8 and 16 bit)', async (t) => {
  const dir = tempDir(t);
  for (const depth of [8, 16] as const) {
    const grey = depth === 8 ? noiseRgb8(W, H).subarray(0, W * H) : noiseRgb16(W, H).subarray(0, W * H);
    const file = join(dir, `grey${depth}.png`);
    await rawSharp(grey, W, H, 1).toColourspace(depth === 8 ? 'b-w' : 'grey16').png().toFile(file);
    const photo = await decodeImage(file);
    assert.equal(photo.raster.grey, true);
    assert.equal(photo.raster.depth, depth);
    for (let i = 0; i < W * H; i++) {
      assert.equal(photo.raster.rgb[i * 3], grey[i]);
      assert.equal(photo.raster.rgb[i * 3 + 1], grey[i]);
      assert.equal(photo.raster.rgb[i * 3 + 2], grey[i]);
    }
    for (const format of ['png', 'tiff', 'jpeg', 'webp'] as const) {
      const out = join(dir, `grey${depth}-out.${format}`);
      const res = await exportImage(photo.raster, photo.metadata, { path: out, format });
      const meta = await sharp(out).metadata();
      if (format === 'webp') {
        assert.equal(res.channels, 1); // WebP itself stores RGB; the pixels stay grey
      } else {
        assert.equal(meta.channels, 1, `${format} written with one channel`);
        assert.equal(res.channels, 1);
      }
      const back = await decodeImage(out);
      if (format === 'png' || format === 'tiff') {
        assert.equal(back.raster.grey, true);
        assert.equal(maxAbsDiff(back.raster.rgb, photo.raster.rgb), 0, `${format} grey exact`);
      }
    }
  }
});

test('an ICC profile of the wrong kind (RGB on grey pixels) is left out with a warning', async (t) => {
  const dir = tempDir(t);
  const rgbTagged = join(dir, 'srgb.png');
  await rawSharp(gradientRgb8(W, H), W, H, 3).withIccProfile('srgb').png().toFile(rgbTagged);
  const { metadata } = await decodeImage(rgbTagged);
  const greyFile = join(dir, 'grey.png');
  await rawSharp(noiseRgb8(W, H).subarray(0, W * H), W, H, 1).toColourspace('b-w').png().toFile(greyFile);
  const grey = await decodeImage(greyFile);
  assert.equal(grey.raster.grey, true);
  const out = join(dir, 'out.png');
  const res = await exportImage(grey.raster, metadata, { path: out, format: 'png' });
  assert.deepEqual(res.warnings, ['ICC profile left out: it describes RGB data, the image is grey']);
  assert.equal((await sharp(out).metadata()).icc, undefined);
});

test('alpha is carried through untouched and written back where the format has it', async (t) => {
  const dir = tempDir(t);
  const rgba = noiseRgb8(W, H * 4 / 3, 3).subarray(0, W * H * 4);
  const alpha = Uint8Array.from({ length: W * H }, (_, i) => rgba[i * 4 + 3]);
  const file = join(dir, 'rgba.png');
  await rawSharp(rgba, W, H, 4).png().toFile(file);
  const photo = await decodeImage(file);
  assert.ok(photo.raster.alpha);
  assert.equal(maxAbsDiff(photo.raster.alpha, alpha), 0);
  const rgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => rgba[Math.floor(i / 3) * 4 + (i % 3)]);
  assert.equal(maxAbsDiff(photo.raster.rgb, rgb), 0, 'colour is not premultiplied or flattened');

  for (const format of ['png', 'tiff', 'webp'] as const) {
    const out = join(dir, `out.${format}`);
    const res = await exportImage(photo.raster, photo.metadata, { path: out, format, quality: 100 });
    assert.equal(res.channels, 4);
    assert.equal((await sharp(out).metadata()).hasAlpha, true);
    const back = await decodeImage(out);
    assert.ok(back.raster.alpha, `${format} keeps alpha`);
    assert.equal(maxAbsDiff(back.raster.alpha, alpha), 0, `${format} alpha exact`);
  }
  const jpg = join(dir, 'out.jpg');
  const res = await exportImage(photo.raster, photo.metadata, { path: jpg, format: 'jpeg' });
  assert.equal(res.channels, 3);
  assert.match(res.warnings.join('\n'), /JPEG has no transparency/);
});

test('colour stays in the photo’s own space: a Display P3 PNG is not converted, its profile travels', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'p3.png');
  // sharp converts these sRGB pixels into P3 and tags the file with the P3 profile
  await rawSharp(gradientRgb8(W, H), W, H, 3).withIccProfile('p3').png().toFile(file);
  const stored = await sharp(file, { ignoreIcc: true }).raw().toBuffer(); // the values in the file, unconverted

  const photo = await decodeImage(file);
  assert.equal(photo.source.convertedToSrgb, false);
  assert.equal(maxAbsDiff(photo.raster.rgb, stored), 0, 'raster holds the stored P3 values');
  assert.ok(photo.metadata.icc);
  assert.match(iccDescription(photo.metadata.icc), /P3/);

  const out = join(dir, 'out.tif');
  await exportImage(photo.raster, photo.metadata, { path: out, format: 'tiff' });
  const meta = await sharp(out).metadata();
  assert.ok(meta.icc && Buffer.compare(meta.icc, photo.metadata.icc) === 0, 'the same profile, byte for byte');
  assert.equal(maxAbsDiff(await sharp(out, { ignoreIcc: true }).raw().toBuffer(), stored), 0, 'the same values');
});

test('CMYK is converted to sRGB and tagged sRGB', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'cmyk.jpg');
  const red = new Uint8Array(W * H * 3).map((_, i) => (i % 3 === 0 ? 230 : 20));
  await rawSharp(red, W, H, 3).toColourspace('cmyk').jpeg({ quality: 95 }).toFile(file);
  assert.equal((await sharp(file).metadata()).space, 'cmyk');
  const photo = await decodeImage(file);
  assert.equal(photo.source.convertedToSrgb, true);
  assert.ok(photo.metadata.icc);
  assert.match(iccDescription(photo.metadata.icc), /sRGB/i);
  const [r, g, b] = photo.raster.rgb;
  assert.ok(r > 180 && g < 90 && b < 90, `still red: ${r},${g},${b}`);
});

test('a file’s name does not decide its format: a PNG named .jpg decodes as PNG', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'really-a-png.jpg');
  writeFileSync(file, await rawSharp(noiseRgb8(W, H), W, H, 3).png().toBuffer());
  const photo = await decodeImage(file);
  assert.equal(photo.source.format, 'png');
});
