/**
 * `npm start`: the desktop app when Electron's binary is installed; otherwise the same editor in a browser
 * through the local bridge (it prints the URL and opens nothing else).
 * NEURMAP_NO_ELECTRON=1 forces the browser fallback.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { appRoot } from '../engine/paths.ts';
import { DESKTOP_BUNDLES, viteBuild } from './build.ts';
import { runServe } from './serve.ts';

/** The Electron executable, or null with the reason it cannot be used. */
export function findElectron(env: NodeJS.ProcessEnv = process.env): { binary: string | null; reason: string } {
  if (env.NEURMAP_NO_ELECTRON === '1') return { binary: null, reason: 'NEURMAP_NO_ELECTRON=1' };
  const require = createRequire(import.meta.url);
  let packageDir: string;
  try {
    packageDir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    return { binary: null, reason: 'the electron package is not installed (npm ci installs it)' };
  }
  // npm ci installs the package without its binary (package.json allowScripts: electron's download needs GitHub).
  if (!env.ELECTRON_OVERRIDE_DIST_PATH && !fs.existsSync(path.join(packageDir, 'path.txt'))) {
    return { binary: null, reason: `the Electron binary is not downloaded (\`node ${path.relative(process.cwd(), path.join(packageDir, 'install.js'))}\` fetches it)` };
  }
  const binary = require('electron') as unknown;
  if (typeof binary !== 'string') return { binary: null, reason: 'the electron package did not name its binary' };
  if (!fs.existsSync(binary)) return { binary: null, reason: `the Electron binary is missing (${binary})` };
  return { binary, reason: '' };
}

export async function start(argv: string[]): Promise<void> {
  const { binary, reason } = findElectron();
  if (binary) {
    process.stdout.write('Building NeurMAP Studio…\n');
    await viteBuild('renderer');
    for (const bundle of DESKTOP_BUNDLES) await viteBuild(bundle);
    const child = spawn(binary, [appRoot, ...argv], { stdio: 'inherit', env: { ...process.env, ELECTRON_RUN_AS_NODE: undefined } });
    child.on('exit', (code) => process.exit(code ?? 0));
    return;
  }
  await runServe(argv, `Electron is not available here: ${reason}.\nFalling back to the browser version of the editor.`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  start(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`neurmap start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(3);
  });
}
