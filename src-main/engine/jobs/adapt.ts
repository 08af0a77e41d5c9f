/**
 * "Adapt to my photos": NeurMAP fine-tuning of the MAP core's learned parts on the user's own blurry photos, which
 * have no sharp ground truth (NEURMAP.md's semi-supervised scheme: synthetic pairs from sharp photos keep the content
 * loss). G is the refiner of the MAP result, G(B) = refine(B, MAP(B)), with the MAP result computed once per photo
 * (adapt-guides.ts); M, the motion network, and D train beside it with the full loss set. A held-out part of the
 * blurry photos is scored before and after, so a model that got worse is never kept silently.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { loadTrainableNetwork } from '../graph/interpreter.ts';
import { createPatchGan, IN_APP_PATCHGAN } from '../graph/patchgan.ts';
import type { TrainableNetwork } from '../graph/trainable-network.ts';
import { reblurConsistency } from '../neurmap/evaluate.ts';
import { motionMagnitude } from '../neurmap/tensor-ops.ts';
import { GuidedBatchSource, type GuidedPhoto, type Image8 } from '../neurmap/guided-data.ts';
import { parseTrainingConfig, type TrainingConfig, type TrainingConfigInput } from '../neurmap/config.ts';
import { onnxNetworkSpec, patchGanSpec } from '../neurmap/network-spec.ts';
import { workerCompute, workersAvailable } from '../neurmap/parallel.ts';
import { useTrainingBackend } from '../neurmap/tf-backend.ts';
import { CHECKPOINT_FILE, trainNeurmap } from '../neurmap/trainer.ts';
import { loadCheckpoint } from '../neurmap/checkpoint.ts';
import type { TrainingProgress } from '../neurmap/training-log.ts';
import { MOTION_UNIT_PX } from '../synth/motion-vector.ts';
import { appRoot } from '../paths.ts';
import { scanPhotoFolder } from './scan-folder.ts';
import { failureLine } from './failure-line.ts';
import { prepareGuidedSamples, prepareHeldOut, type GuidePreparation } from './adapt-guides.ts';
import { probeImage } from '../image/probe.ts';
import { resolveLimits } from '../image/limits.ts';

export interface AdaptInputs {
  blurryDir: string;
  /** The user's sharp photos; without them, the library's sharpest photos by M, else the bundled sharp set. */
  sharpDir?: string;
  name: string;
  /** Budget: wall-clock minutes, or a number of iterations (whichever is given; both: whichever comes first). */
  minutes?: number;
  iterations?: number;
}

export interface AdaptBase {
  /** The refiner adapted from: "refiner" (shipped) or a personal model's id. */
  id: string;
  refiner: string;
  motion: string;
}

/** The held-out score of a model in an adaptation: never trained on, scored before and after. */
export interface HeldOutScore {
  /** Motion the base motion model still finds in the deblurred photos, mean px (lower: sharper). */
  motionLeftPx: number;
  /** PSNR in dB between each photo and its reblur from the deblurred one (higher: more consistent). */
  reblurPsnr: number;
}

/** The before/after card of an adaptation (the app shows it before the user keeps or discards the model). */
export interface AdaptSummary {
  status: 'completed' | 'cancelled' | 'stopped';
  iterations: number;
  /** The iteration this run continued from (the checkpoint a cancelled run with the same name kept), else null. */
  resumedFrom: number | null;
  seconds: number;
  before: HeldOutScore;
  after: HeldOutScore;
  better: boolean;
  training: { blurry: number; heldOut: number; sharp: number; sharpSource: 'given' | 'library' | 'bundled'; skipped: string[] };
}

/** The card (better = less motion left without losing reblur consistency) and the adapted networks. */
export interface AdaptOutcome extends AdaptSummary {
  refinerOnnx: Uint8Array;
  motionOnnx: Uint8Array;
}

