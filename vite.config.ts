/**
 * Vite builds, by mode:
 *   renderer (default): src-renderer → dist/renderer (the editor; one script, one stylesheet)
 *   main:    src-main/main.ts → dist/main/main.js (Electron main process, ESM, node_modules external)
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

export default defineConfig(({ mode }) => {
  if (mode === 'main' || mode === 'preload') {
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
          input: path.join(root, 'src-main', preload ? 'preload.ts' : 'main.ts'),
          external: ['electron', ...nodeBuiltins],
          output: preload
            ? { format: 'cjs' as const, entryFileNames: 'preload.cjs', inlineDynamicImports: true }
            : { format: 'es' as const, entryFileNames: 'main.js', inlineDynamicImports: true },
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
