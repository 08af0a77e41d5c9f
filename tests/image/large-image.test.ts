/**
 * A 100-megapixel photo decodes within the memory cap: the raster is the only large allocation
 * (3 bytes a pixel at 8 bits), the decoder streams. A solid PNG is cheap to make at that size.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { DEFAULT_MAX_PIXELS, decodeImage } from '../../src-main/engine/image/index.ts';
import { tempDir } from './helpers.ts';

test('a 100-megapixel image decodes within the default cap, with bounded memory', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'huge.png');
  const W = 10_000;
  const H = 10_000;
  await sharp({ create: { width: W, height: H, channels: 3, background: { r: 90, g: 120, b: 200 } } })
    .png({ compressionLevel: 1 })
    .toFile(file);
  assert.ok(W * H <= DEFAULT_MAX_PIXELS);

  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const started = Date.now();
  const photo = await decodeImage(file);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const seconds = (Date.now() - started) / 1000;

  assert.deepEqual([photo.raster.width, photo.raster.height, photo.raster.depth], [W, H, 8]);
  assert.equal(photo.raster.rgb.length, W * H * 3);
  const mid = (H / 2 * W + W / 2) * 3;
  assert.deepEqual(Array.from(photo.raster.rgb.subarray(mid, mid + 3)), [90, 120, 200]);
  const grownMB = (peak - before) / 2 ** 20;
  const rasterMB = (W * H * 3) / 2 ** 20;
  t.diagnostic(`decoded in ${seconds.toFixed(1)} s; RSS grew ${grownMB.toFixed(0)} MiB for a ${rasterMB.toFixed(0)} MiB raster`);
  assert.ok(grownMB < rasterMB * 2, `memory stays near the raster size (grew ${grownMB.toFixed(0)} MiB)`);
});
