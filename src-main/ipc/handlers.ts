/**
 * The transport-independent dispatcher behind both shells (Electron IPC in main.ts, HTTP in bridge/).
 * For every call: the method must exist, its arguments must pass their zod schema (the contract's
 * args.ts), and every path argument must have been granted in this run (grants.ts). Only then does the
 * call reach the Studio. Dialog methods go to the shell's own dialog provider, and the paths the user picks
 * there become granted. A refused call throws the contract's CallError; transports send its envelope.
 */
import type { CallOutcome, FolderPurpose, JobEvent, OutputFormat, StudioApi } from '../../src-shared/contract/types.ts';
import { isDialogMethod, isInvokeMethod, type InvokeMethod, type StudioMethod } from '../../src-shared/contract/methods.ts';
import { argSchemas, describeIssues, type ArgsOf } from '../../src-shared/contract/args.ts';
import { folderPurposeSchema, pathSchema } from '../../src-shared/contract/schemas.ts';
import { CallError, toErrorEnvelope } from '../../src-shared/contract/errors.ts';
import { PathGrants, type GrantMode } from './grants.ts';

/** The shell's dialogs. They return what the user chose (or nothing); the dispatcher grants it. */
export interface DialogProvider {
  showOpenDialog(): Promise<string[]>;
  showFolderDialog(purpose: FolderPurpose): Promise<string | null>;
  showSaveDialog(suggestedName: string, format: OutputFormat): Promise<string | null>;
}

export interface ApiDispatcher {
  /** Validates, checks grants and forwards; throws CallError (or the engine's own error). */
  invoke(method: string, args: unknown): Promise<unknown>;
  /** Same as invoke, but never throws: the envelope every transport sends. */
  handle(method: string, args: unknown): Promise<CallOutcome>;
  /** Job events of the Studio (progress of deblur, motion, batch and adapt jobs). */
  onJobEvent(cb: (e: JobEvent) => void): () => void;
  /** Grants what the user picked in a shell-owned chooser (the browser's picker modal, a drop). */
  grantChosen(choice: ChosenPaths): void;
  readonly grants: PathGrants;
}

export type ChosenPaths =
  | { kind: 'open'; paths: string[] }
  | { kind: 'folder'; purpose: FolderPurpose; path: string }
  | { kind: 'save'; path: string }
  | { kind: 'drop'; paths: string[]; dirs?: string[] };

/** Folders picked for these purposes may be written to; the others are read-only. */
export function folderGrantMode(purpose: FolderPurpose): GrantMode {
  return purpose === 'batch-output' ? 'write' : 'read';
}

type PathUse = [path: string, mode: GrantMode, what: string];

/** The path arguments of each Studio method and how they are used. */
const PATH_ARGS: { [M in StudioMethod]?: (args: ArgsOf<M>) => PathUse[] } = {
  openImage: ([p]) => [[p, 'read', 'path']],
  listFolder: ([dir]) => [[dir, 'read', 'dir']],
  exportImage: ([req]) => [[req.path, 'write', 'request.path']],
  startBatch: ([req]) => [
    [req.inputDir, 'read', 'request.inputDir'],
    [req.outputDir, 'write', 'request.outputDir'],
  ],
  startAdapt: ([req]) => [
    [req.blurryDir, 'read', 'request.blurryDir'],
    ...(req.sharpDir !== undefined ? ([[req.sharpDir, 'read', 'request.sharpDir']] as PathUse[]) : []),
  ],
};

