/**
 * Preload (sandboxed, context-isolated; bundled to dist/main/preload.cjs): exposes the typed API as
 * window.neurmap and nothing else. Page scripts never see ipcRenderer.
 *
 * Drag and drop: the preload itself listens for drop events (capture phase). Only a trusted event (one
 * the browser made for a real drop: `isTrusted`, which page scripts cannot forge) sends the dropped files'
 * paths (webUtils.getPathForFile) to the main process, which grants them (DROP_GRANT_CHANNEL; main checks
 * that the sender is its window's main frame and that each path exists). The page then asks
 * window.neurmap.pathsForDroppedFiles(files) for the paths, which resolves once the grant is in place.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { DROP_GRANT_CHANNEL, JOB_EVENT_CHANNEL, channelOf } from './ipc/channels.ts';
import { INVOKE_METHODS } from '../src-shared/contract/methods.ts';
import type { CallOutcome, ErrorEnvelope, JobEvent, NeurmapApi } from '../src-shared/contract/types.ts';
import { CallError } from '../src-shared/contract/errors.ts';

function unwrap(o: CallOutcome): unknown {
  if (o && o.ok) return o.value;
  const err = (o as { error?: ErrorEnvelope })?.error ?? { code: 'ipc', message: 'no answer from the app' };
  // Errors cross the context bridge as plain Errors: the message is the user's line, the code a property.
  throw CallError.fromEnvelope(err);
}

const api: Record<string, unknown> = {};
for (const method of INVOKE_METHODS) {
  api[method] = async (...args: unknown[]) => unwrap((await ipcRenderer.invoke(channelOf(method), ...args)) as CallOutcome);
}
api.onJobEvent = (cb: (e: JobEvent) => void) => {
  const listener = (_e: unknown, ev: JobEvent) => cb(ev);
  ipcRenderer.on(JOB_EVENT_CHANNEL, listener);
  return () => {
    ipcRenderer.removeListener(JOB_EVENT_CHANNEL, listener);
  };
};

// ---- drag and drop -------------------------------------------------------------------------------------
interface DropLike {
  isTrusted: boolean;
  dataTransfer: { files: ArrayLike<File> } | null;
}
let lastDrop: Promise<string[]> = Promise.resolve([]);
const win = globalThis as unknown as { addEventListener(type: string, fn: (e: DropLike) => void, capture: boolean): void };
win.addEventListener(
  'drop',
  (e) => {
    if (!e.isTrusted || !e.dataTransfer) return;
    const paths = Array.from(e.dataTransfer.files)
      .map((f) => webUtils.getPathForFile(f))
      .filter((p) => typeof p === 'string' && p.length > 0);
    lastDrop = paths.length ? (ipcRenderer.invoke(DROP_GRANT_CHANNEL, paths) as Promise<string[]>) : Promise.resolve([]);
  },
  true,
);

api.pathsForDroppedFiles = async (files: File[]) => {
  const granted = new Set(await lastDrop);
  return Array.from(files ?? [])
    .map((f) => {
      try {
        return webUtils.getPathForFile(f);
      } catch {
        return '';
      }
    })
    .filter((p) => p && granted.has(p));
};
api.shell = 'electron';

contextBridge.exposeInMainWorld('neurmap', api as unknown as NeurmapApi);
