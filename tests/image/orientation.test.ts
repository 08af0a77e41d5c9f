/**
 * All eight EXIF orientations come out display-oriented. For each, an asymmetric picture is stored
 * the way a camera in that position would store it, tagged with the orientation, and decoded: the
 * raster must be the upright picture. The mapping below is EXIF's own definition, written out.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { decodeImage, exportImage } from '../../src-main/engine/image/index.ts';
import { FIXTURES, maxAbsDiff, meanAbsDiff, rawSharp, tempDir } from './helpers.ts';

/** Upright picture: 32×24 in 8×8 blocks of distinct colours, no symmetry. */
const DW = 32;
const DH = 24;
function upright(): Uint8Array {
  const px = new Uint8Array(DW * DH * 3);
  for (let y = 0; y < DH; y++) {
    for (let x = 0; x < DW; x++) {
      const bx = x >> 3;
      const by = y >> 3;
      const i = (y * DW + x) * 3;
      px[i] = 30 + bx * 60;
      px[i + 1] = 30 + by * 90;
      px[i + 2] = (bx + by) % 2 ? 220 : 40;
    }
  }
  return px;
}

/**
 * Where display pixel (x, y) is stored, per the EXIF definition of each orientation value
 * (w×h is the stored size): 1 as is, 2 mirrored, 3 rotated 180°, 4 flipped, 5 transposed,
 * 6 stored rotated 90° anticlockwise (display turns it clockwise), 7 transversed, 8 the reverse of 6.
 */
function storedPosition(o: number, x: number, y: number, w: number, h: number): [number, number] {
  switch (o) {
    case 1: return [x, y];
    case 2: return [w - 1 - x, y];
    case 3: return [w - 1 - x, h - 1 - y];
    case 4: return [x, h - 1 - y];
    case 5: return [y, x];
    case 6: return [y, h - 1 - x];
    case 7: return [w - 1 - y, h - 1 - x];
    case 8: return [w - 1 - y, x];
    default: throw new Error(`orientation ${o}`);
  }
}

function storedFor(o: number, display: Uint8Array): { data: Uint8Array; w: number; h: number } {
  const swap = o >= 5;
  const w = swap ? DH : DW;
  const h = swap ? DW : DH;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < DH; y++) {
    for (let x = 0; x < DW; x++) {
      const [sx, sy] = storedPosition(o, x, y, w, h);
      data.set(display.subarray((y * DW + x) * 3, (y * DW + x) * 3 + 3), (sy * w + sx) * 3);
    }
  }
  return { data, w, h };
}

for (const format of ['jpeg', 'png', 'webp', 'tiff'] as const) {
  test(`all 8 EXIF orientations are applied (${format})`, async (t) => {
    const dir = tempDir(t);
    const display = upright();
    for (let o = 1; o <= 8; o++) {
      const { data, w, h } = storedFor(o, display);
      const file = join(dir, `o${o}.${format}`);
      const enc = rawSharp(data, w, h, 3).withMetadata({ orientation: o });
      const typed =
        format === 'jpeg' ? enc.jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
        : format === 'png' ? enc.png()
        : format === 'webp' ? enc.webp({ lossless: true })
        : enc.tiff({ compression: 'deflate' });
      await typed.toFile(file);
      assert.equal((await sharp(file).metadata()).orientation ?? 1, o, `the file carries orientation ${o}`);

      const photo = await decodeImage(file);
      assert.equal(photo.source.orientation, o);
      assert.deepEqual([photo.source.width, photo.source.height], [w, h], 'source size is as stored');
      assert.deepEqual([photo.raster.width, photo.raster.height], [DW, DH], `orientation ${o}: upright size`);
      if (format === 'jpeg') {
        assert.ok(meanAbsDiff(photo.raster.rgb, display) < 3, `orientation ${o}: picture upright`);
      } else {
        assert.equal(maxAbsDiff(photo.raster.rgb, display), 0, `orientation ${o}: picture upright`);
      }
    }
  });
}

test('exported files are upright with Orientation 1', async (t) => {
  const dir = tempDir(t);
  const display = upright();
  const { data, w, h } = storedFor(6, display);
  const file = join(dir, 'o6.jpg');
  await rawSharp(data, w, h, 3).withMetadata({ orientation: 6 }).jpeg({ quality: 100 }).toFile(file);
  const photo = await decodeImage(file);
  for (const format of ['jpeg', 'png', 'webp', 'tiff'] as const) {
    const out = join(dir, `out.${format}`);
    await exportImage(photo.raster, photo.metadata, { path: out, format });
    const meta = await sharp(out).metadata();
    assert.equal(meta.orientation ?? 1, 1, `${format}: orientation reset`);
    assert.deepEqual([meta.width, meta.height], [DW, DH], `${format}: stored upright`);
  }
});

test('HEIC: rotation stored in the container (irot, as iPhones do) is applied once', async () => {
  // 64×48 coded, irot 90° clockwise, EXIF Orientation 6 too: upright it is 48×64
  const photo = await decodeImage(join(FIXTURES, 'iphone-irot-p3.heic'));
  assert.equal(photo.source.format, 'heif');
  assert.deepEqual([photo.source.width, photo.source.height], [64, 48]);
  assert.equal(photo.source.orientation, 6);
  assert.deepEqual([photo.raster.width, photo.raster.height], [48, 64]);
  // stored quadrants red | green / blue | light grey, turned clockwise:
  // blue | red / light grey | green
  const at = (x: number, y: number) => Array.from(photo.raster.rgb.subarray((y * 48 + x) * 3, (y * 48 + x) * 3 + 3));
  const near = (got: number[], want: number[]) => got.every((v, i) => Math.abs(v - want[i]) <= 12);
  assert.ok(near(at(12, 16), [40, 60, 220]), `top left blue: ${at(12, 16)}`);
  assert.ok(near(at(36, 16), [220, 40, 40]), `top right red: ${at(36, 16)}`);
  assert.ok(near(at(12, 48), [230, 230, 230]), `bottom left grey: ${at(12, 48)}`);
  assert.ok(near(at(36, 48), [40, 200, 60]), `bottom right green: ${at(36, 48)}`);
});

test('HEIC: an EXIF Orientation without container rotation is not applied (HEIF rule)', async () => {
  const photo = await decodeImage(join(FIXTURES, 'exif-orientation-only.heic'));
  assert.equal(photo.metadata.summary.orientation, 6, 'the tag is reported');
  assert.equal(photo.source.orientation, 1, 'but not applied');
  assert.deepEqual([photo.raster.width, photo.raster.height], [64, 48]);
  const [r, g, b] = photo.raster.rgb;
  assert.ok(r > 200 && g < 60 && b < 60, 'top left is the stored red quadrant');
});
