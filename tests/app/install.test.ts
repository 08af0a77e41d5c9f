/**
 * `npm ci && npm test` work on a fresh clone that reaches only the npm registry: npm knows every project setting,
 * no install script downloads from elsewhere, and the electron package (whose typings main.ts and preload.ts
 * need) stays installed without its binary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { findElectron } from '../../src-main/bridge/start.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const npm = (args: string[]) => promisify(execFile)('npm', args, { cwd: root });

test('npm knows every setting the project gives it (no "Unknown project config")', async () => {
  const { stderr } = await npm(['config', 'ls']);
  assert.doesNotMatch(stderr, /Unknown (project|env|user|builtin) config/);
});

test('every dependency install script is reviewed in allowScripts, so npm versions that block unreviewed ones install the same tree', async () => {
  const { stdout } = await npm(['install-scripts', 'ls', '--json']);
  assert.deepEqual((JSON.parse(stdout) as { allowScripts: unknown[] }).allowScripts, []);
});

test('the downloads that need more than the npm registry are denied: the Electron binary (GitHub), the CUDA provider (NuGet)', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
  assert.equal(pkg.allowScripts?.electron, false);
  assert.equal(pkg.allowScripts?.['onnxruntime-node'], false);
});

test('the electron package is installed with its typings, so the typecheck resolves "electron"', () => {
  const types = createRequire(path.join(root, 'package.json')).resolve('electron/electron.d.ts');
  assert.match(fs.readFileSync(types, 'utf8'), /declare namespace Electron/);
});

test('without its binary, npm start says how to fetch it', () => {
  const found = findElectron({});
  if (found.binary !== null) return; // the binary was fetched on this machine: nothing to explain
  assert.match(found.reason, /the Electron binary is not downloaded \(`node node_modules\/electron\/install\.js` fetches it\)/);
});

test('CI runs the README commands as written, with no environment of its own for npm', () => {
  const ci = fs.readFileSync(path.join(root, '.ci', 'run'), 'utf8');
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  assert.match(readme, /```sh\nnpm ci && npm start\n```/);
  assert.match(readme, /```sh\nnpm test\n```/);
  const npmLines = ci.split('\n').filter((l) => /^\s*npm /.test(l));
  assert.deepEqual(npmLines, ['npm ci', 'npm test']);
  assert.doesNotMatch(ci, /ELECTRON_|ONNXRUNTIME_|npm_config_/i);
});
