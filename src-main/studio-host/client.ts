/**
 * The shell's side of the engine host: a StudioService whose every call travels to the host process (see
 * protocol.ts). The host starts on first use; if it dies, pending calls fail with one clear line, running jobs
 * get a final 'failed' event (batches and adaptations resume from their manifests and checkpoints), and the next
 * call starts a fresh host.
 */
import type { Asset, JobEvent, StudioApi } from '../../src-shared/contract/types.ts';
import { CallError } from '../../src-shared/contract/errors.ts';
import { STUDIO_METHODS, type StudioMethod } from '../../src-shared/contract/methods.ts';
import type { FromHost, HostSettings, StudioService, ToHost } from './protocol.ts';

/** A started host process, whatever started it (Electron's utilityProcess, Node's child_process.fork). */
export interface HostProcess {
  post(message: ToHost): void;
  onMessage(cb: (message: FromHost) => void): void;
  onExit(cb: (description: string) => void): void;
  kill(): void;
}

export interface HostedStudioOptions {
  spawn: () => HostProcess;
  settings: HostSettings;
  /** How long dispose waits for the host to let go of its workers and files. */
  disposeTimeoutMs?: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  what: string;
  /** The host the call went to (an old host's exit must not fail a call sent to its successor). */
  proc: HostProcess;
}

interface Running {
  proc: HostProcess;
  ready: Promise<void>;
  exited: Promise<void>;
}

export type HostedStudio = StudioService & {
  /** Starts the host now (rather than on the first call) and waits until its Studio is up. */
  ready(): Promise<void>;
  dispose(): Promise<void>;
  /** The host process now running, if any (tests use it to simulate a crash). */
  readonly process: HostProcess | null;
};

export function createHostedStudio(options: HostedStudioOptions): HostedStudio {
  const pending = new Map<number, Pending>();
  const listeners = new Set<(e: JobEvent) => void>();
  const runningJobs = new Map<string, JobEvent>();
  let nextId = 1;
  let host: Running | null = null;
  let disposed = false;

  function emit(event: JobEvent): void {
    if (event.state === 'running') runningJobs.set(event.jobId, event);
    else runningJobs.delete(event.jobId);
    for (const cb of listeners) cb(event);
  }

  function failAll(proc: HostProcess, description: string): void {
    const line = `the engine process stopped unexpectedly (${description})`;
    for (const [id, p] of pending) {
      if (p.proc !== proc) continue;
      pending.delete(id);
      p.reject(new CallError('engine-stopped', `${p.what}: ${line}; try again`));
    }
    for (const event of [...runningJobs.values()]) {
      emit({ ...event, state: 'failed', etaSeconds: null, message: `${line}; start the job again to resume it` });
    }
  }

  function startHost(): Running {
    const proc = options.spawn();
    let settle: { resolve: () => void; reject: (e: Error) => void } = { resolve: () => {}, reject: () => {} };
    const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    ready.catch(() => {});
    let exitedResolve = () => {};
    const exited = new Promise<void>((resolve) => (exitedResolve = resolve));
    proc.onMessage((msg) => {
      switch (msg.type) {
        case 'ready':
          settle.resolve();
          return;
        case 'init-failed':
          // The next call tries a fresh host (the cause, e.g. a full disk, may be gone by then).
          settle.reject(new CallError('engine-error', `the engine could not start: ${msg.message}`));
          if (host?.proc === proc) host = null;
          proc.kill();
          return;
        case 'job-event':
          emit(msg.event);
          return;
        case 'reply': {
          const p = pending.get(msg.id);
          if (!p) return;
          pending.delete(msg.id);
          if (msg.ok) p.resolve(msg.value);
          else p.reject(CallError.fromEnvelope(msg.error)); // the same code and message as if the Studio ran here
          return;
        }
        case 'disposed':
          return;
      }
    });
    proc.onExit((description) => {
      exitedResolve();
      settle.reject(new CallError('engine-stopped', `the engine process stopped while starting (${description})`));
      if (host?.proc === proc) host = null;
      if (!disposed) failAll(proc, description);
    });
    proc.post({ type: 'init', settings: options.settings });
    return { proc, ready, exited };
  }

  /** The running host, started if need be, once its Studio is up. */
  async function startedHost(what: string): Promise<HostProcess> {
    if (disposed) throw new CallError('unavailable', `${what}the engine has been shut down`);
    host ??= startHost();
    const { proc, ready } = host;
    await ready;
    return proc;
  }

  async function request(what: string, message: (id: number) => ToHost): Promise<unknown> {
    const proc = await startedHost(`${what}: `);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, what, proc });
      proc.post(message(id));
    });
  }

  const api = Object.fromEntries(
    STUDIO_METHODS.map((method: StudioMethod) => [method, (...args: unknown[]) => request(method, (id) => ({ type: 'call', id, method, args }))]),
  ) as unknown as Omit<StudioApi, 'onJobEvent'>;

  return {
    ...api,
    onJobEvent(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    readAsset: (assetPath: string) => request('readAsset', (id) => ({ type: 'read-asset', id, assetPath })) as Promise<Asset | null>,
    async ready() {
      await startedHost('');
    },
    get process() {
      return host?.proc ?? null;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      const running = host;
      if (!running) return;
      running.proc.post({ type: 'dispose' });
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), options.disposeTimeoutMs ?? 10_000).unref());
      if ((await Promise.race([running.exited, timeout])) === 'timeout') running.proc.kill();
      for (const [id, p] of pending) {
        pending.delete(id);
        p.reject(new CallError('unavailable', `${p.what}: the engine has been shut down`));
      }
    },
  };
}
