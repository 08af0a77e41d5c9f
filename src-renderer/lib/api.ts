/**
 * The one object the editor talks to: window.neurmap (Electron's preload) or the bridge client (a browser).
 * Both implement NeurmapApi plus two shell facts: which shell it is, and how dropped files become paths.
 */
import type { ShellApi } from '../../src-shared/contract/types.ts';
import { createBridgeApi } from './bridge-client.ts';
import { picker } from './picker.svelte.ts';

export type * from '../../src-shared/contract/types.ts';

declare global {
  interface Window {
    neurmap?: ShellApi;
  }
}

export function connectApi(): ShellApi {
  if (window.neurmap) return window.neurmap;
  const meta = document.querySelector<HTMLMetaElement>('meta[name="neurmap-token"]');
  const token = meta?.content ? decodeURIComponent(meta.content) : new URLSearchParams(location.search).get('token');
  if (!token) throw new Error('This page needs the address that `npm run serve` printed (it carries the access token).');
  return createBridgeApi({ token, baseUrl: '', picker });
}

/** A readable message for any error (engine errors already read like "photo.jpg: the file is truncated"). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.replace(/^Error invoking remote method '[^']+': (?:\w*Error: )?/, '');
  return String(err);
}

export function newJobId(kind: string): string {
  const rnd = typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : Math.random().toString(36).slice(2);
  return `${kind}-${rnd}`;
}
