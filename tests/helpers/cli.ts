import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { constantMotion, tinyDeblur, tinyRefiner } from './tiny-onnx.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NEURMAP_BIN = path.join(root, 'bin', 'neurmap.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `neurmap …` as a user would, with its own user-data folder and the given models folder. */
export function runCli(args: string[], env: Record<string, string> = {}, opts: { onStderr?: (chunk: string) => void; timeoutMs?: number } = {}): Promise<CliResult> & { kill(sig?: NodeJS.Signals): void } {
  const child = spawn(process.execPath, [NEURMAP_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    opts.onStderr?.(String(d));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return Object.assign(done, { kill: (sig: NodeJS.Signals = 'SIGTERM') => child.kill(sig) });
}

/** A temp folder holding tiny real ONNX networks in the shipped layout (deblur.onnx, motion.onnx, refiner.onnx when asked). */
export async function tinyModelsDir(opts: { motion?: boolean; refiner?: boolean } = {}): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'neurmap-models-'));
  await tinyDeblur().save(path.join(dir, 'deblur.onnx'));
  if (opts.motion !== false) await constantMotion(0.2, 0.1).save(path.join(dir, 'motion.onnx'));
  if (opts.refiner) await tinyRefiner().save(path.join(dir, 'refiner.onnx'));
  return dir;
}

export async function tempDir(prefix = 'neurmap-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}
