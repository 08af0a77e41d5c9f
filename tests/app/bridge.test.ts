/** The local bridge's transport and auth, against a recording StudioApi (the e2e suite uses the real engine). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { startBridge, AssetUrls, rewriteIndex, safeUploadName, type Bridge } from '../../src-main/bridge/server.ts';
import { checkRequest, newToken, sameToken } from '../../src-main/bridge/auth.ts';
import { fakeStudio } from './fake-studio.ts';

let bridge: Bridge;
let studio: ReturnType<typeof fakeStudio>;
let tmp: string;
let rendererDir: string;

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'neurmap-bridge-test-'));
  rendererDir = path.join(tmp, 'renderer');
  await fs.mkdir(path.join(rendererDir, 'assets'), { recursive: true });
  await fs.writeFile(
    path.join(rendererDir, 'index.html'),
    '<!doctype html><html><head><script type="module" crossorigin src="/assets/index.js"></script><link rel="stylesheet" href="/assets/style.css"></head><body></body></html>',
  );
  await fs.writeFile(path.join(rendererDir, 'assets', 'index.js'), 'console.log(1)');
  await fs.writeFile(path.join(tmp, 'secret.txt'), 'secret');
  await fs.mkdir(path.join(tmp, 'photos'));
  await fs.writeFile(path.join(tmp, 'photos', 'a.jpg'), 'x');
  studio = fakeStudio();
  const token = newToken();
  const assets = new AssetUrls(token);
  assets.url('preview/img1');
  bridge = await startBridge({ studio, rendererDir, token, assets, uploadDir: path.join(tmp, 'uploads') });
});

after(async () => {
  await bridge.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

/** Raw request, so the test controls Host and Origin headers exactly. */
function request(
  method: string,
  p: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: bridge.port, method, path: p, headers: { Host: `127.0.0.1:${bridge.port}`, ...opts.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const auth = (): Record<string, string> => ({ Authorization: `Bearer ${bridge.token}`, 'Content-Type': 'application/json' });
const api = (method: string, args: unknown[], headers = auth()) =>
  request('POST', `/api/${method}`, { headers, body: JSON.stringify({ args }) });

test('binds to 127.0.0.1 only', () => {
  assert.match(bridge.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(bridge.openUrl.includes(`token=${encodeURIComponent(bridge.token)}`));
});

test('tokens are long, random and compared exactly', () => {
  const a = newToken();
  assert.ok(a.length >= 40);
  assert.notEqual(a, newToken());
  assert.ok(sameToken(a, a));
  assert.ok(!sameToken(a.slice(0, -1) + (a.endsWith('A') ? 'B' : 'A'), a));
  assert.ok(!sameToken(undefined, a));
  assert.ok(!sameToken('', a));
});

test('an API call without the token is refused and never reaches the engine', async () => {
  const before = studio.calls.length;
  const r = await api('systemInfo', [], { 'Content-Type': 'application/json' });
  assert.equal(r.status, 401);
  const r2 = await api('systemInfo', [], { Authorization: 'Bearer wrong', 'Content-Type': 'application/json' });
  assert.equal(r2.status, 401);
  assert.equal(studio.calls.length, before);
});

test('a good API call is forwarded and answered in an envelope', async () => {
  const r = await api('systemInfo', []);
  assert.equal(r.status, 200);
  const body = JSON.parse(r.body);
  assert.equal(body.ok, true);
  assert.equal(body.value.executionProvider.active, 'cpu');
});

test('validation errors come back as 400 with a readable message', async () => {
  const r = await api('openImage', [42]);
  assert.equal(r.status, 400);
  const body = JSON.parse(r.body);
  assert.equal(body.ok, false);
  assert.equal(body.error.code, 'invalid-argument');
  assert.match(body.error.message, /^openImage: invalid argument — path/);
});

test('paths not picked in this run are refused with 403', async () => {
  const r = await api('openImage', [path.join(tmp, 'secret.txt')]);
  assert.equal(r.status, 403);
  assert.equal(JSON.parse(r.body).error.code, 'not-granted');
});

test('a foreign Origin, a cross-site fetch or a rebinding Host is refused even with the token', async () => {
  const evil = await api('systemInfo', [], { ...auth(), Origin: 'http://evil.example' });
  assert.equal(evil.status, 403);
  const otherPort = await api('systemInfo', [], { ...auth(), Origin: 'http://127.0.0.1:1' });
  assert.equal(otherPort.status, 403);
  const site = await api('systemInfo', [], { ...auth(), 'Sec-Fetch-Site': 'same-site' });
  assert.equal(site.status, 403);
  const rebinding = await request('POST', '/api/systemInfo', { headers: { ...auth(), Host: `evil.example:${bridge.port}` }, body: '{"args":[]}' });
  assert.equal(rebinding.status, 421);
  const same = await api('systemInfo', [], { ...auth(), Origin: `http://127.0.0.1:${bridge.port}` });
  assert.equal(same.status, 200);
});

test('the API needs a JSON body (no simple cross-site form posts)', async () => {
  const r = await request('POST', '/api/systemInfo', { headers: { Authorization: `Bearer ${bridge.token}`, 'Content-Type': 'text/plain' }, body: '{"args":[]}' });
  assert.equal(r.status, 415);
});

test('the entry page needs the token, gets the CSP, and passes the token to its own files', async () => {
  assert.equal((await request('GET', '/')).status, 401);
  const r = await request('GET', `/?token=${encodeURIComponent(bridge.token)}`);
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
  assert.equal(r.headers['x-frame-options'], 'DENY');
  assert.ok(r.body.includes(`src="/assets/index.js?token=${encodeURIComponent(bridge.token)}"`));
  assert.ok(r.body.includes(`href="/assets/style.css?token=`));
  assert.ok(r.body.includes('<meta name="neurmap-token"'));
  assert.equal((await request('GET', '/assets/index.js')).status, 401);
  assert.equal((await request('GET', `/assets/index.js?token=${encodeURIComponent(bridge.token)}`)).status, 200);
  assert.equal((await request('GET', `/../secret.txt?token=${encodeURIComponent(bridge.token)}`)).status, 404);
  assert.equal((await request('GET', `/%2e%2e/secret.txt?token=${encodeURIComponent(bridge.token)}`)).status, 404);
});

test('assets: only paths the Studio handed out, only with the token', async () => {
  const t = encodeURIComponent(bridge.token);
  const ok = await request('GET', `/asset/preview/img1?token=${t}`);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['content-type'], 'image/png');
  assert.equal((await request('GET', '/asset/preview/img1')).status, 401);
  assert.equal((await request('GET', `/asset/preview/other?token=${t}`)).status, 404);
  assert.equal((await request('GET', `/asset/..%2F..%2Fetc%2Fpasswd?token=${t}`)).status, 404);
});

test('the picker lists folders and grants only what is picked', async () => {
  const list = await request('POST', '/fs/list', { headers: auth(), body: JSON.stringify({ dir: tmp }) });
  assert.equal(list.status, 200);
  const listing = JSON.parse(list.body);
  assert.ok(listing.entries.some((e: { name: string; kind: string }) => e.name === 'photos' && e.kind === 'dir'));
  assert.ok(!listing.entries.some((e: { name: string }) => e.name === 'secret.txt'), 'non-photos are not listed');
  const photo = path.join(tmp, 'photos', 'a.jpg');
  assert.equal((await api('openImage', [photo])).status, 403);
  const pick = await request('POST', '/fs/pick', { headers: auth(), body: JSON.stringify({ kind: 'open', paths: [photo] }) });
  assert.equal(pick.status, 200);
  assert.equal((await api('openImage', [photo])).status, 200);
  // A folder picked for batch output is writable; one for input is not.
  await request('POST', '/fs/pick', { headers: auth(), body: JSON.stringify({ kind: 'folder', purpose: 'batch-input', path: path.join(tmp, 'photos') }) });
  const req = {
    inputDir: path.join(tmp, 'photos'), outputDir: path.join(tmp, 'photos'), recursive: false, format: 'jpeg', quality: 90, suffix: '-x',
    skipExisting: true, strength: 1, protectSharp: false,
  };
  assert.equal((await api('startBatch', [req])).status, 403);
  await request('POST', '/fs/pick', { headers: auth(), body: JSON.stringify({ kind: 'folder', purpose: 'batch-output', path: path.join(tmp, 'photos') }) });
  assert.equal((await api('startBatch', [req])).status, 200);
  const noList = await request('POST', '/fs/list', { headers: { 'Content-Type': 'application/json' }, body: '{}' });
  assert.equal(noList.status, 401);
  const badPick = await request('POST', '/fs/pick', { headers: auth(), body: JSON.stringify({ kind: 'open', paths: [path.join(tmp, 'nope.jpg')] }) });
  assert.equal(badPick.status, 400);
});

test('the save picker grants one writable file in an existing folder', async () => {
  const r = await request('POST', '/fs/pick', { headers: auth(), body: JSON.stringify({ kind: 'save', dir: tmp, name: 'out.jpg' }) });
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body).paths, [path.join(tmp, 'out.jpg')]);
  const bad = await request('POST', '/fs/pick', { headers: auth(), body: JSON.stringify({ kind: 'save', dir: tmp, name: '../x.jpg' }) });
  assert.equal(bad.status, 400);
});

