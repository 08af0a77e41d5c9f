/** Builds the renderer (and the Electron main/preload bundles) with Vite, for `npm start` / `npm run serve`. */
import fs from 'node:fs';
import path from 'node:path';
import { appRoot } from '../engine/paths.ts';

export const rendererDir = path.join(appRoot, 'dist', 'renderer');

/** True when dist/renderer is missing or older than any renderer source file. */
export function rendererIsStale(dir = rendererDir, srcDir = path.join(appRoot, 'src-renderer')): boolean {
  const index = path.join(dir, 'index.html');
  if (!fs.existsSync(index)) return true;
  const built = fs.statSync(index).mtimeMs;
  const walk = (d: string): boolean =>
    fs.readdirSync(d, { withFileTypes: true }).some((e) => {
      const p = path.join(d, e.name);
      return e.isDirectory() ? walk(p) : fs.statSync(p).mtimeMs > built;
    });
  return fs.existsSync(srcDir) ? walk(srcDir) : false;
}

/** The Node bundles of the desktop app (vite.config.ts), in build order. */
export const DESKTOP_BUNDLES = ['main', 'host', 'trainer-worker', 'map-worker', 'onnx-worker', 'preload'] as const;

export async function viteBuild(mode: 'renderer' | (typeof DESKTOP_BUNDLES)[number]): Promise<void> {
  const vite = await import('vite');
  await vite.build({ configFile: path.join(appRoot, 'vite.config.ts'), mode, logLevel: 'warn' });
}

export async function ensureRendererBuilt(log: (s: string) => void = () => {}): Promise<string> {
  if (rendererIsStale()) {
    log('Building the editor (vite build)…');
    await viteBuild('renderer');
  }
  return rendererDir;
}