export interface AdaptRunOptions {
  base: AdaptBase;
  /** Checkpoints and the loss log; a run with the same folder resumes. */
  runDir: string;
  signal?: AbortSignal;
  onProgress?: (p: TrainingProgress) => void;
  onStatus?: (message: string) => void;
  /** Overrides of the training configuration (tests use tiny crops). */
  config?: TrainingConfigInput;
  /** Data-parallel worker threads (WASM is single-threaded per thread); 0 trains in this thread. */
  workers?: number;
  /** Largest side of the centred squares of the held-out photos (at the working size) that are scored. */
  scoreSize?: number;
  /** Scores M gives to library photos below which they count as sharp (px). */
  sharpBelowPx?: number;
  /**
   * How many MAP results to prepare: synthetic pairs, blurry photos (at most; spread over the library), pair side;
   * and where to cache them (default: the run folder; runs on the same photos may share one).
   */
  guides?: { pairs?: number; photos?: number; pairSize?: number; cacheDir?: string };
  /**
   * How much sharper the held-out photos come out with the refiner as it trains: less motion left than with the base
   * refiner, in percent, about ten times a run (the app's "how much sharper" curve).
   */
  onHeldOut?: (p: { iteration: number; sharperPercent: number }) => void;
}

export const BUNDLED_SHARP_DIR = path.join(appRoot, 'resources', 'sharp-set');
/** When only minutes are given, the learning-rate schedule assumes this rate (the target on a 2-core CPU). */
const SCHEDULE_ITERATIONS_PER_SECOND = 1;
const MIN_SHARP = 2;
/** The MAP core takes seconds per photo at the working size: this many photos of a larger library are prepared. */
const GUIDED_PHOTOS = 24;
const GUIDED_PAIRS = 24;
/** G's name in checkpoints: a run folder whose checkpoint names another G cannot be resumed by this one. */
const REFINER_NAME = 'refine';

export class AdaptInputError extends Error {}

/** The run was cancelled: its checkpoint is kept, and the same name resumes it. */
export class AdaptCancelledError extends Error {}

/**
 * The blurry library split into training and held-out photos (every fifth readable one, at least one, by sorted
 * name). Files that are not photos, or too large to open, are set aside from the header alone.
 */
export async function splitLibrary(blurryDir: string): Promise<{ train: string[]; heldOut: string[]; skipped: string[] }> {
  const files = (await scanPhotoFolder(blurryDir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    throw new AdaptInputError(`${blurryDir}: ${err.code === 'ENOENT' ? 'no such folder' : err.code === 'ENOTDIR' ? 'not a folder' : err.message}`);
  })).map((f) => path.join(blurryDir, f));
  if (files.length === 0) throw new AdaptInputError(`${blurryDir} holds no photos (JPEG, PNG, TIFF, WebP or HEIC)`);
  const readable: string[] = [];
  const skipped: string[] = [];
  const limits = resolveLimits();
  for (const f of files) {
    await probeImage(f, limits).then(
      () => readable.push(f),
      (err: unknown) => skipped.push(failureLine(f, err)),
    );
  }
  if (readable.length === 0) throw new AdaptInputError(`${blurryDir} holds no readable photos (${skipped.length} skipped)`);
  if (readable.length < 2) throw new AdaptInputError(`${blurryDir} holds only one photo: adapting needs at least two, one of them kept aside to check the result`);
  const heldOut = readable.filter((_, i) => i % 5 === 4);
  if (heldOut.length === 0) heldOut.push(readable[readable.length - 1]);
  return { train: readable.filter((f) => !heldOut.includes(f)), heldOut, skipped };
}

