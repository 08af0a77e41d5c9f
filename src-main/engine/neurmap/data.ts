import sharp from 'sharp';
import { emptyBatch, type BatchSource, type TrainingBatch } from './batch.ts';
import { Rng } from '../synth/random.ts';
import { synthesizeSample, type BlurRecipe } from '../synth/recipes.ts';
import { cropFloatImage, type FloatImage } from '../synth/float-image.ts';
import type { TrainingConfig } from './config.ts';

/**
 * The streaming source of training batches, from lists of photo files:
 * - paired half: a random crop of a sharp photo, blurred by engine/synth (recipe drawn from the configured mix),
 *   so B_p and S_p are an exact pair;
 * - unpaired half: a random crop of a real blurry photo, and a random crop of an unrelated sharp photo.
 *
 * Memory stays bounded whatever the library size: only paths and sizes are held for the whole library; photos
 * are decoded lazily (sharp: EXIF rotation, longer side resized down to `workingSize`, 8-bit RGB) into a small LRU
 * cache. Decoding work stays bounded too: iterations are grouped into windows of `iterationsPerWindow`; each
 * window draws its crops from `photosPerWindow` photos of each list, chosen at random per window.
 *
 * Determinism: batch(i) is a pure function of (seed, i) — every draw uses an Rng seeded from (seed, i, slot) —
 * so the stream can be prefetched, resumed from a checkpoint at any iteration, or split over workers and give
 * the same crops. (A file that fails to decode is skipped the same way each time, so that holds too.)
 */
export interface PhotoLists {
  /** Sharp photos: the paired half is synthesized from these. */
  sharp: string[];
  /** Real blurry photos (the unpaired half). */
  blurry: string[];
  /** Unrelated sharp photos for the unpaired half; default: `sharp`. */
  unpairedSharp?: string[];
}

export interface PhotoStreamOptions {
  seed: number;
  cropSize: number;
  paired: number;
  unpaired: number;
  recipes: { linear: number; shake: number; none: number };
  workingSize: number;
  photosPerWindow: number;
  iterationsPerWindow: number;
  /** Extra border synthesized around each paired crop, then cut away, so blur near the crop edge sees real content (default 24 px). */
  margin?: number;
  /**
   * Decoded photos kept per list (default photosPerWindow + 2). Memory bound: 3 lists × this × workingSize² × 3 bytes
   * (8-bit RGB), about 75 MB at the defaults (1024 px, 8 photos per window), whatever the library size.
   */
  cacheSize?: number;
  /** Called once per skipped file. */
  onWarning?: (message: string) => void;
}

/** The stream options a training configuration implies (seed, crop, batch halves, data settings). */
export function streamOptionsFromConfig(cfg: TrainingConfig, extra: Partial<PhotoStreamOptions> = {}): PhotoStreamOptions {
  return { seed: cfg.seed, cropSize: cfg.cropSize, paired: cfg.batch.paired, unpaired: cfg.batch.unpaired, ...cfg.data, ...extra };
}

export interface SkippedPhoto {
  file: string;
  reason: string;
}

export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

interface PhotoEntry {
  file: string;
  /** Size after the working-size resize (orientation does not matter: crops are square). */
  width: number;
  height: number;
}

interface Decoded {
  width: number;
  height: number;
  rgb: Uint8Array;
}

type ListName = 'sharp' | 'blurry' | 'unpairedSharp';

export class PhotoBatchStream implements BatchSource {
  readonly skipped: SkippedPhoto[] = [];
  private readonly cache = new Map<string, Promise<Decoded>>();
  private readonly failed = new Set<string>();

  private constructor(
    private readonly lists: Record<ListName, PhotoEntry[]>,
    private readonly opts: Required<Omit<PhotoStreamOptions, 'onWarning'>> & Pick<PhotoStreamOptions, 'onWarning'>,
    skipped: SkippedPhoto[],
  ) {
    this.skipped.push(...skipped);
  }

