import type { ExecutionProviderChoice, SystemInfo } from '../../src-shared/contract/types.ts';

export interface ProviderOption {
  id: ExecutionProviderChoice;
  label: string;
  /** Why it cannot be chosen (one line), or null. */
  unavailable: string | null;
}

const PROVIDERS: Array<[ExecutionProviderChoice, string]> = [
  ['auto', 'Automatic (fastest available)'],
  ['cuda', 'CUDA (NVIDIA GPU)'],
  ['dml', 'DirectML (Windows GPU)'],
  ['coreml', 'Core ML (Apple)'],
  ['cpu', 'CPU'],
];

/**
 * The execution providers Settings offers. One that this onnxruntime build does not list, or that failed to load in
 * this run (what the System panel shows), is unavailable, with the reason, instead of a choice that falls back.
 */
export function providerOptions(sys: SystemInfo | null): ProviderOption[] {
  return PROVIDERS.map(([id, label]) => {
    if (!sys || id === 'auto' || id === 'cpu') return { id, label, unavailable: null };
    const failed = sys.executionProvider.skipped.find((s) => s.name === id);
    if (failed) return { id, label, unavailable: `fails to load: ${failed.reason}` };
    if (!sys.executionProvider.available.includes(id)) return { id, label, unavailable: 'not part of ONNX Runtime on this platform' };
    return { id, label, unavailable: null };
  });
}
