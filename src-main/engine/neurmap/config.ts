import { z } from 'zod';

/**
 * The one configuration object of a NeurMAP training run. Every weight and learning rate of NEURMAP.md can be
 * set; anything left out takes the reference value; an unknown key, a negative weight or learning rate, or a
 * non-finite number is refused with a message naming the key.
 */

const weight = (def: number) =>
  z
    .number({ error: 'must be a finite number' })
    .min(0, { error: 'must not be negative' })
    .default(def);

const MotionWeights = z.strictObject({
  /** Sharp motion to zero: L1(m(S), 0). */
  sharpZero: weight(0.002),
  /** Blurry motion to its upper limit: L1(|m(B)|, 1). */
  blurryUpper: weight(0.001),
  /** Deblurred motion toward stopgrad blurry motion: L1(m(G(B)), sg m(B)). */
  deblurredTowardBlurry: weight(0.001),
  /** Deblurred magnitude must not exceed blurry magnitude: mean relu(‖m(G(B))‖ − ‖m(B)‖). */
  magnitudeOrder: weight(1),
  /** Reblur data term, MSE(R(G(B), m_rel), B). */
  reblurMse: weight(1),
  /** Reblur data term, 1 − MS-SSIM of the same pair. */
  reblurMsSsim: weight(0.1),
  /** TV of R's sampling offsets. */
  offsetTv: weight(0.002),
});

const GeneratorWeights = z.strictObject({
  /** Content on the paired half: L1(G(B_p), S_p). */
  content: weight(100),
  /** Reblur on the unpaired half: reblur · [MSE + reblurMsSsim · (1 − MS-SSIM)] with stopgrad(m_rel). */
  reblur: weight(100),
  /** The MS-SSIM share inside G's reblur term. */
  reblurMsSsim: weight(0.1),
  /** Sharp-image prior: mean((|m(G(B))| − pool mean |m(S)|)²). */
  sharpPrior: weight(0.5),
  /** Natural-image prior: LSGAN(D(G(B)), natural). */
  naturalPrior: weight(1),
  /** TV of M's map of G's output (0 in the reference setting). */
  motionTv: weight(0),
  /** TV of G's output image (0 in the reference setting). */
  imageTv: weight(0),
});

const DiscriminatorWeights = z.strictObject({
  /** LSGAN term on natural (or, in the ablation, sharp) images → 1. */
  real: weight(1),
  /** LSGAN term on generated images (and, in the ablation, blurry photos) → 0. */
  fake: weight(1),
});

const LearningRates = z.strictObject({
  G: weight(5e-5),
  M: weight(1e-4),
  D: weight(1e-4),
});

const Optimizer = z.strictObject({
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  epsilon: z.number().positive().default(1e-8),
  lr: LearningRates.prefault({}),
  /** Linear decay to 0 over `iterations` (reference), or constant. */
  schedule: z.enum(['linear', 'constant']).default('linear'),
});

const Ablations = z.strictObject({
  /** No reblur term (neither in M's nor in G's update). */
  noReblur: z.boolean().default(false),
  /** No motion network at all: G trained with the content loss and the natural-image GAN only. */
  noMotionNetwork: z.boolean().default(false),
  /** D separates sharp photos (real) from blurry photos and G's outputs (fake), instead of natural vs generated. */
  sharpVsBlurryDiscriminator: z.boolean().default(false),
  /** Every TV weight to 0. */
  noTV: z.boolean().default(false),
});

const Recipes = z
  .strictObject({
    linear: weight(0.45),
    shake: weight(0.45),
    none: weight(0.1),
  })
  .refine((r) => r.linear + r.shake + r.none > 0, { error: 'at least one recipe weight must be positive' });

const Data = z.strictObject({
  /** Mix of engine/synth recipes for the paired half (relative weights). */
  recipes: Recipes.prefault({}),
  /** Photos are decoded with their longer side resized down to this many pixels (never up) before cropping. */
  workingSize: z.number().int().min(16).default(1024),
  /** Photos of each list that one window of iterations draws its crops from (bounded decode work and memory). */
  photosPerWindow: z.number().int().min(1).default(8),
  /** Iterations per window; each window draws a fresh random set of photos. */
  iterationsPerWindow: z.number().int().min(1).default(16),
});

