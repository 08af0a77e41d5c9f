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
import type { z } from 'zod';
import { createApiDispatcher, type ApiDispatcher } from '../ipc/handlers.ts';
import { PathGrants } from '../ipc/grants.ts';
import type { Asset, CallOutcome, FolderEntry, FolderListing, FsPickReply, StudioApi, UploadReply } from '../../src-shared/contract/types.ts';
import { fsListRequestSchema, fsPickRequestSchema, uploadQuerySchema } from '../../src-shared/contract/schemas.ts';
import { describeBodyIssues } from '../../src-shared/contract/args.ts';
import { CallError } from '../../src-shared/contract/errors.ts';
import { hasPhotoExtension } from '../../src-shared/photo-files.ts';
import { assetUrlOf, type AssetUrlForm } from '../ipc/asset-url.ts';
import { checkRequest, newToken } from './auth.ts';
import { BASE_HEADERS, mimeOf, securityHeaders } from '../served-files.ts';

/**
 * The form of this bridge's asset URLs (they carry its token). Which assets exist is the Studio's to say: it reads
 * back only what it handed out, so the bridge keeps no list of its own.
 */
export class AssetUrls {
  readonly form: AssetUrlForm;
  constructor(token: string) {
    this.form = { prefix: '/asset/', suffix: `?token=${encodeURIComponent(token)}` };
  }
  url = (assetPath: string): string => assetUrlOf(this.form, assetPath);
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

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new CallError('payload-too-large', `the request is larger than ${Math.round(limit / 1e6)} MB`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readJson(req: http.IncomingMessage, limit = 1 << 20): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) throw new CallError('unsupported-media-type', 'expected a JSON body (Content-Type: application/json)');
  const body = await readBody(req, limit);
  try {
    return JSON.parse(body.toString('utf8') || 'null');
  } catch {
    throw new CallError('bad-request', 'the body is not valid JSON');
  }
}

/** A JSON body checked against its contract schema (no body counts as an empty object). */
async function readBodyAs<T extends z.ZodType>(req: http.IncomingMessage, schema: T): Promise<z.output<T>> {
  const parsed = schema.safeParse((await readJson(req)) ?? {});
  if (!parsed.success) throw new CallError('invalid-argument', describeBodyIssues(parsed.error));
  return parsed.data;
}

function send(res: http.ServerResponse, status: number, body: string | Uint8Array, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...BASE_HEADERS, ...extra });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');
}

