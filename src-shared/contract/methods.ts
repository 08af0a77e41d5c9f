/**
 * The API's methods by name, and which of them are the shell's own dialogs. Plain data (no zod at run time), so
 * the preload can bundle it; each method's argument schema is in args.ts.
 */
import type { NeurmapApi } from './types.ts';

/** Every NeurmapApi method that is a request/response call (onJobEvent is a subscription, not a call). */
export type InvokeMethod = Exclude<keyof NeurmapApi, 'onJobEvent'>;

export const INVOKE_METHODS = [
  'systemInfo',
  'updateSettings',
  'showOpenDialog',
  'showFolderDialog',
  'showSaveDialog',
  'recentFiles',
  'openImage',
  'listFolder',
  'closeImage',
  'deblur',
  'estimateMotion',
  'exportImage',
  'startBatch',
  'startAdapt',
  'finishAdapt',
  'cancelJob',
  'listModels',
  'selectModel',
  'deleteModel',
] as const satisfies readonly InvokeMethod[];

// Compile-time check that the list above names every method (a missing one makes this line fail).
type Missing = Exclude<InvokeMethod, (typeof INVOKE_METHODS)[number]>;
const _everyMethodListed: Missing extends never ? true : Missing = true;
void _everyMethodListed;

export function isInvokeMethod(name: string): name is InvokeMethod {
  return (INVOKE_METHODS as readonly string[]).includes(name);
}

/** Methods that need the shell's own UI (native dialogs in Electron, the picker modal in a browser). */
export const DIALOG_METHODS = ['showOpenDialog', 'showFolderDialog', 'showSaveDialog'] as const;
export type DialogMethod = (typeof DIALOG_METHODS)[number];
export type StudioMethod = Exclude<InvokeMethod, DialogMethod>;

export function isDialogMethod(name: string): name is DialogMethod {
  return (DIALOG_METHODS as readonly string[]).includes(name);
}

/** The methods the engine's Studio answers (every call but the dialogs). */
export const STUDIO_METHODS: readonly StudioMethod[] = INVOKE_METHODS.filter((m): m is StudioMethod => !isDialogMethod(m));

