/**
 * The tfjs backend for in-app training: native TensorFlow (@tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node,
 * optional dependencies found by ../training-backend.ts), else the WASM backend with NeurMAP's gradient kernels
 * (kernels/), else tfjs' pure-JS `cpu` backend as a last resort. Says which one runs and why.
 *
 * `NEURMAP_TRAINING_BACKEND=auto|native|wasm|cpu` (or the `prefer` option) forces a choice, for tests and
 * troubleshooting.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { detectTrainingBackend, type TrainingBackendName } from '../training-backend.ts';
import { registerWasmKernels, WASM_KERNELS } from './kernels/wasm-kernels.ts';
import { registerGradientOverrides, GRADIENT_OVERRIDES } from './kernels/gradients.ts';

export type ActiveTrainingBackend = TrainingBackendName | 'cpu';
export type BackendPreference = 'auto' | 'native' | 'wasm' | 'cpu';

export interface TrainingBackendReport {
  /** What runs: 'tensorflow-gpu' | 'tensorflow' (native bindings), 'wasm', or 'cpu' (pure JS, slow). */
  name: ActiveTrainingBackend;
  /** tf.getBackend() after initialisation ('tensorflow', 'wasm' or 'cpu'). */
  tfBackend: string;
  /** One line: which backend runs and why (for logs, `neurmap info`, the about panel). */
  reason: string;
  /** Why each faster option was not used. */
  notes: string[];
  /** WASM details, when the WASM backend runs. */
  wasm?: { simd: boolean; threads: number; wasmDir: string };
  /** Kernels registered for the WASM backend (empty on other backends). */
  kernels: string[];
  /** Gradient functions added to tfjs (all backends). */
  gradients: string[];
}

export interface InitTrainingBackendOptions {
  /** Default: process.env.NEURMAP_TRAINING_BACKEND, else 'auto'. */
  prefer?: BackendPreference;
}

let current: { prefer: BackendPreference; report: Promise<TrainingBackendReport> } | null = null;

/** The folder holding tfjs-backend-wasm's .wasm binaries (with a trailing separator, as setWasmPaths wants). */
export function wasmBinariesDir(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('@tensorflow/tfjs-backend-wasm'); // …/dist/tf-backend-wasm.node.js
  return path.dirname(main) + path.sep;
}

function preferenceFromEnv(): BackendPreference {
  const v = (process.env.NEURMAP_TRAINING_BACKEND ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (v === 'native' || v === 'wasm' || v === 'cpu') return v;
  throw new Error(`NEURMAP_TRAINING_BACKEND='${v}' is not one of auto, native, wasm, cpu`);
}

/**
 * Pick and initialise the training backend (memoised; a different `prefer` re-initialises). Registers the gradient
 * functions tfjs lacks (all backends) and, on WASM, the fast gradient kernels.
 */
export function initTrainingBackend(options: InitTrainingBackendOptions = {}): Promise<TrainingBackendReport> {
  let prefer: BackendPreference;
  try {
    prefer = options.prefer ?? preferenceFromEnv();
  } catch (e) {
    return Promise.reject(e);
  }
  if (current && current.prefer === prefer) return current.report;
  const report = init(prefer);
  current = { prefer, report };
  report.catch(() => {
    if (current?.report === report) current = null;
  });
  return report;
}

async function init(prefer: BackendPreference): Promise<TrainingBackendReport> {
  const gradients = registerGradientOverrides();
  const notes: string[] = [];
  let nativeFailed = false;

  if (prefer === 'auto' || prefer === 'native') {
    const detected = await detectTrainingBackend();
    notes.push(...detected.notes);
    if (detected.name !== 'wasm') {
      try {
        if (!(await tf.setBackend('tensorflow'))) throw new Error("tf.setBackend('tensorflow') returned false");
        await tf.ready();
        const what = detected.name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
        return {
          name: detected.name, tfBackend: tf.getBackend(), notes, kernels: [], gradients,
          reason: `${detected.name}: native TensorFlow bindings (${what}) are installed`,
        };
      } catch (e) {
        nativeFailed = true;
        notes.push(`native backend ${detected.name} failed to start (${oneLine(e)})`);
      }
    }
    if (prefer === 'native') throw new Error(`no native TensorFlow backend: ${notes.join('; ')}`);
  } else {
    notes.push(`native backends not tried (prefer=${prefer})`);
  }

  if (prefer !== 'cpu') {
    try {
      const wasmDir = wasmBinariesDir();
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // Point it at the package's binaries (a file path works in Node and Electron's main process). Harmless when
      // the backend is already up; throws only after a failed start, which setBackend then reports.
      try {
        wasm.setWasmPaths(wasmDir);
      } catch (e) {
        notes.push(`setWasmPaths: ${oneLine(e)}`);
      }
      if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') returned false");
      await tf.ready();
      const kernels = registerWasmKernels();
      // Re-select so that setup functions of the kernels registered above run (none need one today).
      await tf.setBackend('wasm');
      const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      const threads = wasm.getThreadsCount();
      const why = prefer === 'wasm' ? 'selected' : nativeFailed ? 'the native TensorFlow bindings failed to start' : 'no native TensorFlow bindings installed';
      return {
        name: 'wasm', tfBackend: tf.getBackend(), notes, kernels, gradients,
        wasm: { simd, threads, wasmDir },
        reason: `wasm: ${why}; WebAssembly${simd ? ' + SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'}, NeurMAP gradient kernels (${kernels.length})`,
      };
    } catch (e) {
      notes.push(`wasm backend failed to start (${oneLine(e)})`);
    }
  }

  if (!(await tf.setBackend('cpu'))) throw new Error(`no tfjs backend could start: ${notes.join('; ')}`);
  await tf.ready();
  return {
    name: 'cpu', tfBackend: tf.getBackend(), notes, kernels: [], gradients,
    reason: prefer === 'cpu' ? 'cpu: selected (pure JavaScript, slow)' : 'cpu: fallback, pure JavaScript (slow), because no faster backend started',
  };
}

/** The kernel and gradient registrations with their reasons, for `neurmap info` / docs. */
export function describeKernelRegistrations(): string[] {
  return [
    ...WASM_KERNELS.map((k) => `wasm kernel ${k.kernelName}: ${k.why}`),
    ...GRADIENT_OVERRIDES.map((g) => `gradient ${g.kernelName}: ${g.why}`),
  ];
}

function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  return msg.split('\n')[0].slice(0, 200);
}