/** A photo as a [1, 3, size, size] tensor in [0, 1] (centre crop after a resize), or null when it cannot be read. */
async function loadSquare(file: string, size: number): Promise<tf.Tensor4D | null> {
  try {
    const { data } = await sharp(file, { failOn: 'error', limitInputPixels: 120_000_000 })
      .rotate()
      .resize(size, size, { fit: 'cover' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const chw = new Float32Array(3 * size * size);
    for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) chw[c * size * size + i] = data[3 * i + c] / 255;
    return tf.tensor4d(chw, [1, 3, size, size]);
  } catch {
    return null;
  }
}

const asTensor = (img: Image8) => tf.tensor4d(Float32Array.from(img.data, (v) => v / 255), [1, 3, img.height, img.width]);

/** The mean motion magnitude M finds in an image, px. */
function meanMotionPx(m: TrainableNetwork, x: tf.Tensor4D): number {
  return tf.mean(motionMagnitude(m.apply(x))).dataSync()[0] * MOTION_UNIT_PX;
}

/** The motion a fixed judge M still finds in the refiner's output on the held-out photos, mean px. */
function motionLeft(g: TrainableNetwork, judge: TrainableNetwork, photos: GuidedPhoto[]): number {
  let motion = 0;
  for (const p of photos) motion += tf.tidy(() => meanMotionPx(judge, g.apply(tf.concat([asTensor(p.guide), asTensor(p.blurry)], 1))));
  return motion / photos.length;
}

/** Percent less motion left than `before` (positive: sharper). */
const sharperPercent = (before: number, now: number) => (before > 1e-9 ? (100 * (before - now)) / before : 0);

/** The held-out score of a refiner/motion pair, judged for sharpness by a fixed motion model. */
function scoreHeldOut(g: TrainableNetwork, m: TrainableNetwork, judge: TrainableNetwork, photos: GuidedPhoto[]): HeldOutScore {
  if (photos.length === 0) throw new AdaptInputError('none of the held-out photos could be read');
  let psnr = 0;
  for (const p of photos) {
    const [x, guide] = [asTensor(p.blurry), asTensor(p.guide)];
    const { mse } = reblurConsistency(g, m, x, guide);
    tf.dispose([x, guide]);
    psnr += -10 * Math.log10(Math.max(mse[0], 1e-10));
  }
  return { motionLeftPx: motionLeft(g, judge, photos), reblurPsnr: psnr / photos.length };
}

/** Creates `dir` when needed; a folder that cannot be written is one clear line, before any work. */
async function assertWritableFolder(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
    await fs.access(dir, fs.constants.W_OK);
  } catch (err) {
    throw new AdaptInputError(`cannot write the adaptation's folder ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): its checkpoints and the MAP results it trains on go there`);
  }
}

/** `count` files spread evenly over `files` (all of them when fewer). */
function spread(files: string[], count: number): string[] {
  if (files.length <= count) return files;
  return Array.from({ length: count }, (_, i) => files[Math.floor((i * files.length) / count)]);
}

/** Sharp photos for the paired half: the user's, else the library's sharpest by M, else the bundled set. */
async function chooseSharp(inputs: AdaptInputs, library: string[], judge: TrainableNetwork, opts: AdaptRunOptions): Promise<{ files: string[]; source: 'given' | 'library' | 'bundled' }> {
  if (inputs.sharpDir) {
    const files = (await scanPhotoFolder(inputs.sharpDir, { recursive: true })).map((f) => path.join(inputs.sharpDir!, f));
    if (files.length === 0) throw new AdaptInputError(`${inputs.sharpDir} holds no photos`);
    return { files, source: 'given' };
  }
  const threshold = opts.sharpBelowPx ?? 1.5;
  const sharpOnes: string[] = [];
  for (const f of library) {
    const x = await loadSquare(f, 256);
    if (!x) continue;
    const score = tf.tidy(() => meanMotionPx(judge, x));
    x.dispose();
    if (score < threshold) sharpOnes.push(f);
  }
  if (sharpOnes.length >= MIN_SHARP) return { files: sharpOnes, source: 'library' };
  const bundled = (await fs.readdir(BUNDLED_SHARP_DIR)).filter((f) => f.endsWith('.jpg')).map((f) => path.join(BUNDLED_SHARP_DIR, f));
  return { files: bundled, source: 'bundled' };
}

