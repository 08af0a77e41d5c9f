import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { BatchSource, TrainingBatch } from '../../../src-main/engine/neurmap/batch.ts';
import type { NeurmapNetworks } from '../../../src-main/engine/neurmap/iteration.ts';
import { createTinyNetwork } from './tiny-networks.ts';
import { useTrainingBackend } from '../../../src-main/engine/neurmap/tf-backend.ts';
import { slotRng } from '../../../src-main/engine/neurmap/data.ts';
import { blurWithOffsets, createFloatImage, linearOffsetField, Rng, type FloatImage } from '../../../src-main/engine/synth/index.ts';

export { createTinyNetwork };

/** G, M, D tiny tfjs networks (tiny-networks.ts), deterministic per seed. */
export function tinyNetworks(seed = 1, width = 4): NeurmapNetworks {
  return {
    G: createTinyNetwork('deblur', { seed, width }),
    M: createTinyNetwork('motion', { seed: seed + 1, width }),
    D: createTinyNetwork('discriminator', { seed: seed + 2, width }),
  };
}

export function disposeNetworks(n: NeurmapNetworks): void {
  n.G.dispose();
  n.M?.dispose();
  n.D.dispose();
}

/** The test backend: the pure-JS cpu backend (deterministic, has every gradient kernel), set up as training sets it up. */
export async function useCpu(): Promise<void> {
  await useTrainingBackend('cpu');
}

/** A smooth random texture: a few random sinusoids per channel plus a soft edge, values in [0, 1]. */
export function texture(w: number, h: number, rng: Rng): FloatImage {
  const img = createFloatImage(w, h);
  const plane = w * h;
  for (let c = 0; c < 3; c++) {
    const waves = Array.from({ length: 3 }, () => ({ fx: rng.uniform(-0.6, 0.6), fy: rng.uniform(-0.6, 0.6), ph: rng.uniform(0, 6.28), a: rng.uniform(0.05, 0.2) }));
    const base = rng.uniform(0.3, 0.7);
    const ex = rng.uniform(0, w);
    for (let y = 0, i = 0; y < h; y++) {
      for (let x = 0; x < w; x++, i++) {
        let v = base + (x > ex ? 0.15 : -0.15);
        for (const q of waves) v += q.a * Math.sin(q.fx * x + q.fy * y + q.ph);
        img.data[c * plane + i] = Math.min(1, Math.max(0, v));
      }
    }
  }
  return img;
}

function constantBlur(img: FloatImage, rng: Rng, maxHalf: number): FloatImage {
  const len = rng.uniform(maxHalf / 2, maxHalf);
  const a = rng.uniform(0, Math.PI);
  const n = img.width * img.height;
  return blurWithOffsets(img, linearOffsetField(img.width, img.height, new Float32Array(n).fill(len * Math.cos(a)), new Float32Array(n).fill(len * Math.sin(a)), 15));
}

/**
 * In-memory batches for fast trainer tests: textures blurred by constant linear motion (synth's blurWithOffsets).
 * batch(i) depends only on (seed, i), like the photo stream.
 */
export class MemoryBatchSource implements BatchSource {
  constructor(
    readonly crop: number,
    readonly paired = 2,
    readonly unpaired = 2,
    readonly seed = 5,
    readonly maxHalf = 3,
  ) {}

  async batch(iteration: number): Promise<TrainingBatch> {
    const c = this.crop;
    const per = 3 * c * c;
    const out: TrainingBatch = {
      iteration,
      crop: c,
      paired: this.paired,
      unpaired: this.unpaired,
      pairedBlurry: new Float32Array(this.paired * per),
      pairedSharp: new Float32Array(this.paired * per),
      unpairedBlurry: new Float32Array(this.unpaired * per),
      unpairedSharp: new Float32Array(this.unpaired * per),
    };
    for (let i = 0; i < this.paired; i++) {
      const rng = slotRng(this.seed, iteration, i);
      const s = texture(c, c, rng);
      out.pairedSharp.set(s.data, i * per);
      out.pairedBlurry.set(constantBlur(s, rng, this.maxHalf).data, i * per);
    }
    for (let i = 0; i < this.unpaired; i++) {
      const rng = slotRng(this.seed, iteration, 100 + i);
      out.unpairedBlurry.set(constantBlur(texture(c, c, rng), rng, this.maxHalf).data, i * per);
      out.unpairedSharp.set(texture(c, c, rng).data, i * per);
    }
    return out;
  }
}

/** Writes `count` PNG photos of w×h textures into a fresh temp folder; returns their paths. */
export async function writePhotos(dir: string, prefix: string, count: number, w: number, h: number, seed: number): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const files: string[] = [];
  const rng = new Rng(seed);
  for (let k = 0; k < count; k++) {
    const img = texture(w, h, rng);
    const plane = w * h;
    const rgb = Buffer.alloc(3 * plane);
    for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) rgb[3 * i + c] = Math.round(img.data[c * plane + i] * 255);
    const file = path.join(dir, `${prefix}-${k}.png`);
    await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
    files.push(file);
  }
  return files;
}

export async function tempDir(name: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `neurmap-${name}-`));
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
