/**
 * The Electron shell's security settings as plain data and plain functions, so unit tests can check them
 * without Electron (tests/app/security.test.ts). main.ts applies them; nothing here imports electron.
 *
 * Trust model (see also preload.ts and ipc/handlers.ts):
 *  - The renderer is untrusted page code: it runs sandboxed, with context isolation and no Node, and may
 *    only call the typed API exposed by the preload. Every call is validated again in the main process.
 *  - It is loaded from the app's own scheme (neurmap-app://app/), never from the network, under a strict CSP.
 *  - Images come from neurmap-asset://studio/<path>, which serves only paths the Studio handed out.
 *  - File paths reach the engine only after the user chose them (native dialogs, or files dropped on the
 *    window, which the preload reports from a trusted drop event).
 */
import path from 'node:path';
import { assetUrlOf, type AssetUrlForm } from './ipc/asset-url.ts';

export const APP_SCHEME = 'neurmap-app';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;
export const ASSET_SCHEME = 'neurmap-asset';
export const ASSET_HOST = 'studio';

/** The webPreferences every window gets; preload is filled in by main.ts. */
export const secureWebPreferences = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  navigateOnDragDrop: false,
  safeDialogs: true,
  spellcheck: false,
  devTools: true,
} as const;

export function windowOptions(preload: string, iconPath?: string) {
  return {
    width: 1440,
    height: 920,
    minWidth: 960,
    minHeight: 600,
    show: false,
    backgroundColor: '#16171a',
    title: 'NeurMAP Studio',
    autoHideMenuBar: true,
    ...(iconPath ? { icon: iconPath } : {}),
    webPreferences: { ...secureWebPreferences, preload },
  };
}

/** will-navigate: only the app's own entry page (a reload); everything else is blocked. */
export function isAllowedNavigation(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && (u.pathname === '/' || u.pathname === '/index.html');
  } catch {
    return false;
  }
}

/** setWindowOpenHandler: no new windows, ever. */
export function windowOpenHandler(_details: { url: string }): { action: 'deny' } {
  return { action: 'deny' };
}

/** setPermissionRequestHandler / CheckHandler: the editor needs no browser permissions. */
export function allowPermission(_permission: string): boolean {
  return false;
}

/** will-attach-webview: never. */
export function allowWebview(): boolean {
  return false;
}

/**
 * Maps a neurmap-app:// request to a file inside the built renderer folder, or null (other host,
 * traversal, or anything that resolves outside the folder).
 */
export function appRequestFile(url: string, rendererDir: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (rel.includes('\0')) return null;
  if (rel === '/' || rel === '') rel = '/index.html';
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, '.' + rel);
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  return file;
}

/** The Studio asset path of a neurmap-asset:// URL ("preview/abc"), or null when it is not one. */
export function assetRequestPath(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${ASSET_SCHEME}:` || u.host !== ASSET_HOST) return null;
  let p: string;
  try {
    p = decodeURIComponent(u.pathname).replace(/^\/+/, '');
  } catch {
    return null;
  }
  if (!p || p.includes('\0') || p.split('/').some((s) => s === '..' || s === '.')) return null;
  return p;
}

/** The URL the Electron shell gives the Studio for an asset path. */
export const ELECTRON_ASSET_URL: AssetUrlForm = { prefix: `${ASSET_SCHEME}://${ASSET_HOST}/`, suffix: '' };

export function electronAssetUrl(assetPath: string): string {
  return assetUrlOf(ELECTRON_ASSET_URL, assetPath);
}

/**
 * The drop grant: the main process accepts paths only from its own window's main frame at the app's
 * origin, at most `max` of them, each an existing file or folder (checked by the caller's stat).
 */
export function acceptDropGrant(
  senderUrl: string,
  isMainFrame: boolean,
  paths: unknown,
  max = 2000,
): string[] | null {
  if (!isMainFrame) return null;
  if (typeof senderUrl !== 'string' || !senderUrl.startsWith(APP_ORIGIN + '/')) return null;
  if (!Array.isArray(paths) || paths.length === 0 || paths.length > max) return null;
  const out: string[] = [];
  for (const p of paths) {
    if (typeof p !== 'string' || !p || p.length > 4096 || p.includes('\0') || !path.isAbsolute(p)) return null;
    out.push(p);
  }
  return out;
}

/** Privileges of the two custom schemes (protocol.registerSchemesAsPrivileged). */
export const schemePrivileges = [
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: false, stream: false } },
  { scheme: ASSET_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, stream: false } },
] as const;
