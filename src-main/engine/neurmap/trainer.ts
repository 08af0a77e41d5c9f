import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BatchSource } from './batch.ts';
import { CheckpointCorruptError, loadCheckpoint, saveCheckpoint, type TrainingCheckpoint } from './checkpoint.ts';
import { learningRateFactor, parseTrainingConfig, type TrainingConfig, type TrainingConfigInput } from './config.ts';
import { LocalEngine, type TrainingEngine } from './engine.ts';
import type { LossValues, NeurmapNetworks, NetworkRole } from './iteration.ts';
import { SharpMotionPool } from './losses.ts';
import { ProgressMeter, TrainingLog, type TrainingProgress } from './training-log.ts';

export const CHECKPOINT_FILE = 'checkpoint.nmckpt';
export const LOG_FILE = 'losses.jsonl';

/** How the iterations are computed: in this thread with the given networks, or by an engine (e.g. WorkerEngine). */
export type ComputeChoice =
  | { kind: 'local'; networks: NeurmapNetworks; backendName?: string }
  | { kind: 'engine'; create: (config: TrainingConfig) => Promise<TrainingEngine> };

export interface TrainOptions {
  /** The run's configuration (any subset; the rest is the reference). On resume it may be left out: the checkpoint's is used. */
  config?: TrainingConfigInput;
  compute: ComputeChoice;
  data: BatchSource;
  /** Folder for checkpoint.nmckpt and losses.jsonl; without it nothing is written (tests, benches). */
  runDir?: string;
  /**
   * true (default): continue from the run folder's checkpoint when there is one, else start fresh.
   * false: start fresh, and refuse if the folder already holds a checkpoint (it is never written over).
   */
  resume?: boolean;
  /** Cancel between iterations; the run then saves a checkpoint of the last completed iteration and returns. */
  signal?: AbortSignal;
  onProgress?: (p: TrainingProgress) => void;
  /** Stop (as a cancel does) once the run has reached this many completed iterations, below config.iterations. */
  stopAtIteration?: number;
  /** Stop (as a cancel does) after the first iteration that ends this many seconds after the start (a time budget). */
  maxSeconds?: number;
  /** Called with the engine after the last iteration and checkpoint, before it is released: export the trained networks here (engine.exportOnnx). */
  finalize?: (engine: TrainingEngine, result: TrainResult) => Promise<void>;
  /** Kept in the checkpoint's meta (job name, inputs…). */
  meta?: Record<string, unknown>;
  /** Called once, before the first iteration, when the run continues the run folder's checkpoint. */
  onResume?: (iteration: number) => void;
  /** Called with every iteration's losses (tests). */
  onIteration?: (iteration: number, losses: LossValues) => void;
  /** Called with the engine every `every` completed iterations, between iterations (e.g. to score held-out photos). */
  probe?: { every: number; run: (engine: TrainingEngine, iteration: number) => Promise<void> };
}

export interface TrainResult {
  status: 'completed' | 'cancelled' | 'stopped';
  /** Iterations completed in total (including those before a resume). */
  iteration: number;
  resumedFrom: number | null;
  lastLosses: LossValues | null;
  checkpoint: string | null;
  config: TrainingConfig;
}

/** Raised when training produces a non-finite loss; the last checkpoint is kept as it was. */
export class TrainingDivergedError extends Error {
  constructor(iteration: number, losses: LossValues) {
    const bad = Object.entries(losses)
      .filter(([, v]) => !Number.isFinite(v))
      .map(([k]) => k);
    super(`training diverged at iteration ${iteration}: non-finite ${bad.join(', ')}; the last checkpoint is kept`);
    this.name = 'TrainingDivergedError';
  }
}

/** The learning rates of a 0-based iteration (reference: linear decay to 0). */
export function learningRates(cfg: TrainingConfig, iteration: number): Record<NetworkRole, number> {
  const f = learningRateFactor(cfg, iteration);
  return { G: cfg.optimizer.lr.G * f, M: cfg.optimizer.lr.M * f, D: cfg.optimizer.lr.D * f };
}

/**
 * Trains G, M and D with NeurMAP (NEURMAP.md), iteration after iteration: M, then D, then G (iteration.ts).
 * Checkpoints every `config.checkpointEvery` iterations, at the end, and on cancel; logs every iteration's losses
 * as JSON lines; reports progress (iterations/s, ETA) after each iteration.
 */
