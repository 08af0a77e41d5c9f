/**
 * Messages between a shell (Electron main, the local bridge) and the engine host: the process that runs the
 * Studio so that decoding, strength rendering and training never block the shell. Every message is plain data
 * (structured clone: Electron's utility-process port and Node's "advanced" IPC serialization both carry it).
 */
import type { AssetUrlForm } from '../ipc/asset-url.ts';
import type { Asset, ErrorEnvelope, JobEvent, StudioApi } from '../../src-shared/contract/types.ts';
import type { StudioMethod } from '../../src-shared/contract/methods.ts';

/** What a shell holds of the engine: the API, plus the bytes behind the asset URLs the Studio handed out (null for any other). */
export type StudioService = StudioApi & {
  readAsset(assetPath: string): Asset | null | Promise<Asset | null>;
};

export interface HostSettings {
  userDataDir: string;
  modelsDir: string;
  assetUrl: AssetUrlForm;
}

export type ToHost =
  | { type: 'init'; settings: HostSettings }
  | { type: 'call'; id: number; method: StudioMethod; args: unknown[] }
  | { type: 'read-asset'; id: number; assetPath: string }
  | { type: 'dispose' };

export type FromHost =
  | { type: 'ready' }
  | { type: 'init-failed'; message: string }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: ErrorEnvelope }
  | { type: 'job-event'; event: JobEvent }
  | { type: 'disposed' };

export type AssetReply = Asset | null;

/** One end of a message channel. */
export interface MessageLink<In, Out> {
  post(message: Out): void;
  onMessage(cb: (message: In) => void): void;
}
