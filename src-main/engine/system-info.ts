import os from 'node:os';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { availableProviders, defaultProviderOrder, defaultThreads, PROVIDER_LABELS } from './infer/providers.ts';
import { installedLearnedParts } from './jobs/learned-parts.ts';
import { detectTrainingBackend, type TrainingBackendInfo } from './training-backend.ts';

const require = createRequire(import.meta.url);

export interface EngineInfo {
  app: string;
  versions: Record<string, string>;
  /** Providers this onnxruntime-node build offers, and the order the engine tries them in here. */
  executionProviders: { available: string[]; tryOrder: string[] };
  trainingBackend: TrainingBackendInfo;
  /** The MAP core's learned parts installed beside the networks. */
  learnedParts: { prior: boolean; refiner: boolean };
  threads: number;
  platform: string;
}

/** Versions and capabilities, for `neurmap info` and the app's about panel. */
export async function engineInfo(): Promise<EngineInfo> {
  const pkg = require('../../package.json') as { version: string };
  return {
    app: pkg.version,
    versions: {
      node: process.versions.node,
      onnxruntime: (require('onnxruntime-node/package.json') as { version: string }).version,
      sharp: sharp.versions.sharp ?? '',
      libvips: sharp.versions.vips,
      tfjs: (require('@tensorflow/tfjs/package.json') as { version: string }).version,
      ...(process.versions.electron ? { electron: process.versions.electron } : {}),
    },
    executionProviders: {
      available: availableProviders().map((p) => p.name),
      tryOrder: defaultProviderOrder().map((p) => PROVIDER_LABELS[p]),
    },
    trainingBackend: await detectTrainingBackend(),
    learnedParts: installedLearnedParts(),
    threads: defaultThreads(),
    platform: `${process.platform}-${process.arch} (${os.cpus()[0]?.model ?? 'unknown CPU'})`,
  };
}
