/** `npm start` without an Electron binary falls back to the bridge and prints the URL. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { findElectron } from '../../src-main/bridge/start.ts';
import { ensureRendererBuilt, missingPrerequisite, modelsDir, os, runBridge } from './harness.ts';

test('findElectron says why it cannot run Electron', () => {
  assert.deepEqual(findElectron({ NEURMAP_NO_ELECTRON: '1' }), { binary: null, reason: 'NEURMAP_NO_ELECTRON=1' });
  const found = findElectron({});
  if (found.binary === null) assert.match(found.reason, /Electron binary/);
});

test('npm start falls back to the bridge and prints the URL', { skip: missingPrerequisite() ?? false }, async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'neurmap-start-'));
  await ensureRendererBuilt();
  // On this machine Electron's binary is absent; elsewhere force the fallback so the test never opens a window.
  const env: NodeJS.ProcessEnv = { NEURMAP_MODELS_DIR: await modelsDir(tmp), NEURMAP_USER_DATA: path.join(tmp, 'ud') };
  if (findElectron().binary) env.NEURMAP_NO_ELECTRON = '1';
  const served = await runBridge('start.ts', env);
  try {
    assert.match(served.output(), /Electron is not available here: .+\.\nFalling back to the browser version/);
    const res = await fetch(served.url);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<div id="app">/);
    assert.equal((await fetch(served.url.replace(/\?token=.*/, ''))).status, 401);
  } finally {
    await served.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
