/** Messages between a ModelSession (session.ts) and its inference thread (onnx-worker.ts). */
import type { ProviderName } from './providers.ts';

export interface ProviderAttempt {
  provider: ProviderName;
  ok: boolean;
  /** Why it was skipped or failed to load. */
  reason?: string;
  ms: number;
}

/** What the thread is started with. */
export interface OnnxWorkerData {
  /** onnxruntime-node's entry, resolved by the caller (providers.ts ORT_PATH). */
  ortPath: string;
}

export type ToOnnxWorker =
  | {
      type: 'load';
      file: string;
      threads: number;
      /** In order; `skip` says why one is not even tried, `hint` is appended to its load error. */
      providers: Array<{ name: ProviderName; skip: string | null; hint: string }>;
    }
  | { type: 'run'; id: number; input: Float32Array; height: number; width: number }
  | { type: 'dispose' };

export type FromOnnxWorker =
  | { type: 'loaded'; provider: ProviderName; attempts: ProviderAttempt[]; inputNames: readonly string[]; outputNames: readonly string[] }
  | { type: 'load-failed'; attempts: ProviderAttempt[] }
  | { type: 'result'; id: number; output: Float32Array; input: Float32Array; dims?: readonly number[] }
  | { type: 'error'; id: number; message: string; input?: Float32Array }
  | { type: 'disposed' };
