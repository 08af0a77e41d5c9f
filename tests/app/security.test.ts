/** The Electron shell's security settings, checked as plain data (no Electron needed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  APP_ENTRY, APP_ORIGIN, acceptDropGrant, allowPermission, allowWebview, appRequestFile, assetRequestPath,
  electronAssetUrl, isAllowedNavigation, schemePrivileges, secureWebPreferences, windowOpenHandler, windowOptions,
} from '../../src-main/window-options.ts';
import { contentSecurityPolicy, securityHeaders } from '../../src-main/served-files.ts';

const root = path.resolve(import.meta.dirname, '..', '..');

test('the window is sandboxed, context-isolated, without Node', () => {
  const o = windowOptions('/app/dist/main/preload.cjs');
  const w = o.webPreferences;
  assert.equal(w.contextIsolation, true);
  assert.equal(w.sandbox, true);
  assert.equal(w.nodeIntegration, false);
  assert.equal(w.nodeIntegrationInWorker, false);
  assert.equal(w.nodeIntegrationInSubFrames, false);
  assert.equal(w.webSecurity, true);
  assert.equal(w.allowRunningInsecureContent, false);
  assert.equal(w.webviewTag, false);
  assert.equal(w.experimentalFeatures, false);
  assert.equal(w.navigateOnDragDrop, false);
  assert.equal(w.preload, '/app/dist/main/preload.cjs');
  assert.deepEqual({ ...w, preload: undefined }, { ...secureWebPreferences, preload: undefined });
});

function directives(csp: string): Map<string, string[]> {
  return new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
}

for (const shell of ['electron', 'browser'] as const) {
  test(`the ${shell} CSP is strict`, () => {
    const d = directives(contentSecurityPolicy(shell));
    assert.deepEqual(d.get('default-src'), ["'none'"]);
    assert.deepEqual(d.get('script-src'), ["'self'"]);
    for (const [k, v] of d) {
      assert.ok(!v.includes("'unsafe-eval'"), `${k} allows eval`);
      assert.ok(!v.includes('*'), `${k} allows everything`);
      assert.ok(!v.some((s) => /^https?:/.test(s)), `${k} allows remote content`);
      if (k !== 'style-src') assert.ok(!v.includes("'unsafe-inline'"), `${k} allows inline`);
    }
    assert.deepEqual(d.get('object-src'), ["'none'"]);
    assert.deepEqual(d.get('frame-ancestors'), ["'none'"]);
    assert.deepEqual(d.get('base-uri'), ["'none'"]);
    assert.deepEqual(d.get('form-action'), ["'none'"]);
    assert.ok(d.get('img-src')?.includes("'self'"));
    if (shell === 'electron') assert.ok(d.get('img-src')?.includes('neurmap-asset:'));
    const h = securityHeaders(shell);
    assert.equal(h['Content-Security-Policy'], contentSecurityPolicy(shell));
    assert.equal(h['X-Content-Type-Options'], 'nosniff');
  });
}

test('navigation is blocked except reloading the app itself', () => {
  assert.ok(isAllowedNavigation(APP_ENTRY));
  assert.ok(isAllowedNavigation(`${APP_ORIGIN}/`));
  for (const url of [
    'https://example.com/',
    'http://127.0.0.1:3000/',
    'file:///etc/passwd',
    `${APP_ORIGIN}/other.html`,
    'neurmap-app://evil/index.html',
    'neurmap-asset://studio/preview/x',
    'javascript:alert(1)',
    'data:text/html,hi',
    'not a url',
  ]) {
    assert.equal(isAllowedNavigation(url), false, url);
  }
});

test('new windows, webviews and permission requests are denied', () => {
  assert.deepEqual(windowOpenHandler({ url: 'https://example.com' }), { action: 'deny' });
  assert.deepEqual(windowOpenHandler({ url: APP_ENTRY }), { action: 'deny' });
  assert.equal(allowWebview(), false);
  for (const p of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read', 'fullscreen']) assert.equal(allowPermission(p), false);
});

test('the app scheme serves files inside the renderer folder only', () => {
  const dir = '/opt/app/dist/renderer';
  assert.equal(appRequestFile(`${APP_ORIGIN}/`, dir), path.join(dir, 'index.html'));
  assert.equal(appRequestFile(`${APP_ORIGIN}/assets/index.js`, dir), path.join(dir, 'assets/index.js'));
  assert.equal(appRequestFile(`${APP_ORIGIN}/assets/a%20b.js?x=1`, dir), path.join(dir, 'assets/a b.js'));
  assert.equal(appRequestFile(`${APP_ORIGIN}/..%2F..%2Fetc%2Fpasswd`, dir), null);
  assert.equal(appRequestFile(`${APP_ORIGIN}/%2e%2e/%2e%2e/etc/passwd`, dir), path.join(dir, 'etc/passwd'));
  assert.equal(appRequestFile('neurmap-app://other/index.html', dir), null);
  assert.equal(appRequestFile('https://app/index.html', dir), null);
  assert.equal(appRequestFile(`${APP_ORIGIN}/a%00b`, dir), null);
});

test('asset URLs round-trip and reject traversal', () => {
  const url = electronAssetUrl('preview/abc 1');
  assert.equal(url, 'neurmap-asset://studio/preview/abc%201');
  assert.equal(assetRequestPath(url), 'preview/abc 1');
  assert.equal(assetRequestPath('neurmap-asset://studio/preview/..%2F..%2Fsecret'), null);
  assert.equal(assetRequestPath('neurmap-asset://other/preview/x'), null);
  assert.equal(assetRequestPath('neurmap-app://studio/preview/x'), null);
  assert.equal(assetRequestPath('neurmap-asset://studio/'), null);
});

test('drop grants come only from the app main frame, as absolute paths', () => {
  const from = `${APP_ORIGIN}/index.html`;
  assert.deepEqual(acceptDropGrant(from, true, ['/home/a/b.jpg']), ['/home/a/b.jpg']);
  assert.equal(acceptDropGrant(from, false, ['/home/a/b.jpg']), null);
  assert.equal(acceptDropGrant('https://evil.example/', true, ['/home/a/b.jpg']), null);
  assert.equal(acceptDropGrant('neurmap-app://apps.evil/', true, ['/x']), null);
  assert.equal(acceptDropGrant(from, true, ['relative.jpg']), null);
  assert.equal(acceptDropGrant(from, true, ['/a\0b']), null);
  assert.equal(acceptDropGrant(from, true, [42]), null);
  assert.equal(acceptDropGrant(from, true, 'not-an-array'), null);
  assert.equal(acceptDropGrant(from, true, []), null);
  assert.equal(acceptDropGrant(from, true, new Array(3000).fill('/a')), null);
});

test('custom schemes are standard and secure; only the asset scheme allows CORS', () => {
  const app = schemePrivileges.find((s) => s.scheme === 'neurmap-app')!;
  const asset = schemePrivileges.find((s) => s.scheme === 'neurmap-asset')!;
  assert.equal(app.privileges.standard, true);
  assert.equal(app.privileges.secure, true);
  assert.equal(app.privileges.corsEnabled, false);
  assert.equal(asset.privileges.corsEnabled, true);
});

test('main.ts applies every setting (thin glue check)', async () => {
  const src = await fs.readFile(path.join(root, 'src-main', 'main.ts'), 'utf8');
  for (const needle of [
    'windowOptions(', "'will-navigate'", "'will-redirect'", "'will-attach-webview'", 'setWindowOpenHandler(windowOpenHandler)',
    'setPermissionRequestHandler', 'setPermissionCheckHandler', 'registerSchemesAsPrivileged', 'app.enableSandbox()',
    'securityHeaders(', 'readAsset(', 'trustedSender(', 'createApiDispatcher(',
  ]) {
    assert.ok(src.includes(needle), `main.ts should use ${needle}`);
  }
  assert.ok(!/from '\.\/engine\/(?!paths)/.test(src), 'main.ts talks to the engine only through the Studio loader');
});

test('the preload exposes only window.neurmap and never ipcRenderer itself', async () => {
  const src = await fs.readFile(path.join(root, 'src-main', 'preload.ts'), 'utf8');
  const exposed = [...src.matchAll(/exposeInMainWorld\('([^']+)'/g)].map((m) => m[1]);
  assert.deepEqual(exposed, ['neurmap']);
  assert.ok(!/exposeInMainWorld\([^)]*ipcRenderer/.test(src));
  assert.ok(src.includes('e.isTrusted'), 'drops are reported only from trusted events');
});
