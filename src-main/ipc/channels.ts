/**
 * IPC channel names, shared by main.ts (ipcMain.handle) and preload.ts (ipcRenderer.invoke).
 * One channel per API method (the method list is the contract's: src-shared/contract/methods.ts), plus the
 * job-event push channel and the drop-grant channel. No Electron imports: the preload bundles this file.
 */
import type { InvokeMethod } from '../../src-shared/contract/methods.ts';

export const CHANNEL_PREFIX = 'neurmap:';

/** The ipcMain/ipcRenderer channel of a method: "neurmap:openImage". */
export function channelOf(method: InvokeMethod): string {
  return CHANNEL_PREFIX + method;
}

/** Main → renderer push of JobEvent objects (webContents.send). */
export const JOB_EVENT_CHANNEL = 'neurmap:job-event';

/**
 * Renderer (preload only) → main: the paths of files the user just dropped on the window.
 * Sent by the preload's own trusted drop listener, never exposed to page scripts (see preload.ts).
 */
export const DROP_GRANT_CHANNEL = 'neurmap:grant-drop';
