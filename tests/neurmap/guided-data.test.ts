/**
 * Training G as the refiner of the MAP result: batches carry each blurry crop's guide (its MAP result), cut at the
 * same place and seen the same way, and the trainer feeds G [guide, blurry].
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { GuidedBatchSource, type GuidedSamples, type Image8 } from '../../src-main/engine/neurmap/guided-data.ts';
import { IterationCore } from '../../src-main/engine/neurmap/iteration.ts';
import { parseTrainingConfig } from '../../src-main/engine/neurmap/config.ts';
import { loadTrainableNetwork } from '../../src-main/engine/graph/interpreter.ts';
import { createPatchGan } from '../../src-main/engine/graph/patchgan.ts';
import { Rng } from '../../src-main/engine/synth/random.ts';
import { colourMotion, tinyDeblur, tinyRefiner } from '../helpers/tiny-onnx.ts';
import { MemoryBatchSource, useCpu } from './helpers/fixtures.ts';

before(useCpu);

const CROP = 16;
const map = (img: Image8, f: (v: number) => number): Image8 => ({ ...img, data: img.data.map(f) });
const texture = (width: number, height: number, rng: Rng): Image8 => ({ width, height, data: Uint8Array.from({ length: 3 * width * height }, () => rng.int(0, 256)) });

/** Samples whose guide and sharp image are known functions of the blurry one, so alignment can be checked. */
function samples(): GuidedSamples {
  const rng = new Rng(4);
  const pairs = [0, 1].map(() => {
    const blurry = texture(40, 32, rng);
    return { blurry, guide: map(blurry, (v) => 255 - v), sharp: map(blurry, (v) => v >> 1) };
  });
  const photos = [0, 1, 2].map(() => {
    const blurry = texture(48, 36, rng);
    return { blurry, guide: map(blurry, (v) => 255 - v) };
  });
  return { pairs, photos };
}

test('every guide is its blurry crop\'s MAP result, cut at the same place and seen in the same flip', async () => {
  const source = new GuidedBatchSource(samples(), { seed: 3, cropSize: CROP, paired: 4, unpaired: 4 });
  for (let i = 0; i < 6; i++) {
    const b = await source.batch(i);
    b.pairedBlurry.forEach((v, k) => {
      assert.ok(Math.abs(b.guides!.paired[k] - (1 - v)) < 1e-6);
      assert.ok(Math.abs(b.pairedSharp[k] - (Math.round(v * 255) >> 1) / 255) < 1e-6);
    });
    b.unpairedBlurry.forEach((v, k) => assert.ok(Math.abs(b.guides!.unpaired[k] - (1 - v)) < 1e-6));
  }
});

test('batches are a function of (seed, iteration) and use all eight views of a crop', async () => {
  const s = samples();
  const a = new GuidedBatchSource(s, { seed: 3, cropSize: CROP, paired: 2, unpaired: 2 });
  const b = new GuidedBatchSource(s, { seed: 3, cropSize: CROP, paired: 2, unpaired: 2 });
  assert.deepEqual(await a.batch(7), await b.batch(7));
  assert.notDeepEqual((await a.batch(7)).unpairedBlurry, (await a.batch(8)).unpairedBlurry);
  // A one-pixel-larger photo leaves one place for the crop: what varies is the view.
  const tiny = texture(CROP, CROP, new Rng(9));
  const one = new GuidedBatchSource({ pairs: s.pairs, photos: [{ blurry: tiny, guide: tiny }] }, { seed: 1, cropSize: CROP, paired: 0, unpaired: 1 });
  const seen = new Set<string>();
  for (let i = 0; i < 80; i++) seen.add(Array.from((await one.batch(i)).unpairedBlurry.subarray(0, CROP)).join());
  assert.equal(seen.size, 8);
});

test('samples smaller than the crop, or a half with nothing to draw from, are refused up front', () => {
  const s = samples();
  assert.throws(() => new GuidedBatchSource(s, { seed: 1, cropSize: 64, paired: 1, unpaired: 1 }), /smaller than the 64 px crop/);
  assert.throws(() => new GuidedBatchSource({ pairs: [], photos: s.photos }, { seed: 1, cropSize: CROP, paired: 1, unpaired: 1 }), /no synthetic pairs/);
});

test('a refiner G trains on [guide, blurry]; a batch without guides, or guides for a photo-only G, is a clear error', async () => {
  const cfg = parseTrainingConfig({ cropSize: CROP, iterations: 2, seed: 1 });
  const refiner = loadTrainableNetwork(tinyRefiner(3).bytes(), 'refine');
  const core = new IterationCore({ G: refiner, M: loadTrainableNetwork(colourMotion(2).bytes(), 'motion'), D: createPatchGan({ baseChannels: 4, layers: 2, seed: 5 }) }, cfg);
  assert.equal(core.guided, true);
  const before = refiner.variables.map((v) => (v.dataSync() as Float32Array).slice());
  const lr = { G: 1e-3, M: 1e-3, D: 1e-3 };
  const local = (_role: unknown, r: { grads: import('@tensorflow/tfjs').Tensor[] }) => ({ grads: r.grads });
  const source = new GuidedBatchSource(samples(), { seed: 3, cropSize: CROP, paired: 2, unpaired: 2 });
  const losses = core.iterate(await source.batch(0), lr, local);
  assert.ok(Number.isFinite(losses['G.content']) && Number.isFinite(losses['G.reblur']));
  assert.ok(refiner.variables.some((v, i) => v.dataSync().some((x, k) => x !== before[i][k])), 'G learned');
  const unguided = await new MemoryBatchSource(CROP).batch(0);
  assert.throws(() => core.iterate(unguided, lr, local), /refines the MAP result: batch 0 carries no guides/);
  const photoOnly = new IterationCore({ G: loadTrainableNetwork(tinyDeblur().bytes(), 'deblur'), M: null, D: createPatchGan({ baseChannels: 4, layers: 2, seed: 5 }) }, parseTrainingConfig({ cropSize: CROP, iterations: 1, ablations: { noMotionNetwork: true } }));
  const guided = await source.batch(1);
  assert.throws(() => photoOnly.iterate(guided, lr, local), /carries guides, but G \(deblur\) reads the photo alone/);
});
