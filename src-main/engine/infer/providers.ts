/**
 * Execution providers: which ones this onnxruntime-node build offers, and the order they are tried in.
 * CUDA (Linux/Windows) → DirectML (Windows) → CoreML (macOS) → CPU. A provider that fails to load is skipped
 * (session.ts records why) and the next one is tried; CPU always closes the list.
 */
import os from 'node:os';
import { createRequire } from 'node:module';

export type ProviderName = 'cuda' | 'dml' | 'coreml' | 'cpu';

export const PROVIDER_LABELS: Record<ProviderName, string> = {
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'CoreML',
  cpu: 'CPU',
};

export interface ProviderInfo {
  /** onnxruntime-node's backend name ('cpu', 'cuda', 'dml', 'coreml', 'webgpu', 'tensorrt', …). */
  name: string;
  /** Its libraries ship with onnxruntime-node; false (e.g. CUDA on Linux) means they must be installed separately. */
  bundled: boolean;
  /** It is one of the providers the engine tries on this platform. */
  used: boolean;
}

/** Where ORT's native package lives (resolved here so the inference worker can require it by path). */
export const ORT_PATH: string = createRequire(import.meta.url).resolve('onnxruntime-node');

let cachedBackends: { name: string; bundled: boolean }[] | null = null;

function supportedBackends(): { name: string; bundled: boolean }[] {
  if (!cachedBackends) {
    try {
      const ort = createRequire(import.meta.url)('onnxruntime-node') as { listSupportedBackends?: () => { name: string; bundled: boolean }[] };
      cachedBackends = ort.listSupportedBackends ? ort.listSupportedBackends() : [{ name: 'cpu', bundled: true }];
    } catch {
      cachedBackends = [];
    }
  }
  return cachedBackends;
}

/** The order providers are tried in on `platform`. */
export function defaultProviderOrder(platform: NodeJS.Platform = process.platform): ProviderName[] {
  switch (platform) {
    case 'win32': return ['cuda', 'dml', 'cpu'];
    case 'darwin': return ['coreml', 'cpu'];
    default: return ['cuda', 'cpu'];
  }
}

/** The execution providers this onnxruntime-node build lists for this machine (ort.listSupportedBackends()). */
export function availableProviders(): ProviderInfo[] {
  const order = defaultProviderOrder();
  return supportedBackends().map((b) => ({ name: b.name, bundled: b.bundled, used: (order as string[]).includes(b.name) }));
}

/** Why a provider will not even be tried here, or null when it may be. */
export function providerUnavailableReason(p: ProviderName): string | null {
  if (p === 'cpu') return null;
  const hit = supportedBackends().find((b) => b.name === p);
  if (!hit) return `${PROVIDER_LABELS[p]} is not part of onnxruntime-node on ${process.platform}-${process.arch}`;
  return null;
}

/** A hint appended to a provider's load error. */
export function providerHint(p: ProviderName): string {
  const hit = supportedBackends().find((b) => b.name === p);
  if (p === 'cuda' && hit && !hit.bundled) return ' (CUDA provider libraries are not installed: see the README, GPU section)';
  return '';
}

/** Intra-op threads for ONNX Runtime: every core the machine offers to this process. */
export function defaultThreads(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

export function isProviderName(s: string): s is ProviderName {
  return s === 'cuda' || s === 'dml' || s === 'coreml' || s === 'cpu';
}