export async function trainNeurmap(opts: TrainOptions): Promise<TrainResult> {
  const ckptFile = opts.runDir ? path.join(opts.runDir, CHECKPOINT_FILE) : null;
  // Read (and verify) any existing checkpoint before anything is created or written.
  let ckpt: TrainingCheckpoint | null = null;
  if (ckptFile) {
    ckpt = await loadCheckpoint(ckptFile);
    if (ckpt && opts.resume === false) {
      throw new Error(`${ckptFile} already holds a checkpoint (iteration ${ckpt.iteration}); resume it or choose another run folder — it is not written over`);
    }
  }
  let cfg: TrainingConfig;
  if (ckpt) {
    const stored = parseTrainingConfig(ckpt.config);
    cfg = opts.config === undefined ? stored : parseTrainingConfig(opts.config);
    const diff = configDifferences(stored, cfg);
    if (diff.length > 0) {
      throw new Error(`the run folder's checkpoint was made with another configuration (${diff.join(', ')}); resume with the same one or start a new run folder`);
    }
  } else {
    cfg = parseTrainingConfig(opts.config ?? {});
  }

  const engine = opts.compute.kind === 'local' ? new LocalEngine(opts.compute.networks, cfg, opts.compute.backendName ?? tf.getBackend()) : await opts.compute.create(cfg);
  try {
    let start = 0;
    let pool = new SharpMotionPool(cfg.sharpPoolSize);
    if (ckpt) {
      for (const role of engine.roles) {
        const saved = ckpt.networkNames[role];
        if (saved !== undefined && saved !== engine.networkNames[role]) {
          throw new Error(`the checkpoint's ${role} is "${saved}", this run's is "${engine.networkNames[role]}"`);
        }
      }
      await engine.setState(ckpt.state);
      pool = SharpMotionPool.fromJSON(ckpt.sharpPool);
      start = ckpt.iteration;
      opts.onResume?.(start);
    }
    if (opts.runDir) await fs.mkdir(opts.runDir, { recursive: true });
    const log = opts.runDir ? await TrainingLog.open(path.join(opts.runDir, LOG_FILE), start) : null;

    const end = Math.min(cfg.iterations, opts.stopAtIteration ?? cfg.iterations);
    const meter = new ProgressMeter(start, cfg.iterations);
    const startedAt = performance.now();
    let lastSaved = ckpt ? start : -1;
    let lastLosses: LossValues | null = null;
    let done = start;
    const save = async () => {
      if (!ckptFile || lastSaved === done) return;
      const state = await engine.getState();
      try {
        await saveCheckpoint(ckptFile, {
        iteration: done,
        config: cfg,
        rng: { seed: cfg.seed, nextIteration: done },
        sharpPool: pool.toJSON(),
          networkNames: engine.networkNames,
          state,
          meta: opts.meta,
        });
      } catch (err) {
        const previous = lastSaved >= 0 ? `the previous checkpoint (iteration ${lastSaved}) is intact` : 'no checkpoint was written';
        throw new Error(`could not write the checkpoint ${ckptFile} (${(err as Error).message}); ${previous}`, { cause: err });
      }
      lastSaved = done;
    };

    const fetch = (i: number) => {
      const p = opts.data.batch(i);
      p.catch(() => undefined); // handled where awaited; avoid an unhandled rejection if the run stops first
      return p;
    };
    let next = start < end ? fetch(start) : null;
    let status: TrainResult['status'] = 'completed';
    for (let i = start; i < end; i++) {
      if (opts.signal?.aborted) {
        status = 'cancelled';
        break;
      }
      const t0 = performance.now();
      const batch = await next!;
      next = i + 1 < end ? fetch(i + 1) : null;
      if (batch.iteration !== i) throw new Error(`the data source returned the batch of iteration ${batch.iteration} for iteration ${i}`);
      const lr = learningRates(cfg, i);
      const { losses } = await engine.iterate(batch, lr, pool);
      if (Object.values(losses).some((v) => !Number.isFinite(v))) throw new TrainingDivergedError(i, losses);
      done = i + 1;
      lastLosses = losses;
      meter.tick();
      const lrUsed = Object.fromEntries(engine.roles.map((r) => [r, lr[r]]));
      await log?.append({ iteration: i, time: new Date().toISOString(), seconds: (performance.now() - t0) / 1000, lr: lrUsed, losses });
      opts.onIteration?.(i, losses);
      opts.onProgress?.(meter.snapshot(losses, lrUsed));
      if (done % cfg.checkpointEvery === 0) await save();
      if (opts.probe && done % opts.probe.every === 0) await opts.probe.run(engine, done);
      if (opts.maxSeconds !== undefined && (performance.now() - startedAt) / 1000 >= opts.maxSeconds) break;
    }
    if (status === 'completed' && done < cfg.iterations) status = opts.signal?.aborted ? 'cancelled' : 'stopped';
    await save();
    const result: TrainResult = { status, iteration: done, resumedFrom: ckpt ? ckpt.iteration : null, lastLosses, checkpoint: ckptFile && lastSaved >= 0 ? ckptFile : null, config: cfg };
    await opts.finalize?.(engine, result);
    return result;
  } finally {
    await engine.dispose();
    await opts.data.close?.();
  }
}

/** Keys whose values differ between two configurations, except those a resumed run may change. */
function configDifferences(a: TrainingConfig, b: TrainingConfig): string[] {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, key: string) => {
    if (key === 'iterations' || key === 'checkpointEvery') return;
    if (x !== null && y !== null && typeof x === 'object' && typeof y === 'object') {
      for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], key ? `${key}.${k}` : k);
    } else if (x !== y) {
      out.push(`${key}: ${JSON.stringify(x)} → ${JSON.stringify(y)}`);
    }
  };
  walk(a, b, '');
  return out;
}

export { CheckpointCorruptError };
