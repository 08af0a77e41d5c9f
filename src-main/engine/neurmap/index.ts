/**
 * NeurMAP training engine (NEURMAP.md): the reblur module R, every loss, the three-step trainer (M, D, G) with
 * checkpoints, logs, progress and cancel, the streaming photo data, and data-parallel worker threads.
 */
export { reblur, reblurForward, reblurBackward, REBLUR_STEPS, REBLUR_MEAN_ABS_T } from './reblur.ts';
export * from './losses.ts';
export { stopGradient, canonicalMotion, motionMagnitude } from './tensor-ops.ts';
export * from './config.ts';
export { Adam, type AdamState, type AdamSettings } from './adam.ts';
export * from './batch.ts';
export {
  IterationCore,
  NETWORK_ROLES,
  type NeurmapNetworks,
  type NetworkRole,
  type LossValues,
  type PhaseResult,
  type PhaseExchange,
  type ExchangedGradients,
  type CoreState,
  type NetworkState,
} from './iteration.ts';
export { LocalEngine, type TrainingEngine, type IterationOutput } from './engine.ts';
export { WorkerEngine, workerCompute, type WorkerEngineOptions, type WorkerEngineStats } from './parallel.ts';
export * from './network-spec.ts';
export * from './checkpoint.ts';
export * from './training-log.ts';
export { trainNeurmap, learningRates, TrainingDivergedError, CHECKPOINT_FILE, LOG_FILE, type TrainOptions, type TrainResult, type ComputeChoice } from './trainer.ts';
export { PhotoBatchStream, DataError, slotRng, streamOptionsFromConfig, type PhotoLists, type PhotoStreamOptions, type SkippedPhoto } from './data.ts';
export { reblurConsistency, type ReblurConsistency } from './evaluate.ts';
export { useTrainingBackend, type BackendChoice, type BackendReport } from './tf-backend.ts';
export { createTinyNetwork, type TinyKind, type TinyNetworkOptions } from './tiny-networks.ts';
export { createStandInNetwork, standInModel, type StandInKind } from './standin-models.ts';
export { benchTraining, formatTrainingBench, type TrainingBenchOptions, type TrainingBenchResult } from './bench-training.ts';
