/**
 * Which tfjs backend in-app training uses: the native TensorFlow bindings where they are installed
 * (optional dependencies: they download libtensorflow at install time, which fails offline),
 * else the WASM backend that always installs.
 */
export type TrainingBackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm';

export interface TrainingBackendInfo {
  name: TrainingBackendName;
  /** Why the faster options were not used, for `neurmap info` and the about panel. */
  notes: string[];
}

const nativeCandidates: Array<{ pkg: string; name: TrainingBackendName }> = [
  { pkg: '@tensorflow/tfjs-node-gpu', name: 'tensorflow-gpu' },
  { pkg: '@tensorflow/tfjs-node', name: 'tensorflow' },
];

let detected: Promise<TrainingBackendInfo> | null = null;

export function detectTrainingBackend(): Promise<TrainingBackendInfo> {
  detected ??= (async () => {
    const notes: string[] = [];
    for (const { pkg, name } of nativeCandidates) {
      try {
        await import(pkg);
        return { name, notes };
      } catch (err) {
        notes.push(`${pkg} ${(err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' ? 'not installed' : `failed to load (${firstLine(err)})`}`);
      }
    }
    return { name: 'wasm', notes };
  })();
  return detected;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].slice(0, 160);
}
