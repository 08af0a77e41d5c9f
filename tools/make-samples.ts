/**
 * Makes resources/samples/coffee-shake.jpg, the README's first-run photo, from the CC0 sharp original
 * (scikit-image's "coffee", photo by Rachel Michetti): camera shake in linear light, sensor noise, JPEG, with EXIF.
 * Run: node --import tsx tools/make-samples.ts
 */
import path from 'node:path';
import sharp from 'sharp';
import { appRoot } from '../src-main/engine/paths.ts';
import { Rng, addSensorNoise, blurPhoto, randomShakeMotion, type FloatImage } from '../src-main/engine/synth/index.ts';

const samples = path.join(appRoot, 'resources', 'samples');
const { data, info } = await sharp(path.join(samples, 'coffee-sharp.jpg')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
const { width, height } = info;
const plane = width * height;
const img: FloatImage = { width, height, data: new Float32Array(3 * plane) };
for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) img.data[c * plane + i] = data[3 * i + c] / 255;

const rng = new Rng(2024);
const motion = randomShakeMotion(rng, width, height, { extent: [14, 14], maxRotation: 0.01 });
const blurry = addSensorNoise(blurPhoto(img, motion.field, { linearLight: true, highlight: { threshold: 0.9, gain: 2 } }), { shot: 1e-3, read: 2e-5 }, rng);
const out = Buffer.alloc(3 * plane);
for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[3 * i + c] = Math.round(Math.min(1, Math.max(0, blurry.data[c * plane + i])) * 255);
await sharp(out, { raw: { width, height, channels: 3 } })
  .jpeg({ quality: 90 })
  .withExif({ IFD0: { Make: 'NeurMAP Studio', Model: 'synthetic camera shake', Copyright: 'CC0 (scikit-image coffee, Rachel Michetti)' } })
  .toFile(path.join(samples, 'coffee-shake.jpg'));
console.log(`wrote coffee-shake.jpg (${width}×${height}, shake half-extent up to ${motion.maxHalfExtentPx.toFixed(1)} px)`);
