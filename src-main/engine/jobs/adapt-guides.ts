/**
 * The MAP core's results that adapting the refiner trains on (G(B) = refine(B, MAP(B))), prepared once per
 * adaptation: the user's blurry photos at the training working size with their MAP result, and synthetic pairs cut
 * from the sharp photos (sharp, blurry, MAP of the blurry). Each MAP result is cached as a PNG in the run folder, so a
 * cancelled adaptation resumes without running the MAP core again.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../fs/atomic-file.ts';
import { createRaster } from '../image/raster.ts';
import type { GuidedPair, GuidedPhoto, GuidedSamples, Image8 } from '../neurmap/guided-data.ts';
import type { FloatImage } from '../synth/float-image.ts';
import { cropFloatImage } from '../synth/float-image.ts';
import { Rng } from '../synth/random.ts';
import { synthesizeSample } from '../synth/recipes.ts';
import { pickRecipe } from '../neurmap/data.ts';
import { deblurWithMapCore } from './map-pipeline.ts';

export interface GuidePreparation {
  /** Where the MAP results are cached (inside the adaptation's run folder). */
  cacheDir: string;
  /** Longer side the photos are decoded at (the training working size). */
  workingSize: number;
  /** The training crop: every sample is at least this large. */
  cropSize: number;
  /** Side of the synthetic pairs (at least the crop; larger gives crops more places to come from). */
  pairSize: number;
  pairs: number;
  recipes: { linear: number; shake: number; none: number };
  seed: number;
  threads?: number;
  signal?: AbortSignal;
  /** One line per photo or pair prepared ("MAP core on photo 3 of 12"). */
  onStatus?: (message: string) => void;
}

/** Extra border synthesized around each pair, so its blur sees real content at the edges, then cut away. */
const PAIR_MARGIN = 24;

/**
 * The training samples, one line per photo that could not be used (unreadable, or smaller than a crop plus the
 * pairs' margin), which is skipped, and how many of the blurry photos the MAP core found blur in (it changed them).
 */
