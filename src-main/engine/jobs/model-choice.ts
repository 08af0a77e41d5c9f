import fs from 'node:fs/promises';
import path from 'node:path';
import type { ModelEntry, ModelRegistry } from '../models/index.ts';

/** No usable deblur network: nothing can run (the CLI exits with 3, the app says so). */
export class NoModelError extends Error {
  readonly code = 'no-model';
}

export interface ModelChoice {
  /** G's ONNX file, and the id shown to the user. */
  deblur: string;
  deblurId: string;
  /** M's ONNX file, or null when none is installed (motion features then say so). */
  motion: string | null;
  /** `deblur` is a personal refiner: it deblurs through the MAP core, not on its own. */
  refiner: boolean;
}

/**
 * The networks to run: `requested` may be a registry id ("fast", "fine", "personal:…") or a path to an .onnx file;
 * without it, the selected model.
 */
export async function chooseModels(registry: ModelRegistry, requested?: string): Promise<ModelChoice> {
  let entry: ModelEntry | null;
  if (requested && requested.toLowerCase().endsWith('.onnx')) {
    const file = path.resolve(requested);
    await fs.access(file).catch(() => {
      throw new NoModelError(`model file ${file} does not exist`);
    });
    const motion = await registry.motionModel(null);
    return { deblur: file, deblurId: file, motion: motion?.path ?? null, refiner: false };
  }
  if (requested) {
    entry = await registry.get(requested);
    if (!entry || entry.kind !== 'deblur') throw new NoModelError(`no deblur model "${requested}" (see \`neurmap info\` for the installed ones)`);
    if (!entry.ok) throw new NoModelError(`model "${requested}" cannot be used: ${entry.error}`);
  } else {
    entry = await registry.selected();
  }
  if (!entry) throw new NoModelError(`no deblur model is installed (expected ${path.join(registry.modelsDir, 'deblur.onnx')})`);
  const motion = await registry.motionModel(entry);
  return { deblur: entry.path, deblurId: entry.id, motion: motion?.path ?? null, refiner: entry.refiner };
}
