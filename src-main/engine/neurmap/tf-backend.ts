import { initTrainingBackend, type BackendPreference } from '../tfjs/backend.ts';

export type BackendChoice = BackendPreference;

export interface BackendReport {
  /** The tfjs backend now active ('tensorflow', 'wasm', 'cpu'). */
  name: string;
  /** One line: which backend runs and why. */
  reason: string;
  notes: string[];
}

/**
 * Initialises the training backend in this thread (each worker thread calls it too) through engine/tfjs's
 * initTrainingBackend: native TensorFlow where installed, else WASM with NeurMAP's gradient kernels, else the
 * pure-JS cpu backend. 'cpu' is what the unit tests pin (deterministic and complete, slow).
 */
export async function useTrainingBackend(choice: BackendChoice = 'auto'): Promise<BackendReport> {
  const r = await initTrainingBackend({ prefer: choice });
  return { name: r.tfBackend, reason: r.reason, notes: r.notes };
}
