/**
 * The one way every deblur path gets its compute from the user's Settings: ONNX sessions for the networks (the
 * execution provider and intra-op threads chosen in Settings) and the MAP core's worker threads. The Studio's
 * deblur, its batch, the CLI and the tools all go through a provider, and every session comes from session.ts's one
 * cache, keyed by the same options, so no path opens a second session with other settings. The MAP core's threads
 * stay warm from one run to the next (a photo after the first starts at once, its code already compiled).
 */
import { MapThreads } from '../map/map-threads.ts';
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
  private pool: MapThreads | null = null;
  private poolThreads = -1;

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

  /**
   * The MAP core's worker threads for one run, as Settings choose: kept warm between runs, started again after a
   * cancel closed them or when Settings change their number; null for one thread (runs then use the calling thread).
   */
  async mapPool(): Promise<MapThreads | null> {
    const { threads } = await this.choice();
    const n = threads > 0 ? threads : defaultThreads();
    this.remember({ kind: 'map', provider: 'cpu', threads: n });
    if (this.pool && (this.pool.closed || this.poolThreads !== n)) {
      this.pool.retire(); // a run still on them finishes first
      this.pool = null;
    }
    if (!this.pool && n > 1) {
      const pool = new MapThreads(n);
      // no worker module beside the MAP core (inside a bundle): its tasks would run in this thread anyway
      if (pool.runsHere) await pool.close();
      else {
        this.pool = pool;
        this.poolThreads = n;
      }
    }
    return this.pool;
  }

  /** The latest uses, oldest first (systemInfo and tests read what a run really used). */
  get uses(): readonly SessionUse[] {
    return this.recent;
  }

  /**
   * Closes every open session and lets the MAP core's threads go (they stop once a run still on them ends); the next
   * use opens fresh ones with the Settings of that moment.
   */
  async close(): Promise<void> {
    this.pool?.retire();
    this.pool = null;
    await closeSessions();
  }

  private remember(use: SessionUse): void {
    this.recent.push(use);
    if (this.recent.length > USES_KEPT) this.recent.splice(0, this.recent.length - USES_KEPT);
  }
}
