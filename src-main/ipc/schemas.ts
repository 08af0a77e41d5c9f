/**
 * zod schemas for the arguments of every NeurmapApi call (one tuple schema per method).
 * Used by the dispatcher (handlers.ts) in both shells: Electron's main process and the local bridge.
 * Strict objects: an unknown field is an error, so a typo in the renderer surfaces at once.
 */
import path from 'node:path';
import { z } from 'zod';
import type { InvokeMethod } from './channels.ts';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Opaque ids handed out by the engine (images, results, models) or made by the renderer (job ids). */
export const idSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'is too long (256 characters at most)')
  .refine((s) => !CONTROL.test(s), 'must not contain control characters');

/** An absolute file-system path; whether it was granted is checked separately (grants.ts). */
export const pathSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(4096, 'is too long')
  .refine((s) => !s.includes('\0'), 'must not contain NUL characters')
  .refine((s) => path.isAbsolute(s), 'must be an absolute path');

export const outputFormatSchema = z.enum(['jpeg', 'png', 'tiff', 'webp']);
export const providerSchema = z.enum(['auto', 'cuda', 'dml', 'coreml', 'cpu']);
export const folderPurposeSchema = z.enum(['open', 'batch-input', 'batch-output', 'adapt-blurry', 'adapt-sharp']);

const strength = z.number().finite().min(0, 'must be at least 0').max(2, 'must be at most 2 (200%)');
const quality = z.number().int('must be a whole number').min(1).max(100);

/** A file name without any directory part (the save dialog's suggestion). */
const fileName = z
  .string()
  .min(1)
  .max(255)
  .refine((s) => !/[\\/]/.test(s) && !CONTROL.test(s) && s !== '.' && s !== '..', 'must be a plain file name');

export const settingsPatchSchema = z.strictObject({
  executionProvider: providerSchema.optional(),
  threads: z.number().int().min(0).max(256).optional(),
  tileSize: z.number().int().min(128).max(2048).optional(),
});

export const exportRequestSchema = z.strictObject({
  resultId: idSchema,
  strength,
  protectSharp: z.boolean(),
  format: outputFormatSchema,
  quality,
  bitDepth: z.union([z.literal(8), z.literal(16)]),
  path: pathSchema,
  overwrite: z.boolean(),
});

export const batchRequestSchema = z.strictObject({
  inputDir: pathSchema,
  outputDir: pathSchema,
  recursive: z.boolean(),
  format: outputFormatSchema,
  quality,
  suffix: z
    .string()
    .max(64)
    .refine((s) => !/[\\/]/.test(s) && !CONTROL.test(s), 'must not contain path separators or control characters'),
  skipExisting: z.boolean(),
  strength,
  protectSharp: z.boolean(),
});

export const adaptRequestSchema = z.strictObject({
  blurryDir: pathSchema,
  sharpDir: pathSchema.optional(),
  name: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(64, 'is too long (64 characters at most)')
    .regex(/^[\p{L}\p{N} _.()-]+$/u, 'may use letters, digits, spaces and _ . ( ) - only'),
  minutes: z.number().finite().positive().max(24 * 60).optional(),
  iterations: z.number().int().min(1).max(1_000_000).optional(),
  baseModelId: idSchema.optional(),
});

/** Argument tuples, one per method. */
export const argSchemas = {
  systemInfo: z.tuple([]),
  updateSettings: z.tuple([settingsPatchSchema]),
  showOpenDialog: z.tuple([]),
  showFolderDialog: z.tuple([folderPurposeSchema]),
  showSaveDialog: z.tuple([fileName, outputFormatSchema]),
  recentFiles: z.tuple([]),
  openImage: z.tuple([pathSchema]),
  listFolder: z.tuple([pathSchema]),
  closeImage: z.tuple([idSchema]),
  deblur: z.tuple([idSchema, idSchema]),
  estimateMotion: z.tuple([idSchema, idSchema]),
  exportImage: z.tuple([exportRequestSchema]),
  startBatch: z.tuple([batchRequestSchema]),
  startAdapt: z.tuple([adaptRequestSchema]),
  finishAdapt: z.tuple([idSchema, z.boolean()]),
  cancelJob: z.tuple([idSchema]),
  listModels: z.tuple([]),
  selectModel: z.tuple([idSchema]),
  deleteModel: z.tuple([idSchema]),
} satisfies Record<InvokeMethod, z.ZodType>;

/** Names of each method's parameters, for readable error messages. */
export const argNames: Record<InvokeMethod, string[]> = {
  systemInfo: [],
  updateSettings: ['settings'],
  showOpenDialog: [],
  showFolderDialog: ['purpose'],
  showSaveDialog: ['suggestedName', 'format'],
  recentFiles: [],
  openImage: ['path'],
  listFolder: ['dir'],
  closeImage: ['id'],
  deblur: ['id', 'jobId'],
  estimateMotion: ['id', 'jobId'],
  exportImage: ['request'],
  startBatch: ['request'],
  startAdapt: ['request'],
  finishAdapt: ['jobId', 'keep'],
  cancelJob: ['jobId'],
  listModels: [],
  selectModel: ['id'],
  deleteModel: ['id'],
};

export type ArgsOf<M extends InvokeMethod> = z.output<(typeof argSchemas)[M]>;

/** Turns zod issues into one readable sentence per issue: "openImage: path: expected string, received number". */
export function describeIssues(method: InvokeMethod, error: z.ZodError): string {
  const names = argNames[method];
  const parts = error.issues.map((issue) => {
    const [first, ...rest] = issue.path;
    let where: string;
    if (first === undefined) where = 'arguments';
    else if (typeof first === 'number') where = [names[first] ?? `argument ${first + 1}`, ...rest.map(String)].join('.');
    else where = [String(first), ...rest.map(String)].join('.');
    let message = issue.message;
    if (issue.code === 'too_big' && issue.origin === 'array' && first === undefined) {
      message = `expected ${names.length} argument${names.length === 1 ? '' : 's'}, got more`;
    }
    if (issue.code === 'too_small' && issue.origin === 'array' && first === undefined) {
      message = `expected ${names.length} argument${names.length === 1 ? '' : 's'}, got fewer`;
    }
    if (issue.code === 'unrecognized_keys') message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    return `${where}: ${message}`;
  });
  return `${method}: invalid argument — ${parts.join('; ')}`;
}
