/**
 * Training bench: NeurMAP iterations per second at batch 4 (2 paired + 2 unpaired) of 128×128 crops, with the
 * networks "adapt to my photos" trains — the shipped refiner as G (models/refiner.onnx, reading [MAP result, photo])
 * and M (models/motion.onnx) — and a fresh PatchGAN D, in this thread and on 1 and 2 data-parallel worker threads. Where a model file is missing, an untrained stand-in of the same architecture
 * and size (standin-models.ts) is used instead, and the table says so.
 *
 *   node --import tsx tools/bench/training.ts [--g FILE] [--m FILE] [--crop 128]
 *        [--iterations 4] [--warmup 1] [--workers 0,1,2] [--backend auto|wasm|cpu|native] [--d-channels 32]
 *
 * (0 workers = in-process.) A table, not a timed test: the numbers depend on the machine and its load.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseTrainingConfig, type TrainingConfig } from '../../src-main/engine/neurmap/config.ts';
import type { TrainingEngine } from '../../src-main/engine/neurmap/engine.ts';
import { LocalEngine } from '../../src-main/engine/neurmap/engine.ts';
import { SharpMotionPool } from '../../src-main/engine/neurmap/losses.ts';
import { buildNetwork, onnxNetworkSpec, patchGanSpec, type NetworkSpec, type NetworkSpecs } from '../../src-main/engine/neurmap/network-spec.ts';
import { standInNetworkSpec } from './standin-models.ts';
import { WorkerEngine } from '../../src-main/engine/neurmap/parallel.ts';
import { useTrainingBackend, type BackendChoice } from '../../src-main/engine/neurmap/tf-backend.ts';
import { learningRates } from '../../src-main/engine/neurmap/trainer.ts';
import { emptyBatch, type TrainingBatch } from '../../src-main/engine/neurmap/batch.ts';
import { blurWithOffsets, linearOffsetField } from '../../src-main/engine/synth/index.ts';
import { slotRng } from '../../src-main/engine/neurmap/data.ts';
import { IN_APP_PATCHGAN } from '../../src-main/engine/graph/patchgan.ts';
import { loadTrainableNetwork } from '../../src-main/engine/graph/interpreter.ts';

export interface TrainingBenchOptions {
  gModel?: string;
  mModel?: string;
  crop?: number;
  iterations?: number;
  warmup?: number;
  /** Worker counts to measure; 0 = in this thread. */
  workers?: number[];
  backend?: BackendChoice;
  /** D's first-layer width (default: the in-app D's). */
  discriminatorChannels?: number;
  log?: (line: string) => void;
}

export interface TrainingBenchRow {
  compute: string;
  workers: number;
  secondsPerIteration: number;
  iterationsPerSecond: number;
}

export interface TrainingBenchResult {
  rows: TrainingBenchRow[];
  backend: string;
  networks: Record<'G' | 'M' | 'D', string>;
  crop: number;
  batch: string;
}

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export async function benchTraining(opts: TrainingBenchOptions = {}): Promise<TrainingBenchResult> {
  const crop = opts.crop ?? 128;
  const iterations = opts.iterations ?? 4;
  const warmup = opts.warmup ?? 1;
  const workerCounts = opts.workers ?? [0, 1, 2];
  const log = opts.log ?? (() => undefined);
  const backend = await useTrainingBackend(opts.backend ?? 'auto');
  log(`backend: ${backend.reason}`);

  const pick = (file: string, role: 'G' | 'M'): { spec: NetworkSpec; label: string } => {
    if (fs.existsSync(file)) return { spec: onnxNetworkSpec(file, role === 'G' ? 'refine' : 'motion'), label: path.relative(process.cwd(), file) || file };
    const kind = role === 'G' ? 'g-fast' : 'm';
    return { spec: standInNetworkSpec(kind, role === 'G' ? 1 : 2), label: `stand-in ${kind} (untrained; ${path.relative(process.cwd(), file) || file} not found)` };
  };
  const gFile = opts.gModel ?? path.join(REPO, 'models/refiner.onnx');
  const g = pick(gFile, 'G');
  const guided = fs.existsSync(gFile) && readsGuide(gFile);
  const m = pick(opts.mModel ?? path.join(REPO, 'models/motion.onnx'), 'M');
  const dChannels = opts.discriminatorChannels ?? IN_APP_PATCHGAN.baseChannels ?? 64;
  const specs: NetworkSpecs = { G: g.spec, M: m.spec, D: patchGanSpec({ ...IN_APP_PATCHGAN, baseChannels: dChannels, seed: 3 }) };
  const config = parseTrainingConfig({ cropSize: crop, iterations: 1000, seed: 1 });
  const batches = Array.from({ length: warmup + iterations }, (_, i) => syntheticBatch(i, config, guided));

  const rows: TrainingBenchRow[] = [];
  const params: Record<string, number> = {};
  for (const n of workerCounts) {
    let engine: TrainingEngine;
    let owned: Array<{ dispose(): void }> = [];
    if (n === 0) {
      const nets = { G: await buildNetwork(specs.G), M: await buildNetwork(specs.M!), D: await buildNetwork(specs.D) };
      for (const [k, v] of Object.entries(nets)) params[k] = v.variables.reduce((s, x) => s + x.size, 0);
      owned = [nets.G, nets.M, nets.D];
      engine = new LocalEngine(nets, config, backend.name);
    } else {
      engine = await WorkerEngine.create({ workers: n, networks: specs, config, backend: opts.backend ?? 'auto' });
    }
    try {
      const pool = new SharpMotionPool(config.sharpPoolSize);
      let t0 = 0;
      for (let i = 0; i < batches.length; i++) {
        if (i === warmup) {
          t0 = performance.now();
          if (engine instanceof WorkerEngine) engine.resetStats();
        }
        await engine.iterate(batches[i], learningRates(config, i), pool);
      }
      const s = (performance.now() - t0) / 1000 / iterations;
      rows.push({ compute: n === 0 ? 'in-process' : `${n} worker${n > 1 ? 's' : ''}`, workers: n, secondsPerIteration: s, iterationsPerSecond: 1 / s });
      const st = engine instanceof WorkerEngine ? engine.stats() : null;
      log(`${rows[rows.length - 1].compute}: ${s.toFixed(2)} s/iteration${st ? ` (slowest worker busy ${(st.computeMs / st.iterations / 1000).toFixed(2)} s, coordination ${(st.overheadMs / st.iterations / 1000).toFixed(2)} s)` : ''}`);
    } finally {
      await engine.dispose();
      for (const o of owned) o.dispose();
    }
  }
  const mp = (k: string) => (params[k] ? ` (${(params[k] / 1e6).toFixed(2)} M parameters)` : '');
  return {
    rows,
    backend: backend.reason,
    networks: { G: g.label + mp('G'), M: m.label + mp('M'), D: `fresh PatchGAN ${dChannels}-${2 * dChannels}-${4 * dChannels}${mp('D')}` },
    crop,
    batch: `${config.batch.paired + config.batch.unpaired} (${config.batch.paired} paired + ${config.batch.unpaired} unpaired)`,
  };
}

