import { CannotRunError, UsageError } from './exit-codes.ts';
import { chooseModels, NoModelError, type ModelChoice } from '../engine/jobs/model-choice.ts';
import type { DeblurPipeline } from '../engine/jobs/deblur-photo.ts';
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

/** The MAP core unless a network is asked for by name (`--model`). */
export async function pipelineForCommand(requested?: string): Promise<DeblurPipeline> {
  return requested ? { kind: 'network', models: await modelsForCommand(requested) } : { kind: 'map' };
}

/** What a batch manifest records about the pipeline, so a resume with another one starts over. */
export function pipelineId(p: DeblurPipeline): string {
  return p.kind === 'map' ? 'map' : p.models.deblurId;
}
