import { blurPhoto } from './blur.ts';
import { addSensorNoise, jpegRoundTrip, randomNoiseLevel } from './degrade.ts';
import { noMotion, randomLinearMotion, randomShakeMotion, type SyntheticMotion } from './fields.ts';
import type { FloatImage } from './float-image.ts';
import type { Rng } from './random.ts';

/**
 * The held-out domains of `npm run eval`:
 * linear  — smooth linear fields blurred on pixel values, as public kernel-synthesized sets are made;
 * uniform — camera-shake trajectories without rotation (one kernel for the whole frame), little noise, no JPEG:
 *           the classic blind-deconvolution benchmark condition;
 * shake   — the realistic set: camera shake with in-plane rotation (the blur varies across the frame), in linear
 *           light with clipped highlights, sensor noise and JPEG;
 * none    — no blur at all: sharp photos must come back unchanged.
 */
export type BlurRecipe = 'linear' | 'uniform' | 'shake' | 'none';
export const BLUR_RECIPES: readonly BlurRecipe[] = ['linear', 'uniform', 'shake', 'none'];
/** Sensor noise of the uniform set: a bright, low-ISO shot. */
const LOW_NOISE = { shot: 2.5e-5, read: 2e-7 };

export interface SyntheticSample {
  blurry: FloatImage;
  motion: SyntheticMotion;
}

export async function synthesizeSample(sharp: FloatImage, recipe: BlurRecipe, rng: Rng): Promise<SyntheticSample> {
  const { width: w, height: h } = sharp;
  if (recipe === 'none') return { blurry: { width: w, height: h, data: sharp.data.slice() }, motion: noMotion(w, h) };
  if (recipe === 'linear') {
    const motion = randomLinearMotion(rng, w, h, { halfLength: [1, 20] });
    return { blurry: blurPhoto(sharp, motion.field, { linearLight: false }), motion };
  }
  if (recipe === 'uniform') {
    const motion = randomShakeMotion(rng, w, h, { extent: [4, 36], maxRotation: 0 });
    const blurry = blurPhoto(sharp, motion.field, { linearLight: false });
    addSensorNoise(blurry, LOW_NOISE, rng);
    return { blurry, motion };
  }
  const motion = randomShakeMotion(rng, w, h, { extent: [4, 36], maxRotation: 0.01 });
  const gain = rng.uniform(1, 4);
  const blurry = blurPhoto(sharp, motion.field, { linearLight: true, highlight: { threshold: 0.9, gain } });
  addSensorNoise(blurry, randomNoiseLevel(rng), rng);
  await jpegRoundTrip(blurry, rng.int(80, 96));
  return { blurry, motion };
}
