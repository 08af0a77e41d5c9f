import type { TrainingBatch } from './batch.ts';
import type { TrainingConfig } from './config.ts';
import type { SharpMotionPool } from './losses.ts';
import { flattenTensors } from './tensor-ops.ts';
import { IterationCore, type CoreState, type LossValues, type NeurmapNetworks, type NetworkRole } from './iteration.ts';

export interface IterationOutput {
  losses: LossValues;
  /** The gradient each network was updated with (averaged over workers), all its variables flattened in order, when asked for. */
  gradients?: Partial<Record<NetworkRole, Float32Array>>;
}

/**
 * Where the iterations run: in this thread (LocalEngine) or on data-parallel worker threads (parallel.ts's
 * WorkerEngine). Both run the same IterationCore and give the same results up to float rounding.
 */
export interface TrainingEngine {
  /** The networks being trained ('M' absent in the GAN-only ablation). */
  readonly roles: NetworkRole[];
  readonly networkNames: Partial<Record<NetworkRole, string>>;
  /** A line for logs: where it runs, on which backend. */
  readonly description: string;
  iterate(batch: TrainingBatch, lr: Record<NetworkRole, number>, pool: SharpMotionPool, opts?: { captureGradients?: boolean }): Promise<IterationOutput>;
  getState(): Promise<CoreState>;
  setState(state: CoreState): Promise<void>;
  /** A trained network written back into a copy of its ONNX graph (TrainableNetwork.toOnnx). */
  exportOnnx(role: NetworkRole): Promise<Uint8Array>;
  /** Releases what the engine created (optimizer state, workers); the caller's networks stay theirs. */
  dispose(): Promise<void>;
}

export class LocalEngine implements TrainingEngine {
  readonly roles: NetworkRole[];
  readonly networkNames: Partial<Record<NetworkRole, string>>;
  readonly description: string;
  private readonly core: IterationCore;

  constructor(nets: NeurmapNetworks, config: TrainingConfig, backendName = 'tfjs') {
    this.core = new IterationCore(nets, config);
    this.roles = this.core.roles();
    this.networkNames = Object.fromEntries(this.roles.map((r) => [r, this.core.network(r)!.name]));
    this.description = `in-process (${backendName})`;
  }

  async iterate(batch: TrainingBatch, lr: Record<NetworkRole, number>, pool: SharpMotionPool, opts: { captureGradients?: boolean } = {}): Promise<IterationOutput> {
    const gradients: Partial<Record<NetworkRole, Float32Array>> | undefined = opts.captureGradients ? {} : undefined;
    const losses = this.core.iterate(batch, lr, (role, r) => {
      if (gradients) gradients[role] = flattenTensors(r.grads);
      if (role !== 'M') return { grads: r.grads };
      pool.push(r.sharpMeans ?? []);
      return { grads: r.grads, poolMean: pool.mean() };
    });
    return { losses, gradients };
  }

  async getState(): Promise<CoreState> {
    return this.core.getState();
  }

  async setState(state: CoreState): Promise<void> {
    this.core.setState(state);
  }

  async exportOnnx(role: NetworkRole): Promise<Uint8Array> {
    const net = this.core.network(role);
    if (!net) throw new Error(`this run has no ${role} network`);
    return net.toOnnx();
  }

  async dispose(): Promise<void> {
    this.core.dispose();
  }
}