  /**
   * Reads every file's header (not its pixels) and checks that it is at least a crop large once resized to the
   * working size. Too-small or unreadable files are skipped with a warning while others remain in their list;
   * a list that ends up empty while the batch needs it is an error naming the problem.
   */
  static async open(photos: PhotoLists, options: PhotoStreamOptions): Promise<PhotoBatchStream> {
    const opts = {
      margin: 24,
      cacheSize: options.photosPerWindow + 2,
      ...options,
    };
    if (opts.cropSize > opts.workingSize) throw new DataError(`crop size ${opts.cropSize} is larger than the working size ${opts.workingSize}`);
    const skipped: SkippedPhoto[] = [];
    const probe = async (files: string[]): Promise<PhotoEntry[]> => {
      const found: Array<PhotoEntry | null> = new Array(files.length).fill(null);
      const problems: Array<SkippedPhoto | null> = new Array(files.length).fill(null);
      let next = 0;
      const one = async (file: string, i: number) => {
        try {
          const meta = await sharp(file).metadata();
          if (!meta.width || !meta.height) throw new Error('no image size in the file');
          const scale = Math.min(1, opts.workingSize / Math.max(meta.width, meta.height));
          const width = Math.max(1, Math.round(meta.width * scale));
          const height = Math.max(1, Math.round(meta.height * scale));
          if (Math.min(width, height) < opts.cropSize) {
            throw new Error(`${meta.width}×${meta.height} px${scale < 1 ? ` (${width}×${height} at the working size)` : ''} is smaller than the ${opts.cropSize}-px crop`);
          }
          found[i] = { file, width, height };
        } catch (err) {
          problems[i] = { file, reason: err instanceof Error ? err.message : String(err) };
        }
      };
      // Headers only, a few at a time (libvips reads them on its own threads), results in the given order.
      await Promise.all(
        Array.from({ length: Math.min(8, files.length) }, async () => {
          while (next < files.length) {
            const i = next++;
            await one(files[i], i);
          }
        }),
      );
      for (const p of problems) {
        if (!p) continue;
        skipped.push(p);
        opts.onWarning?.(`skipping ${p.file}: ${p.reason}`);
      }
      return found.filter((e): e is PhotoEntry => e !== null);
    };
    const sharpEntries = await probe(dedupe(photos.sharp));
    const blurryEntries = await probe(dedupe(photos.blurry));
    const unpairedSharpEntries = photos.unpairedSharp ? await probe(dedupe(photos.unpairedSharp)) : sharpEntries;
    const need = (entries: PhotoEntry[], given: string[] | undefined, what: string, needed: boolean) => {
      if (!needed || entries.length > 0) return;
      const why = skipped.filter((s) => (given ?? []).includes(s.file)).map((s) => `\n  ${s.file}: ${s.reason}`).join('');
      throw new DataError(
        given && given.length > 0 ? `no usable ${what} photo: every one was skipped${why}` : `no ${what} photos were given, and the batch needs them`,
      );
    };
    need(sharpEntries, photos.sharp, 'sharp', opts.paired > 0 || (opts.unpaired > 0 && !photos.unpairedSharp));
    need(blurryEntries, photos.blurry, 'blurry', opts.unpaired > 0);
    need(unpairedSharpEntries, photos.unpairedSharp ?? photos.sharp, 'unpaired sharp', opts.unpaired > 0);
    const r = opts.recipes;
    if (!(r.linear >= 0 && r.shake >= 0 && r.none >= 0 && r.linear + r.shake + r.none > 0)) throw new DataError('the recipe weights must be ≥ 0 with a positive sum');
    return new PhotoBatchStream({ sharp: sharpEntries, blurry: blurryEntries, unpairedSharp: unpairedSharpEntries }, opts, skipped);
  }

  /** Number of usable photos per list. */
  counts(): Record<ListName, number> {
    return { sharp: this.lists.sharp.length, blurry: this.lists.blurry.length, unpairedSharp: this.lists.unpairedSharp.length };
  }

  async batch(iteration: number): Promise<TrainingBatch> {
    const { cropSize: c, paired: P, unpaired: U } = this.opts;
    const per = 3 * c * c;
    const batch = emptyBatch(iteration, c, P, U);
    const jobs: Array<Promise<void>> = [];
    for (let i = 0; i < P; i++) {
      jobs.push(
        this.pairedSample(iteration, i).then(({ blurry, sharp: s }) => {
          batch.pairedBlurry.set(blurry.data, i * per);
          batch.pairedSharp.set(s.data, i * per);
        }),
      );
    }
    for (let i = 0; i < U; i++) {
      jobs.push(this.randomCrop('blurry', iteration, 1000 + i).then((img) => batch.unpairedBlurry.set(img.data, i * per)));
      jobs.push(this.randomCrop('unpairedSharp', iteration, 2000 + i).then((img) => batch.unpairedSharp.set(img.data, i * per)));
    }
    await Promise.all(jobs);
    this.trimCache();
    return batch;
  }

  close(): void {
    this.cache.clear();
  }

  private async pairedSample(iteration: number, slot: number): Promise<{ blurry: FloatImage; sharp: FloatImage }> {
    const rng = slotRng(this.opts.seed, iteration, slot);
    const recipe = pickRecipe(rng, this.opts.recipes);
    const c = this.opts.cropSize;
    const { entry, image } = await this.pickPhoto('sharp', iteration, rng);
    const margin = Math.max(0, Math.min(this.opts.margin, Math.floor((Math.min(entry.width, entry.height) - c) / 2)));
    const region = cropFromDecoded(image, c + 2 * margin, rng);
    const synthRng = new Rng(rng.int(0, 2 ** 32));
    const { blurry } = await synthesizeSample(region, recipe, synthRng);
    return { blurry: cropFloatImage(blurry, margin, margin, c, c), sharp: cropFloatImage(region, margin, margin, c, c) };
  }