export function createApiDispatcher(
  studio: StudioApi,
  grants: PathGrants = new PathGrants(),
  options: { dialogs?: DialogProvider } = {},
): ApiDispatcher {
  function validate<M extends InvokeMethod>(method: M, args: unknown): ArgsOf<M> {
    const parsed = argSchemas[method].safeParse(args);
    if (!parsed.success) throw new CallError('invalid-argument', describeIssues(method, parsed.error));
    return parsed.data as ArgsOf<M>;
  }

  function checkGrants(method: StudioMethod, args: unknown): void {
    const uses = (PATH_ARGS[method] as ((a: unknown) => PathUse[]) | undefined)?.(args) ?? [];
    for (const [p, mode, what] of uses) {
      if (!grants.allows(p, mode)) {
        throw new CallError(
          'not-granted',
          mode === 'write'
            ? `${method}: ${what} "${p}" was not chosen for writing in this session; pick it with the save or folder dialog first`
            : `${method}: ${what} "${p}" was not chosen in this session; open it with the dialog or drop it on the window first`,
        );
      }
    }
  }

  async function dialog(method: 'showOpenDialog' | 'showFolderDialog' | 'showSaveDialog', args: unknown): Promise<unknown> {
    const dialogs = options.dialogs;
    if (!dialogs) throw new CallError('unavailable', `${method}: this shell has no native dialogs (the browser uses its own picker)`);
    if (method === 'showOpenDialog') {
      validate(method, args);
      const paths = (await dialogs.showOpenDialog()).filter((p) => pathSchema.safeParse(p).success);
      grantChosen({ kind: 'open', paths });
      return paths;
    }
    if (method === 'showFolderDialog') {
      const [purpose] = validate(method, args);
      const dir = await dialogs.showFolderDialog(purpose);
      if (dir === null || !pathSchema.safeParse(dir).success) return null;
      grantChosen({ kind: 'folder', purpose, path: dir });
      return dir;
    }
    const [name, format] = validate(method, args);
    const file = await dialogs.showSaveDialog(name, format);
    if (file === null || !pathSchema.safeParse(file).success) return null;
    grantChosen({ kind: 'save', path: file });
    return file;
  }

  function grantChosen(choice: ChosenPaths): void {
    const check = (p: string) => {
      const r = pathSchema.safeParse(p);
      if (!r.success) throw new CallError('invalid-argument', `chosen path "${String(p).slice(0, 200)}": ${r.error.issues[0]?.message}`);
    };
    switch (choice.kind) {
      case 'open':
        choice.paths.forEach(check);
        for (const p of choice.paths) grants.grantFile(p, 'read');
        break;
      case 'folder':
        check(choice.path);
        folderPurposeSchema.parse(choice.purpose);
        grants.grantDir(choice.path, folderGrantMode(choice.purpose));
        break;
      case 'save':
        check(choice.path);
        grants.grantFile(choice.path, 'write');
        break;
      case 'drop':
        choice.paths.forEach(check);
        (choice.dirs ?? []).forEach(check);
        for (const p of choice.paths) grants.grantFile(p, 'read');
        for (const d of choice.dirs ?? []) grants.grantDir(d, 'read');
        break;
    }
  }

  async function invoke(method: string, args: unknown): Promise<unknown> {
    if (typeof method !== 'string' || !isInvokeMethod(method)) {
      throw new CallError('unknown-method', `unknown method "${String(method).slice(0, 64)}"`);
    }
    if (isDialogMethod(method)) return dialog(method, args);
    const valid = validate(method, args);
    checkGrants(method, valid);
    const fn = studio[method] as (...a: unknown[]) => Promise<unknown>;
    if (typeof fn !== 'function') throw new CallError('unavailable', `${method}: not available in this version of the engine`);
    const value = await fn.apply(studio, valid as unknown[]);
    if (method === 'recentFiles' && Array.isArray(value)) {
      // The engine keeps the files the user opened in earlier runs; listing them is the user's earlier choice.
      for (const p of value) if (typeof p === 'string' && pathSchema.safeParse(p).success) grants.grantFile(p, 'read');
    }
    return value;
  }

  return {
    grants,
    invoke,
    grantChosen,
    async handle(method, args) {
      try {
        return { ok: true, value: await invoke(method, args) };
      } catch (err) {
        return { ok: false, error: toErrorEnvelope(err) };
      }
    },
    onJobEvent(cb) {
      return studio.onJobEvent(cb);
    },
  };
}
