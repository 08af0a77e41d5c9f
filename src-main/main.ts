/**
 * Electron main process: thin glue between the window and the engine's Studio, which runs in a utility process
 * (studio-host/), so nothing the engine does (decoding, rendering, training) can stall this thread or the window.
 * Security settings are plain data in window-options.ts (unit-tested); the trust model is described there.
 */
import { app, BrowserWindow, dialog, ipcMain, protocol, session, utilityProcess, type IpcMainInvokeEvent } from 'electron';
import fs from 'node:fs/promises';
import path from 'node:path';
import { appRoot, baseModelsDir, userDataDir } from './engine/paths.ts';
import { createApiDispatcher, type DialogProvider } from './ipc/handlers.ts';
import { PathGrants } from './ipc/grants.ts';
import { DROP_GRANT_CHANNEL, JOB_EVENT_CHANNEL, channelOf } from './ipc/channels.ts';
import { INVOKE_METHODS } from '../src-shared/contract/methods.ts';
import type { OutputFormat } from '../src-shared/contract/types.ts';
import { createHostedStudio, type HostedStudio, type HostProcess } from './studio-host/client.ts';
import type { FromHost } from './studio-host/protocol.ts';
import { hostEntry } from './studio-host/node-process.ts';
import { mimeOf, securityHeaders } from './served-files.ts';
import { PHOTO_EXTENSIONS } from '../src-shared/photo-files.ts';
import {
  APP_ENTRY, APP_ORIGIN, APP_SCHEME, ASSET_SCHEME, acceptDropGrant, allowPermission, appRequestFile, assetRequestPath,
  ELECTRON_ASSET_URL, isAllowedNavigation, schemePrivileges, windowOpenHandler, windowOptions,
} from './window-options.ts';

const FORMAT_EXTENSIONS: Record<OutputFormat, string[]> = { jpeg: ['jpg', 'jpeg'], png: ['png'], tiff: ['tif', 'tiff'], webp: ['webp'] };

// Must happen before 'ready'.
protocol.registerSchemesAsPrivileged(schemePrivileges.map((s) => ({ scheme: s.scheme, privileges: { ...s.privileges } })));
app.enableSandbox();
if (!app.requestSingleInstanceLock()) app.quit();

const rendererDir = path.join(appRoot, 'dist', 'renderer');
const preloadPath = path.join(appRoot, 'dist', 'main', 'preload.cjs');
let win: BrowserWindow | null = null;
let studio: HostedStudio | null = null;

/** Every navigation, new window and webview is refused, in every web contents. */
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (e, url) => {
    if (!isAllowedNavigation(url)) e.preventDefault();
  });
  contents.on('will-redirect', (e, url) => {
    if (!isAllowedNavigation(url)) e.preventDefault();
  });
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(windowOpenHandler);
});

app.on('second-instance', () => {
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
});

app.on('window-all-closed', () => app.quit());

app.on('will-quit', () => {
  if (studio) void studio.dispose();
});

function electronDialogs(): DialogProvider {
  const parent = () => win ?? undefined;
  return {
    async showOpenDialog() {
      const opts: Electron.OpenDialogOptions = {
        title: 'Open photos',
        properties: ['openFile', 'multiSelections'],
        filters: [{ name: 'Photos', extensions: PHOTO_EXTENSIONS.map((e) => e.slice(1)) }, { name: 'All files', extensions: ['*'] }],
      };
      const w = parent();
      const r = w ? await dialog.showOpenDialog(w, opts) : await dialog.showOpenDialog(opts);
      return r.canceled ? [] : r.filePaths;
    },
    async showFolderDialog(purpose) {
      const titles = {
        open: 'Open a folder of photos',
        'batch-input': 'Batch: folder of photos to deblur',
        'batch-output': 'Batch: folder for the results',
        'adapt-blurry': 'Adapt: folder of your blurry photos',
        'adapt-sharp': 'Adapt: folder of sharp photos (optional)',
      } as const;
      const opts: Electron.OpenDialogOptions = {
        title: titles[purpose],
        properties: purpose === 'batch-output' ? ['openDirectory', 'createDirectory'] : ['openDirectory'],
      };
      const w = parent();
      const r = w ? await dialog.showOpenDialog(w, opts) : await dialog.showOpenDialog(opts);
      return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
    },
    async showSaveDialog(suggestedName, format) {
      const opts: Electron.SaveDialogOptions = {
        title: 'Export photo',
        defaultPath: suggestedName,
        filters: [{ name: format.toUpperCase(), extensions: FORMAT_EXTENSIONS[format] }],
        properties: ['createDirectory', 'showOverwriteConfirmation'],
      };
      const w = parent();
      const r = w ? await dialog.showSaveDialog(w, opts) : await dialog.showSaveDialog(opts);
      return r.canceled || !r.filePath ? null : r.filePath;
    },
  };
}

