/**
 * One argument-tuple schema per API method. Every transport (Electron IPC, the local bridge) checks a call against
 * these before it reaches the engine (src-main/ipc/handlers.ts).
 */
import { z } from 'zod';
import {
  adaptRequestSchema,
  batchRequestSchema,
  exportRequestSchema,
  fileNameSchema,
  folderPurposeSchema,
  idSchema,
  outputFormatSchema,
  pathSchema,
  settingsPatchSchema,
} from './schemas.ts';
import type { InvokeMethod } from './methods.ts';
import type { NeurmapApi } from './types.ts';

/** Argument tuples, one per method. */
export const argSchemas = {
  systemInfo: z.tuple([]),
  updateSettings: z.tuple([settingsPatchSchema]),
  showOpenDialog: z.tuple([]),
  showFolderDialog: z.tuple([folderPurposeSchema]),
  showSaveDialog: z.tuple([fileNameSchema, outputFormatSchema]),
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

// Compile-time check that each schema's tuple is what the method takes.
type SchemaArgs = { [M in InvokeMethod]: z.output<(typeof argSchemas)[M]> };
type MethodArgs = { [M in InvokeMethod]: Parameters<NeurmapApi[M]> };
const _argsMatch: [SchemaArgs extends MethodArgs ? true : false, MethodArgs extends SchemaArgs ? true : false] = [true, true];
void _argsMatch;

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

/** The same for a body that is not a method's arguments (the bridge's own routes): "dir: must be an absolute path". */
export function describeBodyIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.map(String).join('.');
      const message = issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : issue.message;
      return where ? `${where}: ${message}` : message;
    })
    .join('; ');
}