/** The HTTP status of an error envelope's code. */
const STATUS_OF: Record<string, number> = {
  'invalid-argument': 400,
  'bad-request': 400,
  'not-granted': 403,
  'unknown-method': 404,
  'method-not-allowed': 405,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
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

export async function listForPicker(dir: string | undefined, showHidden = false): Promise<FolderListing> {
  const home = os.homedir();
  const target = dir ? path.resolve(dir) : home;
  const list = await fs.readdir(target, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT'
      ? new CallError('not-found', `cannot open folder ${target}: it does not exist`)
      : new CallError('permission', `cannot open folder ${target}: permission denied`);
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
    else if (isFile && hasPhotoExtension(d.name)) {
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

/** What every route works with: one bridge's dispatcher, assets, uploads and open event streams. */
interface BridgeState {
  token: string;
  studio: BridgeOptions['studio'];
  dispatcher: ApiDispatcher;
  assets: AssetUrls;
  uploadDir: string;
  maxUpload: number;
  rendererDir: string | null;
  eventStreams: Set<http.ServerResponse>;
}

interface RouteRequest {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  method: string;
}

interface Route {
  /** The HTTP method it answers; '*' answers every method (and refuses the wrong ones itself). */
  method: 'GET' | 'POST' | '*';
  /** An exact path, or a prefix when it ends in '/'. */
  path: string;
  handle(r: RouteRequest, s: BridgeState): Promise<void>;
}

/** POST /api/<method>: the NeurmapApi call, through the same dispatcher as Electron's IPC. */
async function callApi({ req, res, url, method }: RouteRequest, s: BridgeState): Promise<void> {
  if (method !== 'POST') throw new CallError('method-not-allowed', 'use POST');
  const body = (await readJson(req)) as { args?: unknown } | null;
  const args = body && typeof body === 'object' && 'args' in body ? body.args : [];
  const outcome = await s.dispatcher.handle(url.pathname.slice('/api/'.length), args);
  sendJson(res, outcomeStatus(outcome), outcome);
}

/** GET /events: Server-Sent Events, one JobEvent per message. */
async function streamEvents({ req, res }: RouteRequest, s: BridgeState): Promise<void> {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Content-Type-Options': 'nosniff',
  });
  res.write(': connected\n\n');
  s.eventStreams.add(res);
  const ping = setInterval(() => res.write(': ping\n\n'), 15000);
  req.on('close', () => {
    clearInterval(ping);
    s.eventStreams.delete(res);
  });
}

/** GET /asset/<path>: an image the Studio handed out in this run, and nothing else. */
async function serveAsset({ res, url }: RouteRequest, s: BridgeState): Promise<void> {
  let assetPath: string;
  try {
    assetPath = decodeURIComponent(url.pathname.slice('/asset/'.length));
  } catch {
    throw new CallError('not-found', 'not found');
  }
  if (!s.studio.readAsset) throw new CallError('not-found', 'not found');
  const asset = await s.studio.readAsset(assetPath);
  if (!asset) throw new CallError('not-found', 'not found');
  send(res, 200, asset.bytes, asset.mime, { 'Cache-Control': 'private, max-age=3600' });
}

/** POST /fs/list: the picker modal's folder browser (folders and photos). */
async function listFolder({ req, res }: RouteRequest): Promise<void> {
  const { dir, showHidden } = await readBodyAs(req, fsListRequestSchema);
  sendJson(res, 200, await listForPicker(dir ?? undefined, showHidden === true));
}

/** POST /fs/pick: the picker modal's answer. Like a native dialog, it grants what the user picked (once it exists). */
async function pickPaths({ req, res }: RouteRequest, s: BridgeState): Promise<void> {
  const pick = await readBodyAs(req, fsPickRequestSchema);
  const folder = async (p: string): Promise<string> => {
    const dir = path.resolve(p);
    const st = await fs.stat(dir).catch(() => null);
    if (!st?.isDirectory()) throw new CallError('bad-request', `${dir} is not a folder`);
    return dir;
  };
  let paths: string[];
  switch (pick.kind) {
    case 'open':
      for (const p of pick.paths) {
        const st = await fs.stat(p).catch(() => null);
        if (!st?.isFile()) throw new CallError('bad-request', `${path.basename(p)} is not a file`);
      }
      s.dispatcher.grantChosen({ kind: 'open', paths: pick.paths });
      paths = pick.paths;
      break;
    case 'folder': {
      const dir = await folder(pick.path);
      s.dispatcher.grantChosen({ kind: 'folder', purpose: pick.purpose, path: dir });
      paths = [dir];
      break;
    }
    case 'save': {
      const file = path.join(await folder(pick.dir), pick.name);
      s.dispatcher.grantChosen({ kind: 'save', path: file });
      paths = [file];
      break;
    }
    case 'mkdir': {
      const created = path.join(path.resolve(pick.dir), pick.name);
      await fs.mkdir(created).catch((e: NodeJS.ErrnoException) => {
        throw new CallError('bad-request', e.code === 'EEXIST' ? `${pick.name} exists already` : `cannot create ${pick.name}: ${e.code}`);
      });
      paths = [created];
      break;
    }
  }
  sendJson(res, 200, { paths } satisfies FsPickReply);
}

/** POST /upload?name=<file>: a file dropped on the page, stored in a temp folder of its own and granted. */
async function receiveUpload({ req, res, url }: RouteRequest, s: BridgeState): Promise<void> {
  const query = uploadQuerySchema.safeParse({ name: url.searchParams.get('name') ?? undefined });
  if (!query.success) throw new CallError('invalid-argument', describeBodyIssues(query.error));
  const name = safeUploadName(query.data.name);
  const bytes = await readBody(req, s.maxUpload);
  if (bytes.length === 0) throw new CallError('bad-request', 'the dropped file is empty');
  const dir = path.join(s.uploadDir, crypto.randomBytes(6).toString('hex'));
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await fs.writeFile(file, bytes);
  s.dispatcher.grantChosen({ kind: 'drop', paths: [file] });
  sendJson(res, 200, { path: file } satisfies UploadReply);
}

/** GET anything else: the built renderer (index.html with the token, its script and style). */
async function serveStatic({ res, url }: RouteRequest, s: BridgeState): Promise<void> {
  if (!s.rendererDir) throw new CallError('not-found', 'the renderer is not built: run `npm run build:renderer`');
  const rendererDir = s.rendererDir;
  let rel = decodeURIComponent(url.pathname);
  if (rel === '/' || rel === '') rel = '/index.html';
  const file = path.resolve(rendererDir, '.' + rel);
  if (rel.includes('\0') || (file !== rendererDir && !file.startsWith(rendererDir + path.sep))) throw new CallError('not-found', 'not found');
  const body = await fs.readFile(file).catch(() => null);
  if (!body) throw new CallError('not-found', 'not found');
  if (file.endsWith('index.html')) {
    send(res, 200, rewriteIndex(body.toString('utf8'), s.token), 'text/html; charset=utf-8', securityHeaders('browser'));
    return;
  }
  send(res, 200, body, mimeOf(file), securityHeaders('browser'));
}

/** First match wins. */
const ROUTES: readonly Route[] = [
  { method: '*', path: '/api/', handle: callApi },
  { method: 'GET', path: '/events', handle: streamEvents },
  { method: 'GET', path: '/asset/', handle: serveAsset },
  { method: 'POST', path: '/fs/list', handle: listFolder },
  { method: 'POST', path: '/fs/pick', handle: pickPaths },
  { method: 'POST', path: '/upload', handle: receiveUpload },
  { method: 'GET', path: '/', handle: serveStatic },
];

function routeOf(method: string, pathname: string): Route | undefined {
  return ROUTES.find(
    (r) => (r.method === '*' || r.method === method) && (r.path.endsWith('/') ? pathname.startsWith(r.path) : pathname === r.path),
  );
}

/** Routes whose answers are JSON, failures included (the others answer a failure in plain text). */
function answersJson(url: string | undefined): boolean {
  return !!url && (url.startsWith('/api/') || url.startsWith('/fs/') || url.startsWith('/upload'));
}

export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const token = options.token ?? newToken();
  const dispatcher = createApiDispatcher(options.studio, new PathGrants());
  const state: BridgeState = {
    token,
    studio: options.studio,
    dispatcher,
    assets: options.assets ?? new AssetUrls(token),
    uploadDir: options.uploadDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'neurmap-uploads-'))),
    maxUpload: options.maxUpload ?? 400 * 1024 * 1024,
    rendererDir: options.rendererDir ? path.resolve(options.rendererDir) : null,
    eventStreams: new Set(),
  };
  const ownsUploadDir = !options.uploadDir;
  let port = 0;

  const offEvents = dispatcher.onJobEvent((e) => {
    const line = `data: ${JSON.stringify(e)}\n\n`;
    for (const res of state.eventStreams) res.write(line);
  });

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const found = url.pathname.startsWith('/api') && !url.pathname.startsWith('/api/') ? undefined : routeOf(method, url.pathname);
    if (!found) throw new CallError('not-found', 'not found');
    await found.handle({ req, res, url, method }, state);
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
      const error = err instanceof CallError ? err : new CallError('bridge-error', err instanceof Error ? err.message : String(err));
      const status = STATUS_OF[error.code] ?? 500;
      if (answersJson(req.url)) sendJson(res, status, { ok: false, error: { code: error.code, message: error.message } } satisfies CallOutcome);
      else send(res, status, error.message, 'text/plain; charset=utf-8');
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
      for (const res of state.eventStreams) res.end();
      state.eventStreams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownsUploadDir) await fs.rm(state.uploadDir, { recursive: true, force: true });
    },
  };
}
