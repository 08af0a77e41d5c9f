/**
 * The local bridge: the same NeurmapApi over HTTP on 127.0.0.1, for the renderer in a plain browser and for
 * the end-to-end tests. Auth and request checks: auth.ts. Routes (all need the token):
 *   GET  /                      the editor (index.html, with the token passed to its script and style URLs)
 *   GET  /assets/*              the built renderer's files
 *   POST /api/<method>          {"args": [...]} → {"ok": true, "value": …} | {"ok": false, "error": {code, message}}
 *   GET  /events                Server-Sent Events: one JobEvent per message
 *   GET  /asset/<path>          images the Studio handed out in this run (previews, results, heat maps)
 *   POST /fs/list               the picker modal's folder browser (the browser has no native dialogs)
 *   POST /fs/pick               what the user picked in that modal: becomes granted, like a dialog's answer
 *   POST /upload?name=<file>    a file dropped on the page: stored in a temp folder and granted
 */
import http from 'node:http';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createApiDispatcher, type ApiDispatcher, type CallOutcome } from '../ipc/handlers.ts';
import { PathGrants } from '../ipc/grants.ts';
import { folderPurposeSchema, pathSchema } from '../ipc/schemas.ts';
import type { Asset, StudioApi } from '../ipc/contract.ts';
import { assetUrlOf, type AssetUrlForm } from '../ipc/asset-url.ts';
import { checkRequest, newToken } from './auth.ts';
import { mimeOf } from './mime.ts';
import { securityHeaders } from '../window-options.ts';

export const PHOTO_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.webp', '.heic', '.heif', '.avif'];

/** Hands out and remembers asset URLs; the bridge serves only what it handed out. */
export class AssetUrls {
  private readonly paths = new Set<string>();
  readonly form: AssetUrlForm;
  constructor(token: string) {
    this.form = { prefix: '/asset/', suffix: `?token=${encodeURIComponent(token)}` };
  }
  url = (assetPath: string): string => {
    this.remember(assetPath);
    return assetUrlOf(this.form, assetPath);
  };
  /** For URLs made elsewhere with this form (by the engine host). */
  remember = (assetPath: string): void => {
    this.paths.add(assetPath);
  };
  has(assetPath: string): boolean {
    return this.paths.has(assetPath);
  }
}

export interface BridgeOptions {
  studio: StudioApi & { readAsset?(assetPath: string): Asset | null | Promise<Asset | null> };
  /** The built renderer (vite build output); when absent, only the API is served. */
  rendererDir?: string;
  port?: number;
  token?: string;
  /** Must be the one the Studio's assetUrl came from (so its URLs carry this bridge's token). */
  assets?: AssetUrls;
  uploadDir?: string;
  /** Largest upload, in bytes. */
  maxUpload?: number;
}

export interface Bridge {
  url: string;
  /** The URL to open: the editor with the token. */
  openUrl: string;
  port: number;
  token: string;
  dispatcher: ApiDispatcher;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `the request is larger than ${Math.round(limit / 1e6)} MB`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readJson(req: http.IncomingMessage, limit = 1 << 20): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) throw new HttpError(415, 'expected a JSON body (Content-Type: application/json)');
  const body = await readBody(req, limit);
  try {
    return JSON.parse(body.toString('utf8') || 'null');
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
}

function send(res: http.ServerResponse, status: number, body: string | Uint8Array, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Resource-Policy': 'same-origin',
    ...extra,
  });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');
}

const STATUS_OF: Record<string, number> = {
  'invalid-argument': 400,
  'not-granted': 403,
  'unknown-method': 404,
  unavailable: 501,
  // The engine's errors about what the user gave it (image/errors.ts, fs/folders.ts) are the request's fault, not the bridge's.
  'not-found': 404,
  permission: 403,
  'not-writable': 403,
  exists: 409,
  'same-as-source': 409,
  'not-an-image': 422,
  unsupported: 422,
  empty: 422,
  truncated: 422,
  'too-small': 422,
  'too-large': 422,
  'bad-folder': 422,
};

function outcomeStatus(o: CallOutcome): number {
  return o.ok ? 200 : (STATUS_OF[o.error.code] ?? 500);
}

