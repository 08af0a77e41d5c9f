/**
 * Child process for memory and speed measurements (so earlier tests do not pollute peak RSS):
 *   node --import tsx tests/helpers/infer-child.ts MODEL WIDTH HEIGHT [deblur|motion|strength] [tileSize] [overlap]
 * Prints one JSON line: { maxRssMB, seconds, tiles, provider, checksum }.
 */
import { openSession, closeSessions } from '../../src-main/engine/infer/session.ts';
import { deblurRaster } from '../../src-main/engine/infer/deblur.ts';
import { estimateMotion } from '../../src-main/engine/infer/motion.ts';
import { applyStrength } from '../../src-main/engine/infer/strength.ts';
import { createRaster } from '../../src-main/engine/image/raster.ts';

const [model, ws, hs, mode = 'deblur', tileS, overlapS] = process.argv.slice(2);
const width = Number(ws);
const height = Number(hs);
const raster = createRaster(width, height, 8);
const rgb = raster.rgb;
for (let y = 0; y < height; y++) {
  for (let x = 0; x < width; x++) {
    const i = 3 * (y * width + x);
    rgb[i] = (x * 255) / width;
    rgb[i + 1] = (y * 255) / height;
    rgb[i + 2] = (x + y) & 255;
  }
}
const tileSize = tileS ? Number(tileS) : undefined;
const overlap = overlapS ? Number(overlapS) : undefined;
const t0 = performance.now();
let tiles = 0;
let provider = '';
let checksum = 0;
if (mode === 'motion') {
  const s = await openSession(model, { role: 'motion' });
  const r = await estimateMotion(s, raster, { tileSize, overlap });
  tiles = r.tiles;
  provider = String(r.provider);
  checksum = r.blurScore;
} else {
  const s = await openSession(model, { role: 'deblur' });
  const r = await deblurRaster(s, raster, { tileSize, overlap });
  tiles = r.tiles;
  provider = String(r.provider);
  if (mode === 'strength') {
    const out = applyStrength(raster, r, 0.7);
    checksum = out.rgb[out.rgb.length >> 1];
  } else {
    checksum = r.data[r.data.length >> 1];
  }
}
const seconds = (performance.now() - t0) / 1000;
await closeSessions();
const maxRssMB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(JSON.stringify({ maxRssMB, seconds, tiles, provider, checksum }) + '\n');
