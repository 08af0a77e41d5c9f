/**
 * The shipped weights (models/*.onnx from training/export.py): ONNX Runtime reproduces PyTorch's output on the
 * reference input exported beside each model, and G actually deblurs: a cheap regression guard on the weights.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { appRoot } from '../../src-main/engine/paths.ts';
import { closeSessions, openSession } from '../../src-main/engine/infer/session.ts';
import { psnr } from '../../src-main/engine/metrics/fidelity.ts';
import { Rng, blurPhoto, cropFloatImage, linearOffsetField, type FloatImage } from '../../src-main/engine/synth/index.ts';
import { deblurFloat } from '../../tools/eval/run-networks.ts';

const models = path.join(appRoot, 'models');
/**
 * PSNR gain the shipped fast G must keep on this image (a linear-light blur of half-length 4–6 px). The issue's
 * target is 2 dB; the weights trained so far measure 0.63 dB here (models/MODEL_CARD.md), so the guard holds
 * them there, with a margin for platform rounding. Raise it with better weights.
 */
const MIN_GAIN_DB = 0.5;
/** Sharp photos must come out untouched (the no-blur target). */
const MIN_NO_BLUR_PSNR = 40;

for (const name of ['deblur', 'motion', 'deblur-fine']) {
  const ref = path.join(models, `${name}.io.json`);
  test(`${name}.onnx: ONNX Runtime matches PyTorch on the exported reference input (max abs < 1e-4)`, { skip: !fs.existsSync(ref) && `${name}.io.json is not shipped` }, async () => {
    const io = JSON.parse(fs.readFileSync(ref, 'utf8'));
    const session = await openSession(path.join(models, `${name}.onnx`), { cache: false });
    try {
      const [, , h, w] = io.input.shape;
      const { output } = await session.run(Float32Array.from(io.input.data), h, w);
      const expected: number[] = io.output.data;
      assert.equal(output.length, expected.length);
      let worst = 0;
      for (let i = 0; i < output.length; i++) worst = Math.max(worst, Math.abs(output[i] - expected[i]));
      assert.ok(worst < 1e-4, `max abs difference ${worst}`);
    } finally {
      await session.dispose();
    }
  });
}

async function coffee(): Promise<FloatImage> {
  const { data, info } = await sharp(path.join(appRoot, 'resources', 'samples', 'coffee-sharp.jpg')).raw().toBuffer({ resolveWithObject: true });
  const plane = info.width * info.height;
  const img: FloatImage = { width: info.width, height: info.height, data: new Float32Array(3 * plane) };
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) img.data[c * plane + i] = data[3 * i + c] / 255;
  return cropFloatImage(img, 150, 60, 320, 256);
}

test('the shipped G deblurs a small synthetic blurry photo and leaves a sharp one alone', { skip: !fs.existsSync(path.join(models, 'deblur.onnx')) && 'models/deblur.onnx is not shipped' }, async () => {
  const sharpImg = await coffee();
  const rng = new Rng(7);
  const { width: w, height: h } = sharpImg;
  const angle = rng.uniform(0, Math.PI);
  const len = rng.uniform(4, 6);
  const field = linearOffsetField(w, h, new Float32Array(w * h).fill(len * Math.cos(angle)), new Float32Array(w * h).fill(len * Math.sin(angle)), 21);
  const blurry = blurPhoto(sharpImg, field, { linearLight: true });
  const session = await openSession(path.join(models, 'deblur.onnx'), { role: 'deblur' });
  const { out } = await deblurFloat(session, blurry);
  const gain = psnr(out, sharpImg) - psnr(blurry, sharpImg);
  assert.ok(gain >= MIN_GAIN_DB, `PSNR gain ${gain.toFixed(2)} dB`);
  const { out: same } = await deblurFloat(session, sharpImg);
  assert.ok(psnr(same, sharpImg) >= MIN_NO_BLUR_PSNR, `no-blur PSNR ${psnr(same, sharpImg).toFixed(1)} dB`);
  await closeSessions();
});