  private async randomCrop(list: ListName, iteration: number, slot: number): Promise<FloatImage> {
    const rng = slotRng(this.opts.seed, iteration, slot);
    const { image } = await this.pickPhoto(list, iteration, rng);
    return cropFromDecoded(image, this.opts.cropSize, rng);
  }

  /** A photo of the current window of `list`, decoded; files that fail to decode are skipped deterministically. */
  private async pickPhoto(list: ListName, iteration: number, rng: Rng): Promise<{ entry: PhotoEntry; image: Decoded }> {
    const entries = this.lists[list];
    const window = windowMembers(this.opts.seed, list, Math.floor(iteration / this.opts.iterationsPerWindow), entries.length, this.opts.photosPerWindow);
    let index = window[rng.int(0, window.length)];
    for (let tries = 0; tries < entries.length; tries++) {
      const entry = entries[index];
      if (!this.failed.has(entry.file)) {
        try {
          return { entry, image: await this.decode(entry) };
        } catch (err) {
          this.failed.add(entry.file);
          this.cache.delete(entry.file);
          const reason = err instanceof Error ? err.message : String(err);
          this.skipped.push({ file: entry.file, reason });
          this.opts.onWarning?.(`skipping ${entry.file}: ${reason}`);
        }
      }
      index = (index + 1) % entries.length;
    }
    throw new DataError(`no ${list === 'blurry' ? 'blurry' : 'sharp'} photo could be decoded (${entries.length} tried)`);
  }

  private decode(entry: PhotoEntry): Promise<Decoded> {
    let p = this.cache.get(entry.file);
    if (p) {
      // LRU: move to the end.
      this.cache.delete(entry.file);
      this.cache.set(entry.file, p);
      return p;
    }
    const size = this.opts.workingSize;
    p = sharp(entry.file, { failOn: 'truncated' })
      .rotate()
      .resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true })
      .then(({ data, info }) => {
        if (Math.min(info.width, info.height) < this.opts.cropSize) throw new Error(`${info.width}×${info.height} px is smaller than the crop`);
        const rgb = new Uint8Array(info.width * info.height * 3);
        const ch = info.channels;
        for (let i = 0, j = 0; i < rgb.length; i += 3, j += ch) {
          rgb[i] = data[j];
          rgb[i + 1] = data[ch >= 3 ? j + 1 : j];
          rgb[i + 2] = data[ch >= 3 ? j + 2 : j];
        }
        return { width: info.width, height: info.height, rgb };
      });
    this.cache.set(entry.file, p);
    return p;
  }

  private trimCache(): void {
    const max = this.opts.cacheSize * 3;
    while (this.cache.size > max) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
  }
}

/** A c×c crop at a random position of a decoded 8-bit image, as planar float RGB in [0, 1]. */
function cropFromDecoded(img: Decoded, c: number, rng: Rng): FloatImage {
  const x0 = rng.int(0, img.width - c + 1);
  const y0 = rng.int(0, img.height - c + 1);
  const plane = c * c;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < c; y++) {
    let src = ((y0 + y) * img.width + x0) * 3;
    for (let x = 0; x < c; x++, src += 3) {
      const i = y * c + x;
      data[i] = img.rgb[src] / 255;
      data[plane + i] = img.rgb[src + 1] / 255;
      data[2 * plane + i] = img.rgb[src + 2] / 255;
    }
  }
  return { width: c, height: c, data };
}

export function pickRecipe(rng: Rng, mix: { linear: number; shake: number; none: number }): BlurRecipe {
  const total = mix.linear + mix.shake + mix.none;
  const r = rng.next() * total;
  if (r < mix.linear) return 'linear';
  if (r < mix.linear + mix.shake) return 'shake';
  return 'none';
}

/** An Rng for one draw of one iteration: seeded from a hash of (seed, iteration, slot). */
export function slotRng(seed: number, iteration: number, slot: number): Rng {
  return new Rng(hash32(seed, iteration, slot));
}

/** The indices of the photos of `list` that window `w` draws from: a random subset of `k` (all when fewer). */
function windowMembers(seed: number, list: ListName, w: number, n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(hash32(seed, w, list === 'sharp' ? 7001 : list === 'blurry' ? 7002 : 7003));
  const chosen = new Set<number>();
  while (chosen.size < k) chosen.add(rng.int(0, n));
  return [...chosen];
}

function hash32(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    let x = p >>> 0;
    for (let i = 0; i < 4; i++) {
      h ^= x & 0xff;
      h = Math.imul(h, 0x01000193);
      x >>>= 8;
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

function dedupe(files: string[]): string[] {
  return [...new Set(files)];
}
