/**
 * The one way every deblur path gets its compute from the user's Settings: ONNX sessions for the networks (the
 * execution provider and intra-op threads chosen in Settings) and the worker-thread count for the MAP core. The
 * Studio's deblur, its batch, the CLI and the tools all go through a provider, and every session comes from
 * session.ts's one cache, keyed by the same options, so no path opens a second session with other settings.
 */
import { closeSessions, openSession, type ModelSession, type SessionRole } from './session.ts';
import { defaultThreads, isProviderName, type ProviderName } from './providers.ts';

/** What Settings say about compute: 'auto' tries the platform's providers in order; threads 0 means all cores. */
export interface ComputeChoice {
  executionProvider: 'auto' | ProviderName | string;
  threads: number;
}

/** One use of the provider, as it was resolved (newest last in `uses`). */
export type SessionUse =
  | { kind: 'network'; file: string; role: SessionRole; provider: ProviderName; threads: number }
  | { kind: 'map'; provider: 'cpu'; threads: number };

const AUTO: ComputeChoice = { executionProvider: 'auto', threads: 0 };
const USES_KEPT = 32;

export class SessionProvider {
  private readonly recent: SessionUse[] = [];

  /** `choice` is read on every use, so a change in Settings applies to the next session opened. */
  constructor(private readonly choice: () => ComputeChoice | Promise<ComputeChoice> = () => AUTO) {}

  /** The session for a model file, opened (or reused) with the provider order and threads Settings choose. */
  async open(file: string, role: SessionRole): Promise<ModelSession> {
    const c = await this.choice();
    const providers = c.executionProvider !== 'auto' && isProviderName(c.executionProvider) ? [c.executionProvider] : undefined;
    const session = await openSession(file, { role, providers, threads: c.threads || undefined });
    this.remember({ kind: 'network', file: session.file, role, provider: session.provider, threads: session.threads });
    return session;
  }

  /** Worker threads for one run of the MAP core (0: all cores, as the deconvolution pool reads it). */
  async mapThreads(): Promise<number> {
    const { threads } = await this.choice();
    this.remember({ kind: 'map', provider: 'cpu', threads: threads > 0 ? threads : defaultThreads() });
    return threads;
  }

  /** The latest uses, oldest first (systemInfo and tests read what a run really used). */
  get uses(): readonly SessionUse[] {
    return this.recent;
  }

  /** Closes every open session; the next use opens fresh ones with the Settings of that moment. */
  close(): Promise<void> {
    return closeSessions();
  }

  private remember(use: SessionUse): void {
    this.recent.push(use);
    if (this.recent.length > USES_KEPT) this.recent.splice(0, this.recent.length - USES_KEPT);
  }
}
