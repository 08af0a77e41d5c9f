/**
 * Held-out synthetic test sets, built deterministically from the test split's photos with engine/synth
 * (the same blur model as training/): each photo gives one crop per recipe, its seed derived from the file name.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { BLUR_RECIPES, Rng, cropFloatImage, synthesizeSample, trueKernelsAt, type BlurRecipe, type FloatImage, type TrueKernel } from '../../src-main/engine/synth/index.ts';

export interface TestSample {
  id: string;
  recipe: BlurRecipe;
  sharp: FloatImage;
  blurry: FloatImage;
  /** Ground-truth motion (u, v) half-extent in px, canonical sign, planar 2×H×W. */
  motionPx: Float32Array;
  maxHalfExtentPx: number;
  /** The blur's true kernels at the centres of a grid of regions over the crop (the oracle's); absent: no blur. */
  trueKernels?: { cols: number; rows: number; kernels: TrueKernel[] };
}

/** Regions a side of the oracle's grid: enough to follow the realistic set's rotation across a crop. */
const ORACLE_GRID = 3;

export interface TestSetOptions {
  crop: number;
  /** Extra context blurred around each crop so its borders see real neighbours, then cut away. */
  margin: number;
  /** Another draw of crops and blurs from the same photos (0, the eval's own, when absent). */
  round?: number;
}

export async function listPhotos(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`photo folder ${dir}: ${err.code === 'ENOENT' ? 'does not exist (run training/photos/fetch.py and pack.py first, see training/README.md)' : err.message}`);
  });
  const photos = entries.filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
  if (photos.length === 0) throw new Error(`photo folder ${dir} holds no photos (run training/photos/pack.py first)`);
  return photos.map((f) => path.join(dir, f));
}

function loadFloat(file: string): Promise<FloatImage> {
  return sharpToFloat(sharp(file));
}

/** What a sharp pipeline yields, as a planar float image in sRGB values (alpha dropped). */
export async function sharpToFloat(image: sharp.Sharp): Promise<FloatImage> {
  const { data, info } = await image.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const plane = info.width * info.height;
  const img: FloatImage = { width: info.width, height: info.height, data: new Float32Array(3 * plane) };
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) img.data[c * plane + i] = data[info.channels * i + c] / 255;
  return img;
}

function seedOf(name: string, recipe: string, round: number): number {
  return crypto.createHash('sha256').update(round ? `${name}/${recipe}/${round}` : `${name}/${recipe}`).digest().readUInt32LE(0);
}

/** Quantised to 8 bits, as every saved photo is. */
function quantise(img: FloatImage): FloatImage {
  const d = img.data;
  for (let i = 0; i < d.length; i++) d[i] = Math.round(Math.min(1, Math.max(0, d[i])) * 255) / 255;
  return img;
}

export async function buildTestSets(photos: string[], opts: TestSetOptions, onSkip?: (line: string) => void): Promise<TestSample[]> {
  const samples: TestSample[] = [];
  const side = opts.crop + 2 * opts.margin;
  for (const file of photos) {
    const name = path.basename(file);
    const photo = await loadFloat(file);
    if (photo.width < side || photo.height < side) {
      onSkip?.(`${name}: ${photo.width}×${photo.height} is smaller than the ${side}×${side} crop with its margin, skipped`);
      continue;
    }
    for (const recipe of BLUR_RECIPES) {
      const rng = new Rng(seedOf(name, recipe, opts.round ?? 0));
      const x0 = rng.int(0, photo.width - side + 1);
      const y0 = rng.int(0, photo.height - side + 1);
      const region = cropFloatImage(photo, x0, y0, side, side);
      const s = await synthesizeSample(region, recipe, rng);
      const m = opts.margin;
      const c = opts.crop;
      const motion = new Float32Array(2 * c * c);
      let maxHalf = 0;
      for (let ch = 0; ch < 2; ch++) {
        for (let y = 0; y < c; y++) {
          for (let x = 0; x < c; x++) motion[ch * c * c + y * c + x] = s.motion.motionPx[ch * side * side + (y + m) * side + x + m];
        }
      }
      for (let i = 0; i < c * c; i++) maxHalf = Math.max(maxHalf, Math.hypot(motion[i], motion[c * c + i]));
      const centres = Array.from({ length: ORACLE_GRID * ORACLE_GRID }, (_, i): [number, number] => [
        m + Math.floor((((i % ORACLE_GRID) + 0.5) * c) / ORACLE_GRID),
        m + Math.floor(((Math.floor(i / ORACLE_GRID) + 0.5) * c) / ORACLE_GRID),
      ]);
      samples.push({
        id: `${recipe}/${name}`,
        recipe,
        sharp: quantise(cropFloatImage(region, m, m, c, c)),
        blurry: quantise(cropFloatImage(s.blurry, m, m, c, c)),
        motionPx: motion,
        maxHalfExtentPx: maxHalf,
        trueKernels: recipe === 'none' ? undefined : { cols: ORACLE_GRID, rows: ORACLE_GRID, kernels: trueKernelsAt(s.motion.field, centres) },
      });
    }
  }
  return samples;
}

/** A fingerprint of the crops, so stored peer results are reused only for the very same sets. */
export function setsFingerprint(samples: TestSample[]): string {
  const h = crypto.createHash('sha256');
  for (const s of samples) {
    h.update(s.id);
    h.update(new Uint8Array(s.blurry.data.buffer, s.blurry.data.byteOffset, s.blurry.data.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}