export async function runAdaptation(inputs: AdaptInputs, opts: AdaptRunOptions): Promise<AdaptOutcome> {
  if (!inputs.minutes && !inputs.iterations) throw new AdaptInputError('give a time budget (minutes) or a number of iterations');
  const status = opts.onStatus ?? (() => {});
  const started = performance.now();
  await useTrainingBackend();
  const { train, heldOut, skipped } = await splitLibrary(inputs.blurryDir);
  const size = opts.scoreSize ?? 256;
  const iterations = inputs.iterations ?? Math.max(10, Math.round((inputs.minutes ?? 0) * 60 * SCHEDULE_ITERATIONS_PER_SECOND));
  const config = parseTrainingConfig({ cropSize: 128, ...opts.config, iterations });
  const prep: GuidePreparation = {
    cacheDir: opts.guides?.cacheDir ?? path.join(opts.runDir, 'map-results'),
    workingSize: config.data.workingSize,
    cropSize: config.cropSize,
    pairSize: opts.guides?.pairSize ?? 2 * config.cropSize,
    pairs: opts.guides?.pairs ?? GUIDED_PAIRS,
    recipes: config.data.recipes,
    seed: config.seed,
    signal: opts.signal,
    onStatus: status,
  };

  for (const dir of [opts.runDir, prep.cacheDir]) await assertWritableFolder(dir);
  // A run cancelled before the MAP core trained the end-to-end G: its checkpoint cannot continue as a refiner.
  const kept = await loadCheckpoint(path.join(opts.runDir, CHECKPOINT_FILE)).catch(() => null);
  if (kept && kept.networkNames.G !== REFINER_NAME) {
    throw new AdaptInputError(`the cancelled run named "${inputs.name}" adapted the old end-to-end network, which the MAP core replaced: give this adaptation another name (or delete ${opts.runDir})`);
  }

  // The base M judges how much motion is left in every score, before, during and after training.
  const baseM = loadTrainableNetwork(opts.base.motion, 'motion');
  try {
    return await adaptWith(baseM, inputs, opts, { train, heldOut, skipped, size, config, prep, started });
  } finally {
    baseM.dispose();
  }
}

/** A cancel while the MAP results are being made: what was made is cached and the same name resumes. */
function preparing<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  return work.catch((err: unknown) => {
    throw signal?.aborted ? new AdaptCancelledError('cancelled while preparing the photos; the MAP results made so far are kept and the same name resumes') : err;
  });
}