test('a dropped file is uploaded, stored in a temp folder and granted', async () => {
  const r = await request('POST', `/upload?name=${encodeURIComponent('../../evil name.jpg')}`, {
    headers: { Authorization: `Bearer ${bridge.token}`, 'Content-Type': 'application/octet-stream' },
    body: Buffer.from([1, 2, 3]),
  });
  assert.equal(r.status, 200);
  const p = JSON.parse(r.body).path as string;
  assert.ok(p.startsWith(path.join(tmp, 'uploads')));
  assert.equal(path.basename(p), 'evil name.jpg');
  assert.deepEqual([...(await fs.readFile(p))], [1, 2, 3]);
  assert.equal((await api('openImage', [p])).status, 200);
  const noToken = await request('POST', '/upload?name=a.jpg', { body: 'x' });
  assert.equal(noToken.status, 401);
  assert.equal(safeUploadName('..'), 'dropped-photo');
  assert.equal(safeUploadName('C:\\x\\a.jpg'), 'a.jpg');
});

test('job events stream over SSE with the token', async () => {
  const got = await new Promise<string>((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port: bridge.port, path: `/events?token=${encodeURIComponent(bridge.token)}`, headers: { Host: `127.0.0.1:${bridge.port}` } },
      (res) => {
        assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
        let buf = '';
        res.on('data', (c: Buffer) => {
          buf += c.toString();
          if (buf.includes(': connected')) studio.emit({ jobId: 'j9', kind: 'batch', state: 'running', fraction: 0.25, message: 'x', etaSeconds: 3 });
          const m = /data: (.*)\n\n/.exec(buf);
          if (m) {
            req.destroy();
            resolve(m[1]);
          }
        });
      },
    );
    req.on('error', reject);
  });
  assert.equal(JSON.parse(got).jobId, 'j9');
  const denied = await request('GET', '/events');
  assert.equal(denied.status, 401);
});

test('checkRequest refuses non-loopback peers', () => {
  const r = checkRequest({ headers: { host: '127.0.0.1:5' }, url: '/?token=t', socket: { remoteAddress: '10.0.0.2' } as never }, 5, 't');
  assert.equal(r.ok, false);
  assert.equal(r.status, 403);
  assert.equal(checkRequest({ headers: { host: 'localhost:5' }, url: '/?token=t', socket: { remoteAddress: '::1' } as never }, 5, 't').ok, true);
});

test('rewriteIndex leaves remote and anchor URLs alone', () => {
  const out = rewriteIndex('<head><script src="https://x/y.js"></script><link href="/a.css"></head>', 'T');
  assert.ok(out.includes('src="https://x/y.js"'));
  assert.ok(out.includes('href="/a.css?token=T"'));
});
