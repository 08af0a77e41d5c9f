/**
 * Vite builds, by mode:
 *   renderer (default): src-renderer → dist/renderer (the editor; one script, one stylesheet)
 *   main:    src-main/main.ts → dist/main/main.js (Electron main process, ESM, node_modules external)
 *   host:    src-main/studio-host/entry.ts → dist/main/studio-host.js (the engine's utility process)
 *   trainer-worker: src-main/engine/neurmap/parallel-worker.ts → dist/main/parallel-worker.js (training threads)
 *   map-worker: src-main/engine/map/map-worker.ts → dist/main/map-worker.js (the MAP core's threads)
 *   onnx-worker: src-main/engine/infer/onnx-worker.ts → dist/main/onnx-worker.js (one ONNX Runtime session's thread)
 *   preload: src-main/preload.ts → dist/main/preload.cjs (sandboxed preloads must be one CommonJS file)
 */
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { builtinModules } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));
const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** Files the engine reads beside its own module (new URL('./x', import.meta.url)) travel with the bundle. */
function engineFiles(): Plugin {
  return {
    name: 'neurmap-engine-files',
    generateBundle() {
      const proto = path.join(root, 'src-main', 'engine', 'graph', 'onnx.proto');
      this.emitFile({ type: 'asset', fileName: 'onnx.proto', source: fs.readFileSync(proto) });
    },
  };
}

/** Node bundles: entry and output file, one bundle per mode (each file stands alone). */
const NODE_BUNDLES: Record<string, { entry: string; file: string }> = {
  main: { entry: 'src-main/main.ts', file: 'main.js' },
  host: { entry: 'src-main/studio-host/entry.ts', file: 'studio-host.js' },
  'trainer-worker': { entry: 'src-main/engine/neurmap/parallel-worker.ts', file: 'parallel-worker.js' },
  'map-worker': { entry: 'src-main/engine/map/map-worker.ts', file: 'map-worker.js' },
  'onnx-worker': { entry: 'src-main/engine/infer/onnx-worker.ts', file: 'onnx-worker.js' },
  preload: { entry: 'src-main/preload.ts', file: 'preload.cjs' },
};

export default defineConfig(({ mode }) => {
  const bundle = NODE_BUNDLES[mode];
  if (bundle) {
    const preload = mode === 'preload';
    return {
      root,
      publicDir: false,
      plugins: preload ? [] : [engineFiles()],
      build: {
        ssr: true,
        outDir: path.join(root, 'dist', 'main'),
        emptyOutDir: false,
        sourcemap: false,
        minify: false,
        target: 'node20',
        rollupOptions: {
          input: path.join(root, bundle.entry),
          external: ['electron', ...nodeBuiltins],
          output: { format: preload ? ('cjs' as const) : ('es' as const), entryFileNames: bundle.file, inlineDynamicImports: true },
        },
      },
      ssr: preload ? { noExternal: true, external: ['electron'] } : { target: 'node' as const },
    };
  }
  return {
    root: path.join(root, 'src-renderer'),
    base: '/',
    publicDir: false,
    plugins: [svelte()],
    build: {
      outDir: path.join(root, 'dist', 'renderer'),
      emptyOutDir: true,
      target: 'chrome120',
      sourcemap: false,
      modulePreload: false,
      assetsInlineLimit: 0,
      cssCodeSplit: false,
      rollupOptions: { output: { inlineDynamicImports: true } },
    },
    server: { host: '127.0.0.1', strictPort: false },
  };
});