export async function prepareGuidedSamples(files: { blurry: string[]; sharp: string[] }, prep: GuidePreparation): Promise<GuidedSamples & { skipped: string[]; withBlur: number }> {
  await fs.mkdir(prep.cacheDir, { recursive: true });
  const skipped: string[] = [];
  const decode = (file: string) => decodeImage8(file, prep.workingSize).catch((err: unknown) => {
    skipped.push(`${path.basename(file)}: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  });
  const photos: GuidedPhoto[] = [];
  for (const [i, file] of files.blurry.entries()) {
    prep.signal?.throwIfAborted();
    prep.onStatus?.(`running the MAP core on your photo ${i + 1} of ${files.blurry.length}`);
    const blurry = await decode(file);
    if (blurry && Math.min(blurry.width, blurry.height) < prep.cropSize) {
      skipped.push(`${path.basename(file)}: ${blurry.width}×${blurry.height} px is smaller than the ${prep.cropSize} px crop`);
    } else if (blurry) photos.push({ blurry, guide: await cachedMapResult(blurry, await photoKey(file, prep.workingSize), prep) });
  }
  const pairs: GuidedPair[] = [];
  const unusable = new Set<string>();
  for (let i = 0; i < prep.pairs && unusable.size < files.sharp.length; i++) {
    prep.signal?.throwIfAborted();
    const file = files.sharp[i % files.sharp.length];
    if (unusable.has(file)) continue;
    prep.onStatus?.(`running the MAP core on synthetic pair ${i + 1} of ${prep.pairs}`);
    const rng = new Rng(hash(`${prep.seed}:${i}:${path.basename(file)}`));
    const photo = await decode(file);
    if (!photo || Math.min(photo.width, photo.height) < prep.cropSize + 2 * PAIR_MARGIN) {
      if (photo) skipped.push(`${path.basename(file)}: ${photo.width}×${photo.height} px is too small for a ${prep.cropSize} px crop`);
      unusable.add(file);
      continue;
    }
    const side = Math.min(prep.pairSize, photo.width - 2 * PAIR_MARGIN, photo.height - 2 * PAIR_MARGIN);
    const region = cropFloatImage(floatFromImage8(photo), rng.int(0, photo.width - side - 2 * PAIR_MARGIN + 1), rng.int(0, photo.height - side - 2 * PAIR_MARGIN + 1), side + 2 * PAIR_MARGIN, side + 2 * PAIR_MARGIN);
    const { blurry: wide } = await synthesizeSample(region, pickRecipe(rng, prep.recipes), new Rng(rng.int(0, 2 ** 32)));
    const blurry = image8FromFloat(cropFloatImage(wide, PAIR_MARGIN, PAIR_MARGIN, side, side));
    const key = `pair-${hash(`${await photoKey(file, prep.workingSize)}:${prep.seed}:${i}:${prep.pairSize}`).toString(16)}`;
    pairs.push({ sharp: image8FromFloat(cropFloatImage(region, PAIR_MARGIN, PAIR_MARGIN, side, side)), blurry, guide: await cachedMapResult(blurry, key, prep) });
  }
  return { pairs, photos, skipped, withBlur: photos.filter(changedByMap).length };
}

/**
 * Held-out photos for the before/after score, at the scale training sees them: each decoded at the working size, run
 * through the MAP core whole, then cut to a centred square of at most `size` (a multiple of 16, the networks' size
 * multiple). Photos smaller than 16 px are left out.
 */
export async function prepareHeldOut(files: string[], size: number, prep: GuidePreparation): Promise<Array<GuidedPhoto & { file: string }>> {
  await fs.mkdir(prep.cacheDir, { recursive: true });
  const out: Array<GuidedPhoto & { file: string }> = [];
  for (const [i, file] of files.entries()) {
    prep.signal?.throwIfAborted();
    prep.onStatus?.(`running the MAP core on held-out photo ${i + 1} of ${files.length}`);
    const blurry = await decodeImage8(file, prep.workingSize).catch(() => null);
    const side = blurry ? Math.floor(Math.min(size, blurry.width, blurry.height) / HELD_OUT_MULTIPLE) * HELD_OUT_MULTIPLE : 0;
    if (!blurry || side === 0) continue;
    const guide = await cachedMapResult(blurry, await photoKey(file, prep.workingSize), prep);
    const [x0, y0] = [(blurry.width - side) >> 1, (blurry.height - side) >> 1];
    out.push({ file, blurry: cropImage8(blurry, x0, y0, side), guide: cropImage8(guide, x0, y0, side) });
  }
  return out;
}

/** Held-out squares are multiples of this: the refiner's size multiple (M's, 8, divides it). */
const HELD_OUT_MULTIPLE = 16;

function cropImage8(img: Image8, x0: number, y0: number, side: number): Image8 {
  const out: Image8 = { width: side, height: side, data: new Uint8Array(3 * side * side) };
  const plane = img.width * img.height;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < side; y++) {
      const src = c * plane + (y0 + y) * img.width + x0;
      out.data.set(img.data.subarray(src, src + side), c * side * side + y * side);
    }
  }
  return out;
}

/** The MAP core changed the photo: it found a blur it could undo (its guard returns a sharp photo as it was). */
function changedByMap(p: GuidedPhoto): boolean {
  return p.guide.data.some((v, i) => v !== p.blurry.data[i]);
}

/** The MAP core's result of `img` (no learned parts: the refiner is what trains), read from the cache when there. */
async function cachedMapResult(img: Image8, key: string, prep: GuidePreparation): Promise<Image8> {
  const file = path.join(prep.cacheDir, `${key}.map.png`);
  const cached = await decodeImage8(file, Number.MAX_SAFE_INTEGER).catch(() => null);
  if (cached && cached.width === img.width && cached.height === img.height) return cached;
  const plane = img.width * img.height;
  const raster = createRaster(img.width, img.height, 8);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) raster.rgb[3 * i + c] = img.data[c * plane + i];
  const res = await deblurWithMapCore(raster, { parts: {}, openRefiner: () => Promise.reject(new Error('no refiner')), threads: prep.threads, signal: prep.signal });
  const rgb = Buffer.alloc(3 * plane);
  const out: Image8 = { width: img.width, height: img.height, data: new Uint8Array(3 * plane) };
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = Math.round(res.data[3 * i + c] / 257);
      rgb[3 * i + c] = v;
      out.data[c * plane + i] = v;
    }
  }
  await writeFileAtomic(file, await sharp(rgb, { raw: { width: img.width, height: img.height, channels: 3 } }).png({ compressionLevel: 3 }).toBuffer());
  return out;
}

/** A photo decoded as planar 8-bit RGB, oriented, its longer side at most `size`. */
export async function decodeImage8(file: string, size: number): Promise<Image8> {
  const side = Math.min(size, 16383);
  const { data, info } = await sharp(file, { failOn: 'truncated', limitInputPixels: 120_000_000 })
    .rotate()
    .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const plane = info.width * info.height;
  const img: Image8 = { width: info.width, height: info.height, data: new Uint8Array(3 * plane) };
  const ch = info.channels;
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) img.data[c * plane + i] = data[i * ch + Math.min(c, ch - 1)];
  return img;
}

export function floatFromImage8(img: Image8): FloatImage {
  return { width: img.width, height: img.height, data: Float32Array.from(img.data, (v) => v / 255) };
}

function image8FromFloat(img: FloatImage): Image8 {
  return { width: img.width, height: img.height, data: Uint8Array.from(img.data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)) };
}

/** Names a photo's cached MAP result: its path, size, modification time and the decode size. */
async function photoKey(file: string, workingSize: number): Promise<string> {
  const st = await fs.stat(file);
  return createHash('sha1').update(`${path.resolve(file)}\n${st.size}\n${st.mtimeMs}\n${workingSize}`).digest('hex').slice(0, 20);
}

function hash(s: string): number {
  return createHash('sha1').update(s).digest().readUInt32LE(0);
}