/** index.html with the token added to its own script/style/icon URLs and given to the app in a meta tag. */
export function rewriteIndex(html: string, token: string): string {
  const t = encodeURIComponent(token);
  return html
    .replace(/(<(?:script|link)\b[^>]*\s(?:src|href)=")(\/[^"?#]*)(")/g, (_m, a: string, url: string, b: string) => `${a}${url}?token=${t}${b}`)
    .replace('<head>', `<head>\n    <meta name="neurmap-token" content="${t}">`);
}

export interface FolderEntry {
  name: string;
  path: string;
  kind: 'dir' | 'file';
  size?: number;
  modified?: string;
}

export async function listForPicker(dir: string | undefined, showHidden = false): Promise<{
  dir: string;
  parent: string | null;
  entries: FolderEntry[];
  roots: Array<{ name: string; path: string }>;
}> {
  const home = os.homedir();
  const target = dir ? path.resolve(dir) : home;
  const list = await fs.readdir(target, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    throw new HttpError(e.code === 'ENOENT' ? 404 : 403, `cannot open folder ${target}: ${e.code === 'ENOENT' ? 'it does not exist' : 'permission denied'}`);
  });
  const entries: FolderEntry[] = [];
  for (const d of list) {
    if (!showHidden && d.name.startsWith('.')) continue;
    const full = path.join(target, d.name);
    let isDir = d.isDirectory();
    let isFile = d.isFile();
    if (d.isSymbolicLink()) {
      const st = await fs.stat(full).catch(() => null);
      isDir = !!st?.isDirectory();
      isFile = !!st?.isFile();
    }
    if (isDir) entries.push({ name: d.name, path: full, kind: 'dir' });
    else if (isFile && PHOTO_EXTENSIONS.includes(path.extname(d.name).toLowerCase())) {
      const st = await fs.stat(full).catch(() => null);
      entries.push({ name: d.name, path: full, kind: 'file', size: st?.size, modified: st?.mtime.toISOString() });
    }
  }
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name, undefined, { numeric: true }) : a.kind === 'dir' ? -1 : 1));
  const parent = path.dirname(target) === target ? null : path.dirname(target);
  const roots = [{ name: 'Home', path: home }];
  for (const sub of ['Pictures', 'Desktop', 'Downloads']) {
    const p = path.join(home, sub);
    if (await fs.stat(p).then((s) => s.isDirectory(), () => false)) roots.push({ name: sub, path: p });
  }
  roots.push({ name: process.platform === 'win32' ? path.parse(target).root : 'Computer', path: path.parse(target).root });
  return { dir: target, parent, entries, roots };
}

/** Strips a dropped file's name down to something safe to create in the upload folder. */
export function safeUploadName(name: string): string {
  const base = name.replace(/^.*[\\/]/, '').replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_').trim();
  const clean = base.replace(/^\.+/, '').slice(-200);
  return clean || 'dropped-photo';
}