async function adaptWith(
  baseM: TrainableNetwork,
  inputs: AdaptInputs,
  opts: AdaptRunOptions,
  run: { train: string[]; heldOut: string[]; skipped: string[]; size: number; config: TrainingConfig; prep: GuidePreparation; started: number },
): Promise<AdaptOutcome> {
  const { train, heldOut, skipped, size, config, prep } = run;
  const status = opts.onStatus ?? (() => {});
  const sharpChoice = await chooseSharp(inputs, train, baseM, opts);
  const heldOutPhotos = await preparing(prepareHeldOut(heldOut, size, prep), opts.signal);
  status('scoring the held-out photos with the current refiner');
  const baseG = loadTrainableNetwork(opts.base.refiner, REFINER_NAME);
  let before: HeldOutScore;
  try {
    before = scoreHeldOut(baseG, baseM, baseM, heldOutPhotos);
  } finally {
    baseG.dispose();
  }
  const trainPhotos = spread(train, opts.guides?.photos ?? GUIDED_PHOTOS);
  const samples = await preparing(prepareGuidedSamples({ blurry: trainPhotos, sharp: sharpChoice.files }, prep), opts.signal);
  skipped.push(...samples.skipped);
  if (samples.pairs.length === 0) {
    throw new AdaptInputError(`none of the ${sharpChoice.files.length} sharp photos (${sharpChoice.source}) could be used for the synthetic pairs: ${samples.skipped.slice(0, 3).join('; ') || 'too small'}`);
  }
  if (samples.photos.length === 0) {
    throw new AdaptInputError(`none of the ${trainPhotos.length} blurry photos to train on could be used: ${samples.skipped.slice(0, 3).join('; ')}`);
  }
  if (samples.withBlur === 0) {
    throw new AdaptInputError(`the MAP core found no blur to undo in any of the ${samples.photos.length} photos it trains on: they look sharp already, so there is nothing to adapt to (nothing saved)`);
  }
  const data = new GuidedBatchSource(samples, { seed: config.seed, cropSize: config.cropSize, paired: config.batch.paired, unpaired: config.batch.unpaired });
  let refinerOnnx: Uint8Array | null = null;
  let motionOnnx: Uint8Array | null = null;
  const workers = workersAvailable() ? (opts.workers ?? 2) : 0;
  const networks = { G: onnxNetworkSpec(opts.base.refiner, REFINER_NAME), M: onnxNetworkSpec(opts.base.motion, 'motion'), D: patchGanSpec({ ...IN_APP_PATCHGAN, seed: config.seed }) };
  status(`training on ${trainPhotos.length} blurry photos and ${samples.pairs.length} synthetic pairs from ${sharpChoice.files.length} sharp photos (${sharpChoice.source})`);
  const result = await trainNeurmap({
    config,
    compute:
      workers > 0
        ? workerCompute({ workers, networks })
        : { kind: 'local', networks: { G: loadTrainableNetwork(opts.base.refiner, REFINER_NAME), M: loadTrainableNetwork(opts.base.motion, 'motion'), D: createPatchGan({ ...IN_APP_PATCHGAN, seed: config.seed }) } },
    data,
    runDir: opts.runDir,
    signal: opts.signal,
    onProgress: opts.onProgress,
    maxSeconds: inputs.minutes ? inputs.minutes * 60 : undefined,
    meta: { name: inputs.name, base: opts.base.id },
    probe: opts.onHeldOut && {
      every: Math.max(1, Math.round(config.iterations / 10)),
      run: async (engine, iteration) => {
        const g = loadTrainableNetwork(await engine.exportOnnx('G'), REFINER_NAME);
        try {
          opts.onHeldOut!({ iteration, sharperPercent: sharperPercent(before.motionLeftPx, motionLeft(g, baseM, heldOutPhotos)) });
        } finally {
          g.dispose();
        }
      },
    },
    // A cancelled run keeps its checkpoint under the model's name; the user must know that this run continues it.
    onResume: (iteration) =>
      status(`resuming the cancelled run named "${inputs.name}" from its checkpoint: ${iteration} of ${config.iterations} iterations already done (another name starts over)`),
    finalize: async (engine) => {
      refinerOnnx = await engine.exportOnnx('G');
      // Without the motion network (an ablation) M is not trained: the base one goes with the model.
      motionOnnx = config.ablations.noMotionNetwork ? new Uint8Array(await fs.readFile(opts.base.motion)) : await engine.exportOnnx('M');
    },
  });
  if (result.status === 'cancelled') {
    throw new AdaptCancelledError(`cancelled at iteration ${result.iteration}; the checkpoint is kept and the same name resumes it`);
  }
  if (!refinerOnnx || !motionOnnx) throw new Error('training ended without networks to save');

  status('scoring the held-out photos with the adapted refiner');
  const newG = loadTrainableNetwork(refinerOnnx, REFINER_NAME);
  const newM = loadTrainableNetwork(motionOnnx, 'motion');
  let after: HeldOutScore;
  try {
    after = scoreHeldOut(newG, newM, baseM, heldOutPhotos);
  } finally {
    newG.dispose();
    newM.dispose();
  }
  return {
    status: result.status,
    iterations: result.iteration,
    resumedFrom: result.resumedFrom,
    seconds: (performance.now() - run.started) / 1000,
    before,
    after,
    better: after.motionLeftPx < before.motionLeftPx && after.reblurPsnr > before.reblurPsnr - 0.5,
    refinerOnnx,
    motionOnnx,
    training: { blurry: trainPhotos.length, heldOut: heldOutPhotos.length, sharp: sharpChoice.files.length, sharpSource: sharpChoice.source, skipped },
  };
}

/** Fraction done and seconds left under both budgets: the iteration count and, when set, the minutes. */
export function budgetedProgress(p: TrainingProgress, minutes?: number): { fraction: number; etaSeconds: number | null } {
  const byIterations = p.iteration / p.totalIterations;
  if (!minutes) return { fraction: byIterations, etaSeconds: p.etaSeconds };
  const left = Math.max(0, minutes * 60 - p.elapsedSeconds);
  return {
    fraction: Math.min(1, Math.max(byIterations, p.elapsedSeconds / (minutes * 60))),
    etaSeconds: p.etaSeconds === null ? left : Math.min(p.etaSeconds, left),
  };
}
