/** Between the registry and an adaptation: which base it starts from, where it runs, and the personal model it makes. */
import path from 'node:path';
import type { ModelEntry, ModelRegistry } from '../models/index.ts';
import { AdaptInputError, type AdaptBase, type AdaptInputs, type AdaptOutcome } from './adapt.ts';

export async function resolveAdaptBase(registry: ModelRegistry, baseModelId?: string): Promise<AdaptBase> {
  const entry = baseModelId ? await registry.get(baseModelId) : await registry.selected();
  if (!entry || entry.kind !== 'deblur') throw new AdaptInputError(baseModelId ? `no deblur model "${baseModelId}"` : 'no deblur model is installed to adapt');
  if (!entry.ok) throw new AdaptInputError(`model "${entry.id}" cannot be used: ${entry.error}`);
  const motion = await registry.motionModel(entry);
  if (!motion) throw new AdaptInputError('adapting needs the motion model (motion.onnx), which is not installed');
  return { id: entry.id, deblur: entry.path, motion: motion.path };
}

export async function assertModelNameFree(registry: ModelRegistry, name: string): Promise<void> {
  const clash = (await registry.list()).find((m: ModelEntry) => m.origin === 'personal' && m.card?.name.toLowerCase() === name.trim().toLowerCase());
  if (clash) throw new AdaptInputError(`a personal model named "${name}" already exists (${clash.id}): choose another name or delete it first`);
}

/** Where an adaptation keeps its checkpoint: the same name resumes the same run. */
export function adaptRunDir(userData: string, name: string): string {
  const slug = name.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'model';
  return path.join(userData, 'adapt-runs', slug);
}

export async function savePersonalModel(registry: ModelRegistry, inputs: AdaptInputs, base: AdaptBase, outcome: AdaptOutcome): Promise<ModelEntry> {
  const t = outcome.training;
  return registry.savePersonal({
    card: {
      name: inputs.name.trim(),
      created: new Date().toISOString(),
      baseModel: base.id,
      kind: 'deblur',
      trainingData: {
        summary: `${t.blurry} blurry photos from ${inputs.blurryDir} (${t.heldOut} more held out to check), ${t.sharp} sharp photos (${t.sharpSource}), ${outcome.iterations} NeurMAP iterations`,
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
      description: 'Adapted with "adapt to my photos" (unpaired NeurMAP fine-tuning).',
    },
    deblur: outcome.deblurOnnx,
    motion: outcome.motionOnnx,
  });
}