/** The engine host as an Electron utility process: its own process, so heavy work never blocks this one. */
function forkUtilityHost(): HostProcess {
  const child = utilityProcess.fork(hostEntry(), [], { serviceName: 'NeurMAP Studio engine', stdio: 'inherit' });
  return {
    post: (m) => child.postMessage(m),
    onMessage: (cb) => child.on('message', (m: unknown) => cb(m as FromHost)),
    onExit: (cb) => child.once('exit', (code) => cb(`exit code ${code}`)),
    kill: () => void child.kill(),
  };
}

/** IPC is answered only for our own window's main frame, loaded from the app scheme. */
function trustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return !!win && event.sender === win.webContents && !!frame && frame === win.webContents.mainFrame && frame.url.startsWith(APP_ORIGIN + '/');
}

async function start(): Promise<void> {
  studio = createHostedStudio({
    spawn: forkUtilityHost,
    settings: {
      userDataDir: userDataDir(),
      modelsDir: app.isPackaged && !process.env.NEURMAP_MODELS_DIR ? path.join(process.resourcesPath, 'models') : baseModelsDir(),
      assetUrl: ELECTRON_ASSET_URL,
    },
  });
  await studio.ready();
  const theStudio = studio;
  const grants = new PathGrants();
  const dispatcher = createApiDispatcher(theStudio, grants, { dialogs: electronDialogs() });

  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, permission, callback) => callback(allowPermission(permission)));
  ses.setPermissionCheckHandler((_wc, permission) => allowPermission(permission));
  ses.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...details.responseHeaders };
    if (details.url.startsWith(APP_ORIGIN + '/')) {
      for (const [k, v] of Object.entries(securityHeaders('electron'))) headers[k] = [v];
    }
    callback({ responseHeaders: headers });
  });

  // The renderer's own files, with the security headers (CSP) on every response.
  protocol.handle(APP_SCHEME, async (request) => {
    const file = appRequestFile(request.url, rendererDir);
    if (!file) return new Response('not found', { status: 404 });
    try {
      const body = await fs.readFile(file);
      return new Response(body, { status: 200, headers: { 'Content-Type': mimeOf(file), ...securityHeaders('electron') } });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });

  // Images the Studio handed out in this run, and nothing else: the Studio reads back only its own assets.
  protocol.handle(ASSET_SCHEME, async (request) => {
    const assetPath = assetRequestPath(request.url);
    if (!assetPath || request.method !== 'GET') return new Response('not found', { status: 404 });
    const asset = await theStudio.readAsset(assetPath);
    if (!asset) return new Response('not found', { status: 404 });
    return new Response(asset.bytes as unknown as ConstructorParameters<typeof Response>[0], {
      status: 200,
      headers: {
        'Content-Type': asset.mime,
        'Access-Control-Allow-Origin': APP_ORIGIN,
        'Cache-Control': 'private, max-age=3600',
        'X-Content-Type-Options': 'nosniff',
      },
    });
  });

  for (const method of INVOKE_METHODS) {
    ipcMain.handle(channelOf(method), (event, ...args: unknown[]) => {
      if (!trustedSender(event)) return { ok: false, error: { code: 'forbidden', message: 'request from an untrusted frame' } };
      return dispatcher.handle(method, args);
    });
  }

  // Paths of files dropped on the window, reported by the preload's trusted drop listener.
  ipcMain.handle(DROP_GRANT_CHANNEL, async (event, paths: unknown) => {
    if (!trustedSender(event)) return [];
    const accepted = acceptDropGrant(event.senderFrame?.url ?? '', true, paths);
    if (!accepted) return [];
    const files: string[] = [];
    const dirs: string[] = [];
    for (const p of accepted) {
      const st = await fs.stat(p).catch(() => null);
      if (st?.isFile()) files.push(p);
      else if (st?.isDirectory()) dirs.push(p);
    }
    dispatcher.grantChosen({ kind: 'drop', paths: files, dirs });
    return [...files, ...dirs];
  });

  dispatcher.onJobEvent((e) => {
    if (win && !win.isDestroyed()) win.webContents.send(JOB_EVENT_CHANNEL, e);
  });

  const iconPath = path.join(appRoot, 'resources', 'icons', '512x512.png');
  win = new BrowserWindow(windowOptions(preloadPath, iconPath));
  win.once('ready-to-show', () => win?.show());
  win.on('closed', () => {
    win = null;
  });
  await win.loadURL(APP_ENTRY);
}

app.whenReady().then(start).catch((err: unknown) => {
  console.error(err);
  dialog.showErrorBox('NeurMAP Studio could not start', err instanceof Error ? err.message : String(err));
  app.exit(1);
});
