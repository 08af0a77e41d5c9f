import type { BatchSource, TrainingBatch } from './batch.ts';
import { emptyBatch } from './batch.ts';
import { slotRng } from './data.ts';
import type { Rng } from '../synth/random.ts';

/**
 * Batches for G as the refiner of the MAP core's result: every blurry crop comes with its guide, the MAP result cut
 * at the same place. The MAP core takes seconds per crop, far too slow to run per iteration, so the samples are
 * prepared once (jobs/adapt-guides.ts) and this source only cuts crops from them, each seen in one of the 8
 * flips/transposes of the square (a flipped blur is still a blur, and its MAP result is flipped with it).
 *
 * batch(i) is a pure function of (seed, i), like the photo stream: resumable, prefetchable, and the same in any
 * number of workers.
 */
/**
 * An image as planar 8-bit RGB: a library of photos at the working size, each with its MAP result, takes a quarter
 * of what float planes would (24 photos of 1024×768: 113 MB instead of 453 MB).
 */
export interface Image8 {
  width: number;
  height: number;
  /** Planar RGB, 0…255. */
  data: Uint8Array;
}

export interface GuidedPair {
  /** Sharp original, synthetic blurry version and its MAP result: the same size, each side ≥ the crop. */
  sharp: Image8;
  blurry: Image8;
  guide: Image8;
}

export interface GuidedPhoto {
  /** A real blurry photo and its MAP result (same size, each side ≥ the crop). */
  blurry: Image8;
  guide: Image8;
}

export interface GuidedSamples {
  /** The paired half's source (content loss). */
  pairs: GuidedPair[];
  /** The unpaired half's source: the user's blurry photos. */
  photos: GuidedPhoto[];
}

export interface GuidedBatchOptions {
  seed: number;
  cropSize: number;
  paired: number;
  unpaired: number;
}

export class GuidedBatchSource implements BatchSource {
  constructor(
    private readonly samples: GuidedSamples,
    private readonly opts: GuidedBatchOptions,
  ) {
    const c = opts.cropSize;
    if (samples.pairs.length === 0) throw new Error('no synthetic pairs: the paired half, and the sharp crops of the unpaired half, come from them');
    if (opts.unpaired > 0 && samples.photos.length === 0) throw new Error('no blurry photos to train the unpaired half on');
    const small = [...samples.pairs, ...samples.photos].find((s) => Math.min(s.blurry.width, s.blurry.height) < c);
    if (small) throw new Error(`a prepared sample of ${small.blurry.width}×${small.blurry.height} px is smaller than the ${c} px crop`);
  }

  async batch(iteration: number): Promise<TrainingBatch> {
    const { seed, cropSize: c, paired, unpaired } = this.opts;
    const per = 3 * c * c;
    const b: TrainingBatch = { ...emptyBatch(iteration, c, paired, unpaired), guides: { paired: new Float32Array(paired * per), unpaired: new Float32Array(unpaired * per) } };
    const { pairs, photos } = this.samples;
    for (let k = 0; k < paired; k++) {
      const rng = slotRng(seed, iteration, k);
      const p = pairs[rng.int(0, pairs.length)];
      const cut = placeCrop(p.blurry, c, rng);
      cutCrop(p.sharp, cut, b.pairedSharp, k * per);
      cutCrop(p.blurry, cut, b.pairedBlurry, k * per);
      cutCrop(p.guide, cut, b.guides!.paired, k * per);
    }
    for (let k = 0; k < unpaired; k++) {
      const rng = slotRng(seed, iteration, 1000 + k);
      const photo = photos[rng.int(0, photos.length)];
      const cut = placeCrop(photo.blurry, c, rng);
      cutCrop(photo.blurry, cut, b.unpairedBlurry, k * per);
      cutCrop(photo.guide, cut, b.guides!.unpaired, k * per);
      // S of the unpaired half: a sharp crop unrelated to B (M's "sharp has no motion" and D's reals).
      const s = pairs[rng.int(0, pairs.length)].sharp;
      cutCrop(s, placeCrop(s, c, rng), b.unpairedSharp, k * per);
    }
    return b;
  }
}

interface CropPlace {
  x0: number;
  y0: number;
  size: number;
  /** Bit 0: flip x, bit 1: flip y, bit 2: transpose. */
  view: number;
}

function placeCrop(img: Image8, c: number, rng: Rng): CropPlace {
  return { x0: rng.int(0, img.width - c + 1), y0: rng.int(0, img.height - c + 1), size: c, view: rng.int(0, 8) };
}

/** Writes the crop `p` of `img`, seen in view p.view, into `out` at `offset` (planar RGB in [0, 1]). */
function cutCrop(img: Image8, p: CropPlace, out: Float32Array, offset: number): void {
  const c = p.size;
  const plane = img.width * img.height;
  for (let y = 0; y < c; y++) {
    for (let x = 0; x < c; x++) {
      let sx = p.view & 4 ? y : x;
      let sy = p.view & 4 ? x : y;
      if (p.view & 1) sx = c - 1 - sx;
      if (p.view & 2) sy = c - 1 - sy;
      const src = (p.y0 + sy) * img.width + p.x0 + sx;
      const dst = offset + y * c + x;
      out[dst] = img.data[src] / 255;
      out[dst + c * c] = img.data[plane + src] / 255;
      out[dst + 2 * c * c] = img.data[2 * plane + src] / 255;
    }
  }
}
