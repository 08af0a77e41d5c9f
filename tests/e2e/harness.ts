/**
 * End-to-end harness: the real bridge (`src-main/bridge/serve.ts`, the same entry as `npm run serve`) in a
 * child process with the REAL engine, tiny real ONNX models when the shipped ones are absent, and Debian's
 * Chromium driven by playwright-core. Screenshots go to .artifacts/screenshots/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { tinyDeblur, tinyRefiner, colourMotion } from '../helpers/tiny-onnx.ts';
import { ensureRendererBuilt } from '../../src-main/bridge/build.ts';

// The init script runs in the page (the Node tsconfig has no DOM library).
declare const document: any;
declare const window: any;
declare const MutationObserver: any;

export const root = path.resolve(import.meta.dirname, '..', '..');
export const shotsDir = path.join(root, '.artifacts', 'screenshots');
export const studioPath = path.join(root, 'src-main', 'engine', 'studio', 'studio.ts');

export const CHROMIUM = process.env.NEURMAP_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

/** Why the suite cannot run here, or null. */
export function missingPrerequisite(): string | null {
  if (!fs.existsSync(studioPath)) return 'the engine Studio (src-main/engine/studio/studio.ts) is not there yet';
  if (!fs.existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (set NEURMAP_CHROMIUM)`;
  return null;
}

/**
 * Tiny real networks written for this run: the suite checks what the editor does with a network's output, so it
 * needs one whose effect is large and known, whatever the shipped weights' quality (tests/models checks those).
 * NEURMAP_E2E_SHIPPED=1 runs it on the shipped models instead.
 */
export async function modelsDir(tmp: string): Promise<string> {
  const shipped = path.join(root, 'models');
  if (process.env.NEURMAP_E2E_SHIPPED && fs.existsSync(path.join(shipped, 'deblur.onnx')) && fs.existsSync(path.join(shipped, 'motion.onnx'))) return shipped;
  const dir = path.join(tmp, 'models');
  await fsp.mkdir(dir, { recursive: true });
  await tinyDeblur(7, 4, 0.12).save(path.join(dir, 'deblur.onnx'));
  await colourMotion(4).save(path.join(dir, 'motion.onnx'));
  // a refiner that keeps the MAP result (almost exactly): what "adapt to my photos" trains
  await tinyRefiner(8, 4, 0.01).save(path.join(dir, 'refiner.onnx'));
  return dir;
}

export interface Served {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** Runs a bridge entry (serve.ts or start.ts) and waits for the URL it prints. */
export async function runBridge(entry: 'serve.ts' | 'start.ts', env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src-main', 'bridge', entry), '--port', '0'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL after ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w%-]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Records CSP violations and page errors, for the checks at the end. */
export async function watchPage(page: Page): Promise<{ csp: string[]; errors: string[] }> {
  const seen = { csp: [] as string[], errors: [] as string[] };
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e: { violatedDirective: string; blockedURI: string }) => {
      (window as unknown as { __csp: string[] }).__csp ??= [];
      (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
    // Every error message the editor shows, for the checks at the end.
    (window as unknown as { __errors: string[] }).__errors = [];
    new MutationObserver((records: any[]) => {
      for (const r of records) {
        for (const n of Array.from(r.addedNodes) as any[]) {
          if (n.nodeType === 1 && n.matches('.toast.error')) (window as unknown as { __errors: string[] }).__errors.push(n.querySelector('.text')?.textContent ?? n.textContent);
        }
      }
    }).observe(document, { childList: true, subtree: true });
  });
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') seen.errors.push(m.text());
  });
  return seen;
}

export async function shot(page: Page, name: string): Promise<void> {
  await fsp.mkdir(shotsDir, { recursive: true });
  await page.screenshot({ path: path.join(shotsDir, `${name}.png`) });
}

export { ensureRendererBuilt, os };
