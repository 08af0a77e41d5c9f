import { CannotRunError, UsageError } from './exit-codes.ts';
import { chooseModels, NoModelError, type ModelChoice } from '../engine/jobs/model-choice.ts';
import type { DeblurPipeline } from '../engine/jobs/deblur-photo.ts';
import { learnedParts, MissingPartError, partsId, selectedPersonalRefiner } from '../engine/jobs/learned-parts.ts';
import { createModelRegistry } from '../engine/studio/locations.ts';
import { isExportFormat, EXPORT_FORMATS } from '../engine/jobs/output-format.ts';
import type { ExportFormat } from '../engine/image/index.ts';

export function numberOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}, got '${raw}'`);
  return v;
}

export function formatOption(raw: string | undefined): ExportFormat | undefined {
  if (raw === undefined) return undefined;
  const f = raw.toLowerCase() === 'jpg' ? 'jpeg' : raw.toLowerCase() === 'tif' ? 'tiff' : raw.toLowerCase();
  if (!isExportFormat(f)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got '${raw}'`);
  return f;
}

export function bitDepthOption(raw: string | undefined): 8 | 16 | undefined {
  if (raw === undefined) return undefined;
  if (raw !== '8' && raw !== '16') throw new UsageError(`--bit-depth must be 8 or 16, got '${raw}'`);
  return raw === '8' ? 8 : 16;
}

export { errorLine, failureLine } from '../engine/jobs/failure-line.ts';

/** The networks a command runs (see chooseModels); none installed means the command cannot run (exit 3). */
export function modelsForCommand(requested?: string): Promise<ModelChoice> {
  return chooseModels(createModelRegistry(), requested).catch((err) => {
    throw err instanceof NoModelError ? new CannotRunError(err.message) : err;
  });
}

/** The options that choose the pipeline, shared by deblur and batch. */
export const PIPELINE_OPTIONS = {
  model: { type: 'string' },
  prior: { type: 'string' },
  refiner: { type: 'boolean', default: false },
} as const;

export const PIPELINE_USAGE = '[--model ID|FILE.onnx | --prior hand-made|learned --refiner]';

/**
 * The MAP core with its learned parts (`--prior` chooses the prior, `--refiner` adds the shipped refiner; the selected
 * personal model, or the one `--model personal:…` names, refines instead), unless a base network is asked for by
 * name (`--model fast|fine|FILE.onnx`).
 */
export async function pipelineForCommand(values: { model?: string; prior?: string; refiner?: boolean }): Promise<DeblurPipeline> {
  const models = values.model ? await modelsForCommand(values.model) : null;
  if (models && !models.refiner) {
    if (values.prior !== undefined || values.refiner) throw new UsageError('--model runs a network instead of the MAP core: it takes no --prior or --refiner');
    return { kind: 'network', models };
  }
  if (models && values.refiner) throw new UsageError(`--model ${values.model} is a refiner of the MAP core: it takes no --refiner`);
  const prior = values.prior ?? 'hand-made';
  if (prior !== 'hand-made' && prior !== 'learned') throw new UsageError(`--prior must be hand-made or learned, got '${prior}'`);
  const personal = models ? { id: models.deblurId, refiner: models.deblur } : await selectedPersonalRefiner(createModelRegistry());
  try {
    return { kind: 'map', parts: learnedParts({ prior, refine: values.refiner === true, personal }) };
  } catch (err) {
    throw err instanceof MissingPartError ? new CannotRunError(err.message) : err;
  }
}

/** What a batch manifest records about the pipeline, so a resume with another one starts over. */
export function pipelineId(p: DeblurPipeline): string {
  return p.kind === 'map' ? partsId(p.parts) : p.models.deblurId;
}
