/**
 * Which of the MAP core's learned parts a deblur uses: those the user's choice asks for, among those shipped in the
 * models folder; a personal refiner ("adapt to my photos") refines whenever it is the selected model, since
 * selecting it is the user's choice of a refiner.
 * A part ships only when `npm run eval` shows it helping (models/MODEL_CARD.md), so a missing refiner is simply not
 * used; a learned prior asked for by name but not installed is an error.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { baseModelsDir } from '../paths.ts';
import type { LearnedParts } from './map-pipeline.ts';
import type { ModelRegistry } from '../models/index.ts';

export type PriorChoice = 'hand-made' | 'learned';

export interface LearnedPartsChoice {
  prior: PriorChoice;
  /** Run the shipped refiner (a personal one runs whenever it is given). */
  refine: boolean;
  /** A personal model (id and refiner file) that refines instead of the shipped refiner. */
  personal?: { id: string; refiner: string };
}

export const LEARNED_PART_FILES = { denoiser: 'denoiser.onnx', refiner: 'refiner.onnx' } as const;

export class MissingPartError extends Error {}

export function learnedParts(choice: LearnedPartsChoice, dir = baseModelsDir()): LearnedParts {
  const denoiser = path.join(dir, LEARNED_PART_FILES.denoiser);
  const refiner = path.join(dir, LEARNED_PART_FILES.refiner);
  if (choice.prior === 'learned' && !existsSync(denoiser)) {
    throw new MissingPartError(`the learned prior is not installed (${denoiser} is missing): use the hand-made prior`);
  }
  const refinerPart = choice.personal ? { refiner: choice.personal.refiner, refinerId: choice.personal.id } : choice.refine && existsSync(refiner) ? { refiner } : {};
  return {
    ...(choice.prior === 'learned' ? { denoiser } : {}),
    ...refinerPart,
  };
}

/** The selected model as the refiner to use, when it is a personal refiner (base selections use the shipped parts). */
export async function selectedPersonalRefiner(registry: ModelRegistry): Promise<{ id: string; refiner: string } | undefined> {
  const e = await registry.selected();
  return e?.refiner ? { id: e.id, refiner: e.path } : undefined;
}

/** Which learned parts the models folder holds. */
export function installedLearnedParts(dir = baseModelsDir()): { prior: boolean; refiner: boolean } {
  return { prior: existsSync(path.join(dir, LEARNED_PART_FILES.denoiser)), refiner: existsSync(path.join(dir, LEARNED_PART_FILES.refiner)) };
}

/** Which parts ran, as results and batch manifests record it ("map", "map+learned-prior+refiner", …). */
export function partsId(parts: LearnedParts): string {
  return ['map', ...(parts.denoiser ? ['learned-prior'] : []), ...(parts.refiner ? [parts.refinerId ? `refiner(${parts.refinerId})` : 'refiner'] : [])].join('+');
}
