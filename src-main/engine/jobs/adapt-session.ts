/**
 * One adaptation from request to personal model, the steps the Studio's "Adapt to my photos" and `neurmap adapt`
 * both take: check the name is free, resolve the base model (and its motion model), pick the run folder (the same
 * name resumes the same run), train and score, then keep the result as a personal model or discard it.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ModelEntry, ModelRegistry } from '../models/index.ts';
import type { TrainingProgress } from '../neurmap/training-log.ts';
import {
  AdaptInputError, budgetedProgress, runAdaptation, type AdaptBase, type AdaptInputs, type AdaptOutcome, type AdaptRunOptions,
} from './adapt.ts';
import { LEARNED_PART_FILES } from './learned-parts.ts';

export interface AdaptSessionRunOptions extends Omit<AdaptRunOptions, 'base' | 'runDir' | 'onProgress'> {
  /** Training progress, with the fraction done and the seconds left under both budgets (iterations and minutes). */
  onProgress?: (p: TrainingProgress, budget: { fraction: number; etaSeconds: number | null }) => void;
}

export class AdaptationSession {
  private outcome: AdaptOutcome | null = null;

  private constructor(
    private readonly registry: ModelRegistry,
    readonly inputs: AdaptInputs,
    readonly base: AdaptBase,
    /** Checkpoints and the loss log. */
    readonly runDir: string,
  ) {}

  /** Everything that would fail the whole adaptation fails here, before any work. Throws AdaptInputError. */
  static async prepare(registry: ModelRegistry, userDataDir: string, inputs: AdaptInputs, baseModelId?: string): Promise<AdaptationSession> {
    await assertModelNameFree(registry, inputs.name);
    const base = await resolveAdaptBase(registry, baseModelId);
    return new AdaptationSession(registry, inputs, base, adaptRunDir(userDataDir, inputs.name));
  }

  /** Trains and scores (resuming the run folder's checkpoint, if any). Throws AdaptCancelledError when cancelled. */
  async run(opts: AdaptSessionRunOptions = {}): Promise<AdaptOutcome> {
    const { onProgress, ...rest } = opts;
    this.outcome = await runAdaptation(this.inputs, {
      ...rest,
      base: this.base,
      runDir: this.runDir,
      onProgress: onProgress && ((p) => onProgress(p, budgetedProgress(p, this.inputs.minutes))),
    });
    return this.outcome;
  }

  /** Keeps the result as a personal model (returned), or discards it; the run's folder goes either way. */
  async finish(keep: boolean): Promise<ModelEntry | null> {
    if (!this.outcome) throw new Error('the adaptation has not finished');
    const saved = keep ? await savePersonalModel(this.registry, this.inputs, this.base, this.outcome) : null;
    await fs.rm(this.runDir, { recursive: true, force: true });
    return saved;
  }
}

/**
 * What an adaptation starts from: a personal refiner (named, or selected) with its own M when it has one, else the
 * shipped refiner (models/refiner.onnx) with the shipped M. Base networks ("fast", "fine") are not adapted: they no
 * longer deblur by default, the MAP core and its refiner do.
 */
async function resolveAdaptBase(registry: ModelRegistry, baseModelId?: string): Promise<AdaptBase> {
  const entry = baseModelId ? await registry.get(baseModelId) : await registry.selected();
  if (baseModelId && (!entry || entry.kind !== 'deblur')) throw new AdaptInputError(`no deblur model "${baseModelId}"`);
  if (entry && entry.origin === 'personal' && !entry.ok) throw new AdaptInputError(`model "${entry.id}" cannot be used: ${entry.error}`);
  const personal = entry?.refiner ? entry : null;
  const motion = await registry.motionModel(personal);
  if (!motion) throw new AdaptInputError('adapting needs the motion model (motion.onnx), which is not installed');
  if (personal) return { id: personal.id, refiner: personal.path, motion: motion.path };
  const shipped = path.join(registry.modelsDir, LEARNED_PART_FILES.refiner);
  if (!existsSync(shipped)) throw new AdaptInputError(`adapting needs the refiner of the MAP core (${shipped}), which is not installed`);
  return { id: 'refiner', refiner: shipped, motion: motion.path };
}

async function assertModelNameFree(registry: ModelRegistry, name: string): Promise<void> {
  const clash = (await registry.list()).find((m: ModelEntry) => m.origin === 'personal' && m.card?.name.toLowerCase() === name.trim().toLowerCase());
  if (clash) throw new AdaptInputError(`a personal model named "${name}" already exists (${clash.id}): choose another name or delete it first`);
}

/** Where an adaptation keeps its checkpoint: the same name resumes the same run. */
function adaptRunDir(userData: string, name: string): string {
  const slug = name.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'model';
  return path.join(userData, 'adapt-runs', slug);
}

async function savePersonalModel(registry: ModelRegistry, inputs: AdaptInputs, base: AdaptBase, outcome: AdaptOutcome): Promise<ModelEntry> {
  const t = outcome.training;
  return registry.savePersonal({
    card: {
      name: inputs.name.trim(),
      created: new Date().toISOString(),
      baseModel: base.id,
      kind: 'deblur',
      trainingData: {
        summary: `${t.blurry} blurry photos from ${inputs.blurryDir} (${t.heldOut} more held out to check), ${t.sharp} sharp photos (${t.sharpSource}), ${outcome.iterations} NeurMAP iterations of the refiner`,
        blurryPhotos: t.blurry,
        sharpPhotos: t.sharp,
        minutes: outcome.seconds / 60,
      },
      metrics: {
        motion_left_px_before: outcome.before.motionLeftPx,
        motion_left_px_after: outcome.after.motionLeftPx,
        reblur_psnr_db_before: outcome.before.reblurPsnr,
        reblur_psnr_db_after: outcome.after.reblurPsnr,
        iterations: outcome.iterations,
      },
      description: 'Adapted with "adapt to my photos" (unpaired NeurMAP fine-tuning of the refiner of the MAP core).',
    },
    refiner: outcome.refinerOnnx,
    motion: outcome.motionOnnx,
  });
}
