import * as tf from '@tensorflow/tfjs';

/**
 * One training batch as plain arrays (so it can cross to a worker thread): a paired half — synthetic blurry B_p
 * with its sharp S_p — and an unpaired half — real blurry B with an unrelated sharp S. Each array is NCHW,
 * [count, 3, crop, crop], values in [0, 1]. When G is the refiner of the MAP core's result, each blurry crop comes
 * with its guide, the MAP result of the same crop (G reads [guide, blurry], 6 channels).
 */
export interface TrainingBatch {
  /** The 0-based iteration this batch is for (the data stream is a function of seed and iteration). */
  iteration: number;
  crop: number;
  paired: number;
  unpaired: number;
  pairedBlurry: Float32Array;
  pairedSharp: Float32Array;
  unpairedBlurry: Float32Array;
  unpairedSharp: Float32Array;
  /** The MAP result beside each blurry crop (refiner training), in the same layout as the blurry arrays. */
  guides?: { paired: Float32Array; unpaired: Float32Array };
}

/** A batch of the given shape with zeroed arrays, for a source to fill. */
export function emptyBatch(iteration: number, crop: number, paired: number, unpaired: number): TrainingBatch {
  const per = 3 * crop * crop;
  return {
    iteration,
    crop,
    paired,
    unpaired,
    pairedBlurry: new Float32Array(paired * per),
    pairedSharp: new Float32Array(paired * per),
    unpairedBlurry: new Float32Array(unpaired * per),
    unpairedSharp: new Float32Array(unpaired * per),
  };
}

/** Anything that yields batches by iteration number (data.ts's photo stream, or a test's synthetic source). */
export interface BatchSource {
  batch(iteration: number): Promise<TrainingBatch>;
  close?(): Promise<void> | void;
}

export interface BatchTensors {
  pairedBlurry: tf.Tensor4D | null;
  pairedSharp: tf.Tensor4D | null;
  unpairedBlurry: tf.Tensor4D | null;
  unpairedSharp: tf.Tensor4D | null;
  /** All blurry inputs [B_p; B], all sharp [S_p; S], in that order. */
  blurryAll: tf.Tensor4D;
  sharpAll: tf.Tensor4D;
  /** G's input: blurryAll, or [guide; blurry] along the channels when the batch carries guides. */
  generatorInput: tf.Tensor4D;
}

export function checkBatch(b: TrainingBatch): void {
  const per = 3 * b.crop * b.crop;
  const want: Array<[string, Float32Array, number]> = [
    ['pairedBlurry', b.pairedBlurry, b.paired],
    ['pairedSharp', b.pairedSharp, b.paired],
    ['unpairedBlurry', b.unpairedBlurry, b.unpaired],
    ['unpairedSharp', b.unpairedSharp, b.unpaired],
  ];
  if (b.guides) want.push(['guides.paired', b.guides.paired, b.paired], ['guides.unpaired', b.guides.unpaired, b.unpaired]);
  for (const [name, arr, n] of want) {
    if (arr.length !== n * per) throw new Error(`batch ${b.iteration}: ${name} holds ${arr.length} values, expected ${n}×3×${b.crop}×${b.crop}`);
  }
  if (b.paired + b.unpaired === 0) throw new Error(`batch ${b.iteration} is empty`);
}

export function batchToTensors(b: TrainingBatch): BatchTensors {
  checkBatch(b);
  const c = b.crop;
  const t = (arr: Float32Array, n: number) => (n > 0 ? tf.tensor4d(arr, [n, 3, c, c]) : null);
  const pairedBlurry = t(b.pairedBlurry, b.paired);
  const pairedSharp = t(b.pairedSharp, b.paired);
  const unpairedBlurry = t(b.unpairedBlurry, b.unpaired);
  const unpairedSharp = t(b.unpairedSharp, b.unpaired);
  const cat = (a: tf.Tensor4D | null, z: tf.Tensor4D | null): tf.Tensor4D => (a && z ? tf.concat([a, z], 0) : ((a ?? z) as tf.Tensor4D).clone());
  const blurryAll = cat(pairedBlurry, unpairedBlurry);
  let generatorInput = blurryAll;
  if (b.guides) {
    const guideAll = tf.tensor4d(concatArrays(b.guides.paired, b.guides.unpaired), [b.paired + b.unpaired, 3, c, c]);
    generatorInput = tf.concat([guideAll, blurryAll], 1);
    guideAll.dispose();
  }
  return { pairedBlurry, pairedSharp, unpairedBlurry, unpairedSharp, blurryAll, sharpAll: cat(pairedSharp, unpairedSharp), generatorInput };
}

function concatArrays(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function disposeBatchTensors(t: BatchTensors): void {
  const all = new Set([t.pairedBlurry, t.pairedSharp, t.unpairedBlurry, t.unpairedSharp, t.blurryAll, t.sharpAll, t.generatorInput]);
  tf.dispose([...all].filter((x): x is tf.Tensor4D => x !== null));
}

/**
 * Splits a batch into `shards` equal parts for data-parallel workers: shard s takes paired samples
 * [s·P/n, (s+1)·P/n) and unpaired samples likewise, so every loss (a mean over equal-sized shards) and its
 * gradient average back to the whole batch's.
 */
export function shardBatch(b: TrainingBatch, shards: number): TrainingBatch[] {
  if (b.paired % shards !== 0 || b.unpaired % shards !== 0) {
    throw new Error(`a batch of ${b.paired} paired + ${b.unpaired} unpaired samples cannot be split evenly over ${shards} workers`);
  }
  const per = 3 * b.crop * b.crop;
  const p = b.paired / shards;
  const u = b.unpaired / shards;
  return Array.from({ length: shards }, (_, s) => ({
    iteration: b.iteration,
    crop: b.crop,
    paired: p,
    unpaired: u,
    pairedBlurry: b.pairedBlurry.slice(s * p * per, (s + 1) * p * per),
    pairedSharp: b.pairedSharp.slice(s * p * per, (s + 1) * p * per),
    unpairedBlurry: b.unpairedBlurry.slice(s * u * per, (s + 1) * u * per),
    unpairedSharp: b.unpairedSharp.slice(s * u * per, (s + 1) * u * per),
    ...(b.guides
      ? { guides: { paired: b.guides.paired.slice(s * p * per, (s + 1) * p * per), unpaired: b.guides.unpaired.slice(s * u * per, (s + 1) * u * per) } }
      : {}),
  }));
}