export const TrainingConfigSchema = z.strictObject({
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
  /** Total iterations; the learning rates decay linearly to 0 over them. */
  iterations: z.number().int().min(1).default(2000),
  /** Square training crops (reference 256; the in-app bench uses 128). */
  cropSize: z.number().int().min(8).default(256),
  /** Batch of 4 in the reference: a paired half (synthetic B_p with S_p) and an unpaired half (real B, unrelated S). */
  batch: z
    .strictObject({
      paired: z.number().int().min(0).default(2),
      unpaired: z.number().int().min(0).default(2),
    })
    .refine((b) => b.paired + b.unpaired > 0, { error: 'the batch must hold at least one sample' })
    .prefault({}),
  optimizer: Optimizer.prefault({}),
  weights: z
    .strictObject({
      motion: MotionWeights.prefault({}),
      generator: GeneratorWeights.prefault({}),
      discriminator: DiscriminatorWeights.prefault({}),
    })
    .prefault({}),
  /** Recent sharp motion maps kept for the sharp-image prior. */
  sharpPoolSize: z.number().int().min(1).default(50),
  ablations: Ablations.prefault({}),
  data: Data.prefault({}),
  /** Write a checkpoint every this many iterations (and at the end, and on cancel). */
  checkpointEvery: z.number().int().min(1).default(50),
});

export type TrainingConfig = z.output<typeof TrainingConfigSchema>;
/** What callers may pass: any subset, nested. */
export type TrainingConfigInput = z.input<typeof TrainingConfigSchema>;
export type MotionWeights = TrainingConfig['weights']['motion'];
export type GeneratorWeights = TrainingConfig['weights']['generator'];
export type DiscriminatorWeights = TrainingConfig['weights']['discriminator'];

export class TrainingConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid NeurMAP training configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TrainingConfigError';
  }
}

/** Validates and completes a configuration; throws TrainingConfigError naming every bad key. */
export function parseTrainingConfig(input: unknown = {}): TrainingConfig {
  const r = TrainingConfigSchema.safeParse(input ?? {});
  if (r.success) return r.data;
  const problems = r.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length ? issue.path.join('.') + '.' : '';
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${where}${k}"`).join(', ')}`;
    }
    const key = issue.path.join('.') || '(root)';
    const value = valueAt(input, issue.path);
    const shown = value === undefined ? '' : ` (got ${JSON.stringify(value) ?? String(value)})`;
    return `${key}: ${issue.message}${shown}`;
  });
  throw new TrainingConfigError(problems);
}

/** The reference configuration (NEURMAP.md). */
export function defaultTrainingConfig(): TrainingConfig {
  return parseTrainingConfig({});
}

/** The weights actually used once the ablation flags are applied, and which steps run. */
export interface EffectiveSettings {
  motion: MotionWeights;
  generator: GeneratorWeights;
  discriminator: DiscriminatorWeights;
  /** M exists and is updated (false with noMotionNetwork). */
  useMotionNetwork: boolean;
  /** Any reblur term is computed. */
  useReblur: boolean;
  discriminatorMode: 'natural' | 'sharp-vs-blurry';
}

export function effectiveSettings(cfg: TrainingConfig): EffectiveSettings {
  const motion = { ...cfg.weights.motion };
  const generator = { ...cfg.weights.generator };
  const discriminator = { ...cfg.weights.discriminator };
  const a = cfg.ablations;
  if (a.noReblur || a.noMotionNetwork) {
    motion.reblurMse = 0;
    motion.reblurMsSsim = 0;
    generator.reblur = 0;
  }
  if (a.noTV) {
    motion.offsetTv = 0;
    generator.motionTv = 0;
    generator.imageTv = 0;
  }
  if (a.noMotionNetwork) {
    for (const k of Object.keys(motion) as Array<keyof MotionWeights>) motion[k] = 0;
    generator.sharpPrior = 0;
    generator.motionTv = 0;
  }
  return {
    motion,
    generator,
    discriminator,
    useMotionNetwork: !a.noMotionNetwork,
    useReblur: !a.noMotionNetwork && !a.noReblur,
    discriminatorMode: a.sharpVsBlurryDiscriminator ? 'sharp-vs-blurry' : 'natural',
  };
}

/** Learning-rate factor at a 0-based iteration: 1 − i/N with linear decay (the last iteration uses 1/N), else 1. */
export function learningRateFactor(cfg: TrainingConfig, iteration: number): number {
  if (cfg.optimizer.schedule === 'constant') return 1;
  return Math.max(0, 1 - iteration / cfg.iterations);
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}
