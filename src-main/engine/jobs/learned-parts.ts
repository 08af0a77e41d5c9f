/**
 * Which of the MAP core's learned parts a deblur uses: those the user's choice asks for, among those shipped in the
 * models folder. A part ships only when `npm run eval` shows it helping (models/MODEL_CARD.md), so a missing
 * refiner is simply not used; a learned prior asked for by name but not installed is an error.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { baseModelsDir } from '../paths.ts';
import type { LearnedParts } from './map-pipeline.ts';

export type PriorChoice = 'hand-made' | 'learned';

export interface LearnedPartsChoice {
  prior: PriorChoice;
  refine: boolean;
}

export const LEARNED_PART_FILES = { denoiser: 'denoiser.onnx', refiner: 'refiner.onnx' } as const;

export class MissingPartError extends Error {}

export function learnedParts(choice: LearnedPartsChoice, dir = baseModelsDir()): LearnedParts {
  const denoiser = path.join(dir, LEARNED_PART_FILES.denoiser);
  const refiner = path.join(dir, LEARNED_PART_FILES.refiner);
  if (choice.prior === 'learned' && !existsSync(denoiser)) {
    throw new MissingPartError(`the learned prior is not installed (${denoiser} is missing): use the hand-made prior`);
  }
  return {
    ...(choice.prior === 'learned' ? { denoiser } : {}),
    ...(choice.refine && existsSync(refiner) ? { refiner } : {}),
  };
}

/** Which learned parts the models folder holds. */
export function installedLearnedParts(dir = baseModelsDir()): { prior: boolean; refiner: boolean } {
  return { prior: existsSync(path.join(dir, LEARNED_PART_FILES.denoiser)), refiner: existsSync(path.join(dir, LEARNED_PART_FILES.refiner)) };
}

/** Which parts ran, as results and batch manifests record it ("map", "map+learned-prior+refiner", …). */
export function partsId(parts: LearnedParts): string {
  return ['map', ...(parts.denoiser ? ['learned-prior'] : []), ...(parts.refiner ? ['refiner'] : [])].join('+');
}