export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const token = options.token ?? newToken();
  const assets = options.assets ?? new AssetUrls(token);
  const grants = new PathGrants();
  const dispatcher = createApiDispatcher(options.studio, grants);
  const uploadDir = options.uploadDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'neurmap-uploads-')));
  const ownsUploadDir = !options.uploadDir;
  const maxUpload = options.maxUpload ?? 400 * 1024 * 1024;
  const rendererDir = options.rendererDir ? path.resolve(options.rendererDir) : null;
  const eventStreams = new Set<http.ServerResponse>();
  let port = 0;

  const offEvents = dispatcher.onJobEvent((e) => {
    const line = `data: ${JSON.stringify(e)}\n\n`;
    for (const res of eventStreams) res.write(line);
  });

  async function serveStatic(res: http.ServerResponse, pathname: string): Promise<void> {
    if (!rendererDir) throw new HttpError(404, 'the renderer is not built: run `npm run build:renderer`');
    let rel = decodeURIComponent(pathname);
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = path.resolve(rendererDir, '.' + rel);
    if (rel.includes('\0') || (file !== rendererDir && !file.startsWith(rendererDir + path.sep))) throw new HttpError(404, 'not found');
    const body = await fs.readFile(file).catch(() => null);
    if (!body) throw new HttpError(404, 'not found');
    if (file.endsWith('index.html')) {
      send(res, 200, rewriteIndex(body.toString('utf8'), token), 'text/html; charset=utf-8', securityHeaders('browser'));
      return;
    }
    send(res, 200, body, mimeOf(file), securityHeaders('browser'));
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const { pathname } = url;
    const method = req.method ?? 'GET';

    if (pathname.startsWith('/api/')) {
      if (method !== 'POST') throw new HttpError(405, 'use POST');
      const body = (await readJson(req)) as { args?: unknown } | null;
      const args = body && typeof body === 'object' && 'args' in body ? body.args : [];
      const outcome = await dispatcher.handle(pathname.slice(5), args);
      sendJson(res, outcomeStatus(outcome), outcome);
      return;
    }
    if (pathname === '/events' && method === 'GET') {
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
        'X-Content-Type-Options': 'nosniff',
      });
      res.write(': connected\n\n');
      eventStreams.add(res);
      const ping = setInterval(() => res.write(': ping\n\n'), 15000);
      req.on('close', () => {
        clearInterval(ping);
        eventStreams.delete(res);
      });
      return;
    }
    if (pathname.startsWith('/asset/') && method === 'GET') {
      let assetPath: string;
      try {
        assetPath = decodeURIComponent(pathname.slice(7));
      } catch {
        throw new HttpError(404, 'not found');
      }
      if (!assets.has(assetPath) || !options.studio.readAsset) throw new HttpError(404, 'not found');
      const asset = await options.studio.readAsset(assetPath);
      if (!asset) throw new HttpError(404, 'not found');
      send(res, 200, asset.bytes, asset.mime, { 'Cache-Control': 'private, max-age=3600' });
      return;
    }
    if (pathname === '/fs/list' && method === 'POST') {
      const body = (await readJson(req)) as { dir?: unknown; showHidden?: unknown } | null;
      const dir = body?.dir;
      if (dir !== undefined && dir !== null && !pathSchema.safeParse(dir).success) throw new HttpError(400, 'dir must be an absolute path');
      sendJson(res, 200, await listForPicker((dir as string | null) ?? undefined, body?.showHidden === true));
      return;
    }
    if (pathname === '/fs/pick' && method === 'POST') {
      const body = (await readJson(req)) as Record<string, unknown> | null;
      sendJson(res, 200, { paths: await pick(body ?? {}) });
      return;
    }
    if (pathname === '/upload' && method === 'POST') {
      const name = safeUploadName(url.searchParams.get('name') ?? '');
      const bytes = await readBody(req, maxUpload);
      if (bytes.length === 0) throw new HttpError(400, 'the dropped file is empty');
      const dir = path.join(uploadDir, crypto.randomBytes(6).toString('hex'));
      await fs.mkdir(dir, { recursive: true });
      const file = path.join(dir, name);
      await fs.writeFile(file, bytes);
      dispatcher.grantChosen({ kind: 'drop', paths: [file] });
      sendJson(res, 200, { path: file });
      return;
    }
    if (method === 'GET' && !pathname.startsWith('/api')) {
      await serveStatic(res, pathname);
      return;
    }
    throw new HttpError(404, 'not found');
  }

  /** The picker modal's answer. Like a native dialog, it grants what the user picked (after checking it exists). */
  async function pick(body: Record<string, unknown>): Promise<string[]> {
    const kind = body.kind;
    const isAbs = (p: unknown): p is string => pathSchema.safeParse(p).success;
    if (kind === 'open') {
      const paths = body.paths;
      if (!Array.isArray(paths) || paths.length === 0 || paths.length > 5000 || !paths.every(isAbs)) throw new HttpError(400, 'paths must be absolute paths');
      for (const p of paths) {
        const st = await fs.stat(p).catch(() => null);
        if (!st?.isFile()) throw new HttpError(400, `${path.basename(p)} is not a file`);
      }
      dispatcher.grantChosen({ kind: 'open', paths });
      return paths;
    }
    if (kind === 'folder') {
      const purpose = folderPurposeSchema.safeParse(body.purpose);
      if (!purpose.success) throw new HttpError(400, 'purpose is not valid');
      if (!isAbs(body.path)) throw new HttpError(400, 'path must be an absolute path');
      const dir = path.resolve(body.path);
      const st = await fs.stat(dir).catch(() => null);
      if (!st?.isDirectory()) throw new HttpError(400, `${dir} is not a folder`);
      dispatcher.grantChosen({ kind: 'folder', purpose: purpose.data, path: dir });
      return [dir];
    }
    if (kind === 'save') {
      if (!isAbs(body.dir)) throw new HttpError(400, 'dir must be an absolute path');
      const name = body.name;
      if (typeof name !== 'string' || !name || name.length > 255 || /[\\/\u0000]/.test(name) || name === '.' || name === '..') {
        throw new HttpError(400, 'name must be a plain file name');
      }
      const dir = path.resolve(body.dir);
      const st = await fs.stat(dir).catch(() => null);
      if (!st?.isDirectory()) throw new HttpError(400, `${dir} is not a folder`);
      const file = path.join(dir, name);
      dispatcher.grantChosen({ kind: 'save', path: file });
      return [file];
    }
    if (kind === 'mkdir') {
      if (!isAbs(body.dir) || typeof body.name !== 'string' || !body.name || /[\\/\u0000]/.test(body.name) || body.name.startsWith('.')) {
        throw new HttpError(400, 'a folder name is needed');
      }
      const parent = path.resolve(body.dir);
      const created = path.join(parent, body.name);
      await fs.mkdir(created).catch((e: NodeJS.ErrnoException) => {
        throw new HttpError(400, e.code === 'EEXIST' ? `${body.name} exists already` : `cannot create ${body.name}: ${e.code}`);
      });
      return [created];
    }
    throw new HttpError(400, 'kind must be open, folder, save or mkdir');
  }

  const server = http.createServer((req, res) => {
    const guard = checkRequest(req, port, token);
    if (!guard.ok) {
      req.resume();
      send(res, guard.status ?? 403, guard.reason ?? 'forbidden', 'text/plain; charset=utf-8');
      return;
    }
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (req.url?.startsWith('/api/') || req.url?.startsWith('/fs/') || req.url?.startsWith('/upload')) {
        sendJson(res, status, { ok: false, error: { code: status === 500 ? 'bridge-error' : 'bad-request', message } });
      } else send(res, status, message, 'text/plain; charset=utf-8');
    });
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // uploads of large photos and the event stream may take long

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    openUrl: `${url}/?token=${encodeURIComponent(token)}`,
    port,
    token,
    dispatcher,
    async close() {
      offEvents();
      for (const res of eventStreams) res.end();
      eventStreams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownsUploadDir) await fs.rm(uploadDir, { recursive: true, force: true });
    },
  };
}
