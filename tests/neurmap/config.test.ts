import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultTrainingConfig,
  effectiveSettings,
  learningRateFactor,
  parseTrainingConfig,
  TrainingConfigError,
} from '../../src-main/engine/neurmap/config.ts';

test('the defaults are the reference setting of NEURMAP.md', () => {
  const c = defaultTrainingConfig();
  assert.deepEqual(c.batch, { paired: 2, unpaired: 2 });
  assert.equal(c.optimizer.beta1, 0.9);
  assert.deepEqual(c.optimizer.lr, { G: 5e-5, M: 1e-4, D: 1e-4 });
  assert.equal(c.optimizer.schedule, 'linear');
  assert.deepEqual(c.weights.motion, {
    sharpZero: 0.002,
    blurryUpper: 0.001,
    deblurredTowardBlurry: 0.001,
    magnitudeOrder: 1,
    reblurMse: 1,
    reblurMsSsim: 0.1,
    offsetTv: 0.002,
  });
  assert.deepEqual(c.weights.generator, { content: 100, reblur: 100, reblurMsSsim: 0.1, sharpPrior: 0.5, naturalPrior: 1, motionTv: 0, imageTv: 0 });
  assert.deepEqual(c.ablations, { noReblur: false, noMotionNetwork: false, sharpVsBlurryDiscriminator: false, noTV: false });
  assert.equal(c.cropSize, 256);
  assert.equal(c.sharpPoolSize, 50);
});

test('any subset may be given; the rest keeps the reference values', () => {
  const c = parseTrainingConfig({ seed: 7, cropSize: 64, weights: { generator: { sharpPrior: 2 } }, optimizer: { lr: { G: 1e-3 } } });
  assert.equal(c.seed, 7);
  assert.equal(c.weights.generator.sharpPrior, 2);
  assert.equal(c.weights.generator.content, 100);
  assert.deepEqual(c.optimizer.lr, { G: 1e-3, M: 1e-4, D: 1e-4 });
});

test('an unknown key is refused, naming it', () => {
  assert.throws(() => parseTrainingConfig({ weights: { generator: { contnet: 1 } } }), (err: unknown) => {
    assert.ok(err instanceof TrainingConfigError);
    assert.match(err.message, /unknown key "weights\.generator\.contnet"/);
    return true;
  });
  assert.throws(() => parseTrainingConfig({ learningRate: 1 }), /unknown key "learningRate"/);
  assert.throws(() => parseTrainingConfig({ ablations: { noGAN: true } }), /unknown key "ablations\.noGAN"/);
});

test('a negative weight or learning rate is refused, naming it and its value', () => {
  assert.throws(() => parseTrainingConfig({ weights: { motion: { offsetTv: -0.1 } } }), /weights\.motion\.offsetTv: must not be negative \(got -0\.1\)/);
  assert.throws(() => parseTrainingConfig({ optimizer: { lr: { D: -1e-4 } } }), /optimizer\.lr\.D: must not be negative/);
  assert.throws(() => parseTrainingConfig({ weights: { generator: { content: Number.NaN } } }), /weights\.generator\.content/);
  assert.throws(() => parseTrainingConfig({ iterations: 0 }), /iterations/);
  assert.throws(() => parseTrainingConfig({ batch: { paired: 0, unpaired: 0 } }), /batch/);
  assert.throws(() => parseTrainingConfig({ data: { recipes: { linear: 0, shake: 0, none: 0 } } }), /recipe/);
});

test('every ablation is one flag', () => {
  const base = effectiveSettings(defaultTrainingConfig());
  assert.equal(base.useReblur, true);
  assert.equal(base.discriminatorMode, 'natural');

  const noReblur = effectiveSettings(parseTrainingConfig({ ablations: { noReblur: true } }));
  assert.equal(noReblur.useReblur, false);
  assert.equal(noReblur.generator.reblur, 0);
  assert.equal(noReblur.motion.reblurMse, 0);
  assert.equal(noReblur.motion.sharpZero, 0.002);

  const gan = effectiveSettings(parseTrainingConfig({ ablations: { noMotionNetwork: true } }));
  assert.equal(gan.useMotionNetwork, false);
  assert.equal(gan.generator.sharpPrior, 0);
  assert.equal(gan.generator.reblur, 0);
  assert.equal(gan.generator.content, 100);
  assert.equal(gan.generator.naturalPrior, 1);

  assert.equal(effectiveSettings(parseTrainingConfig({ ablations: { sharpVsBlurryDiscriminator: true } })).discriminatorMode, 'sharp-vs-blurry');

  const noTv = effectiveSettings(parseTrainingConfig({ ablations: { noTV: true }, weights: { generator: { imageTv: 0.1 } } }));
  assert.equal(noTv.motion.offsetTv, 0);
  assert.equal(noTv.generator.imageTv, 0);
  assert.equal(noTv.motion.magnitudeOrder, 1);
});

test('learning rates decay linearly to 0', () => {
  const c = parseTrainingConfig({ iterations: 100 });
  assert.equal(learningRateFactor(c, 0), 1);
  assert.equal(learningRateFactor(c, 50), 0.5);
  assert.ok(Math.abs(learningRateFactor(c, 99) - 0.01) < 1e-12);
  assert.equal(learningRateFactor(parseTrainingConfig({ iterations: 100, optimizer: { schedule: 'constant' } }), 99), 1);
});