export function formatTrainingBench(r: TrainingBenchResult): string {
  const base = r.rows[0]?.iterationsPerSecond ?? 1;
  const lines = [
    `NeurMAP training: batch ${r.batch}, ${r.crop}×${r.crop} crops`,
    `backend: ${r.backend}`,
    `G: ${r.networks.G}`,
    `M: ${r.networks.M}`,
    `D: ${r.networks.D}`,
    '',
    '| compute      | s / iteration | iterations / s | vs first row |',
    '|--------------|---------------|----------------|--------------|',
    ...r.rows.map(
      (row) =>
        `| ${row.compute.padEnd(12)} | ${row.secondsPerIteration.toFixed(2).padStart(13)} | ${row.iterationsPerSecond.toFixed(3).padStart(14)} | ${(row.iterationsPerSecond / base).toFixed(2).padStart(11)}× |`,
    ),
  ];
  return lines.join('\n');
}

/** Whether a G file is a refiner (6 input channels: the MAP result beside the photo). */
function readsGuide(file: string): boolean {
  const net = loadTrainableNetwork(file, 'G');
  net.dispose();
  return net.inputChannels === 6;
}

/**
 * A batch of smooth random images with constant linear blur (synth's blur model): content does not matter for
 * timing, so a refiner's guides are the blurry crops themselves.
 */
function syntheticBatch(iteration: number, cfg: TrainingConfig, guided: boolean): TrainingBatch {
  const c = cfg.cropSize;
  const { paired: P, unpaired: U } = cfg.batch;
  const per = 3 * c * c;
  const image = (slot: number) => {
    const rng = slotRng(cfg.seed, iteration, slot);
    const data = new Float32Array(per);
    const [fx, fy, ph] = [rng.uniform(0.05, 0.3), rng.uniform(0.05, 0.3), rng.uniform(0, 6)];
    for (let ch = 0; ch < 3; ch++) for (let i = 0; i < c * c; i++) data[ch * c * c + i] = 0.5 + 0.4 * Math.sin(fx * (i % c) + fy * Math.floor(i / c) + ph + ch);
    return { width: c, height: c, data };
  };
  const blur = (img: ReturnType<typeof image>, slot: number) => {
    const rng = slotRng(cfg.seed, iteration, 500 + slot);
    const n = c * c;
    return blurWithOffsets(img, linearOffsetField(c, c, new Float32Array(n).fill(rng.uniform(-8, 8)), new Float32Array(n).fill(rng.uniform(0, 8)), 15)).data;
  };
  const b = emptyBatch(iteration, c, P, U);
  for (let i = 0; i < P; i++) {
    const s = image(i);
    b.pairedSharp.set(s.data, i * per);
    b.pairedBlurry.set(blur(s, i), i * per);
  }
  for (let i = 0; i < U; i++) {
    b.unpairedBlurry.set(blur(image(100 + i), 100 + i), i * per);
    b.unpairedSharp.set(image(200 + i).data, i * per);
  }
  if (guided) b.guides = { paired: b.pairedBlurry.slice(), unpaired: b.unpairedBlurry.slice() };
  return b;
}

function parseArgs(argv: string[]): TrainingBenchOptions {
  const o: TrainingBenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = [argv[i], argv[i + 1]];
    const next = () => {
      i++;
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === '--g') o.gModel = path.resolve(next());
    else if (k === '--m') o.mModel = path.resolve(next());
    else if (k === '--crop') o.crop = Number(next());
    else if (k === '--iterations') o.iterations = Number(next());
    else if (k === '--warmup') o.warmup = Number(next());
    else if (k === '--workers') o.workers = next().split(',').map(Number);
    else if (k === '--backend') o.backend = next() as BackendChoice;
    else if (k === '--d-channels') o.discriminatorChannels = Number(next());
    else throw new Error(`unknown option ${k}`);
  }
  return o;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const opts = parseArgs(process.argv.slice(2));
  benchTraining({ ...opts, log: (l) => console.error(l) })
    .then((r) => {
      console.log(formatTrainingBench(r));
      process.exit(0);
    })
    .catch((err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
