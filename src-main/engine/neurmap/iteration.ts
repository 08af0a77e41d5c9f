import * as tf from '@tensorflow/tfjs';
import type { TrainableNetwork } from '../graph/trainable-network.ts';
import { Adam, type AdamState } from './adam.ts';
import { batchSlice, canonicalMotion, stopGradient } from './tensor-ops.ts';
import { batchToTensors, disposeBatchTensors, type BatchTensors, type TrainingBatch } from './batch.ts';
import { effectiveSettings, type EffectiveSettings, type TrainingConfig } from './config.ts';
import {
  blurryMotionToUpperLimit,
  deblurredTowardBlurry,
  l1,
  lsgan,
  magnitudeOrder,
  msSsim,
  mse,
  offsetTotalVariation,
  sharpImagePrior,
  sharpMotionToZero,
  totalVariation,
} from './losses.ts';
import { reblur } from './reblur.ts';

/** The three networks of NEURMAP.md: G deblurs, M estimates motion (absent in the GAN-only ablation), D is the PatchGAN. */
export interface NeurmapNetworks {
  G: TrainableNetwork;
  M: TrainableNetwork | null;
  D: TrainableNetwork;
}

export type NetworkRole = 'G' | 'M' | 'D';
export const NETWORK_ROLES: readonly NetworkRole[] = ['G', 'M', 'D'];

export type LossValues = Record<string, number>;

/** One phase's result: gradients aligned with the updated network's variables, the loss values, and (M phase) the sharp maps' means. */
export interface PhaseResult {
  grads: tf.Tensor[];
  losses: LossValues;
  /** Per sharp image of the batch, in batch order ([S_p; S]), the mean |m(S)| per channel (for the pool). */
  sharpMeans?: Array<[number, number]>;
}

export interface NetworkState {
  shapes: number[][];
  weights: Float32Array[];
  adam: AdamState;
}

export type CoreState = Partial<Record<NetworkRole, NetworkState>>;

/**
 * What a phase's gradients become before they are applied: this process's own (in-process training) or the mean
 * over every worker's shard (data-parallel, flattened in variable order); after the M phase, also the sharp-map
 * pool's mean for G's sharp-image prior.
 */
export interface ExchangedGradients {
  grads: readonly tf.Tensor[] | Float32Array;
  poolMean?: [number, number];
}

/** Called once per phase, in order M (unless ablated), D, G, with this process's result; blocks until the gradients to apply are known. */
export type PhaseExchange = (role: NetworkRole, result: PhaseResult) => ExchangedGradients;

/**
 * The three-step NeurMAP iteration on one batch (or one worker's shard of it), so the same code serves the
 * in-process trainer and each data-parallel worker:
 *
 *   G(B)                   computed once, on the gradient tape of G's update
 *   motionPhase            ∇M of the M losses, G(B) detached;   exchange; M updated
 *   discriminatorPhase     ∇D of the LSGAN loss, G(B) detached; exchange; D updated
 *   generator losses       on the same G(B), through the updated M and D; ∇G; exchange; G updated
 *
 * G's weights do not change before its own step, so the one forward pass serves all three steps: M's and D's
 * updates run nested inside G's gradient computation, on a copy of G(B) that no tape links to G.
 *
 * Each phase differentiates only with respect to its own network's variables, so the stop-gradients of the method
 * hold by construction (M's update never touches G or D, D's never G or M, G's never M or D); within a phase the
 * explicit ones are: m(B) in "deblurred toward blurry" (M phase) and m_rel in G's reblur term (G phase).
 *
 * Which samples each term sees (as in the reference): M is trained on the whole batch (all blurry inputs B_p ∪ B,
 * all sharp S_p ∪ S, all of G's outputs); D on all of G's outputs against as many natural photos (S_p and B);
 * G's content loss uses the paired half, its reblur and sharp-image prior (and the optional TVs) the unpaired
 * half, its natural-image prior all of its outputs.
 */
export class IterationCore {
  readonly settings: EffectiveSettings;
  readonly optimizers: Partial<Record<NetworkRole, Adam>> = {};

  readonly nets: NeurmapNetworks;
  /** G refines the MAP core's result: it reads [guide, blurry] (6 channels), so every batch must carry guides. */
  readonly guided: boolean;

  constructor(
    nets: NeurmapNetworks,
    readonly config: TrainingConfig,
  ) {
    this.nets = { G: batchable(nets.G), M: nets.M && batchable(nets.M), D: batchable(nets.D) };
    this.guided = inputChannels(nets.G) === 6;
    this.settings = effectiveSettings(config);
    if (this.settings.useMotionNetwork && !nets.M) throw new Error('the motion network M is required unless ablations.noMotionNetwork is set');
    const crop = config.cropSize;
    for (const role of NETWORK_ROLES) {
      const net = this.network(role);
      if (!net) continue;
      if (crop % net.sizeMultiple !== 0) throw new Error(`crop size ${crop} is not a multiple of ${net.name}'s size multiple ${net.sizeMultiple}`);
      const { beta1, beta2, epsilon } = config.optimizer;
      this.optimizers[role] = new Adam(net.variables, { beta1, beta2, epsilon });
    }
    this.checkOutputShapes();
  }

  /** One forward pass of each network on a zero crop: a network with the wrong input or output shape is a clear error now, not a cryptic one mid-run. */
  private checkOutputShapes(): void {
    const c = this.config.cropSize;
    const expect: Record<NetworkRole, (s: number[]) => boolean> = {
      G: (s) => s.join() === [1, 3, c, c].join(),
      M: (s) => s.join() === [1, 2, c, c].join(),
      D: (s) => s.length === 4 && s[0] === 1,
    };
    const want: Record<NetworkRole, string> = { G: `[1, 3, ${c}, ${c}]`, M: `[1, 2, ${c}, ${c}]`, D: '[1, k, h, w]' };
    for (const role of this.roles()) {
      const net = this.network(role)!;
      const cin = role === 'G' ? inputChannels(net) : 3;
      let shape: number[];
      try {
        shape = tf.tidy(() => net.apply(tf.zeros([1, cin, c, c]) as tf.Tensor4D).shape);
      } catch (err) {
        throw new Error(`${role} (${net.name}) fails on a [1, ${cin}, ${c}, ${c}] input: ${(err as Error).message}`);
      }
      if (!expect[role](shape)) throw new Error(`${role} (${net.name}) outputs [${shape.join(', ')}] for a [1, ${cin}, ${c}, ${c}] input, expected ${want[role]}`);
    }
  }

  /** The networks this configuration trains (M is skipped in the GAN-only ablation). */
  roles(): NetworkRole[] {
    return NETWORK_ROLES.filter((r) => this.network(r) !== null);
  }

  network(role: NetworkRole): TrainableNetwork | null {
    if (role === 'M') return this.settings.useMotionNetwork ? this.nets.M : null;
    return this.nets[role];
  }

  /** One iteration on `b` (M, then D, then G, each updated with what `exchange` returns); the losses of this batch or shard. */
  iterate(b: TrainingBatch, lr: Record<NetworkRole, number>, exchange: PhaseExchange): LossValues {
    if (b.crop !== this.config.cropSize) throw new Error(`batch crop ${b.crop} differs from the configured crop size ${this.config.cropSize}`);
    if (Boolean(b.guides) !== this.guided) {
      throw new Error(this.guided ? `G (${this.nets.G.name}) refines the MAP result: batch ${b.iteration} carries no guides` : `batch ${b.iteration} carries guides, but G (${this.nets.G.name}) reads the photo alone`);
    }
    const t = batchToTensors(b);
    const losses: LossValues = {};
    const step = (role: NetworkRole, r: PhaseResult): [number, number] | undefined => {
      Object.assign(losses, r.losses);
      const { grads, poolMean } = exchange(role, r);
      this.applyGradients(role, grads, lr[role]);
      tf.dispose(r.grads);
      return poolMean;
    };
    // M's and D's steps run while G's tape records; nothing they record lies on a path from G's weights (they see
    // G(B) as a detached copy), so their records, and the tensors saved for them, are dropped at once instead of
    // being held until G's backward pass.
    const offGTape = <T>(f: () => T): T => {
      const tape = tf.engine().state.activeTape;
      const mark = tape.length;
      try {
        return f();
      } finally {
        for (const node of tape.splice(mark)) node.saved?.forEach((s) => s.dispose());
      }
    };
    try {
      const generatorLosses: LossValues = {};
      const { value, grads } = tf.variableGrads(() => {
        const out = this.nets.G.apply(t.generatorInput);
        const fake = stopGradient(out);
        const poolMean = this.network('M') ? offGTape(() => step('M', this.motionPhase(t, fake))) : undefined;
        offGTape(() => step('D', this.discriminatorPhase(t, fake)));
        return this.generatorLoss(b, t, out, poolMean ?? [0, 0], generatorLosses);
      }, this.nets.G.variables);
      value.dispose();
      step('G', { grads: this.nets.G.variables.map((v) => grads[v.name] ?? tf.zerosLike(v)), losses: generatorLosses });
      return losses;
    } finally {
      disposeBatchTensors(t);
    }
  }

  /** Step 1: ∇M with G's output detached (`fake`). */
  private motionPhase(t: BatchTensors, fake: tf.Tensor4D): PhaseResult {
    const M = this.network('M')!;
    const w = this.settings.motion;
    const nB = t.blurryAll.shape[0];
    const nS = t.sharpAll.shape[0];
    const names = ['sharpZero', 'blurryUpper', 'deblurredTowardBlurry', 'magnitudeOrder', 'offsetTv'];
    if (this.settings.useReblur) names.push('reblurMse', 'reblurMsSsim');
    names.push('total');
    let parts: tf.Tensor | null = null;
    let sharpMeans: tf.Tensor | null = null;
    const { grads } = this.gradients(M, () => {
      const m = canonicalMotion(M.apply(tf.concat([t.blurryAll, t.sharpAll, fake], 0)));
      const mB = batchSlice(m, 0, nB);
      const mS = batchSlice(m, nB, nS);
      const mF = batchSlice(m, nB + nS, nB);
      const mRel = tf.sub(mB, mF) as tf.Tensor4D;
      const v: tf.Scalar[] = [
        sharpMotionToZero(mS),
        blurryMotionToUpperLimit(mB),
        deblurredTowardBlurry(mF, stopGradient(mB)),
        magnitudeOrder(mF, mB),
        offsetTotalVariation(mRel),
      ];
      const ws = [w.sharpZero, w.blurryUpper, w.deblurredTowardBlurry, w.magnitudeOrder, w.offsetTv];
      if (this.settings.useReblur) {
        const r = reblur(fake, mRel);
        v.push(mse(r, t.blurryAll), tf.sub(1, msSsim(r, t.blurryAll)) as tf.Scalar);
        ws.push(w.reblurMse, w.reblurMsSsim);
      }
      const total = weightedSum(v, ws);
      parts = tf.keep(tf.stack([...v, total]));
      sharpMeans = tf.keep(tf.mean(tf.abs(mS), [2, 3]));
      return total;
    });
    const values = readAndDispose(parts!);
    const means = readAndDispose(sharpMeans!);
    const losses: LossValues = {};
    names.forEach((n, i) => (losses[`M.${n}`] = values[i]));
    const pairs: Array<[number, number]> = [];
    for (let i = 0; i < means.length; i += 2) pairs.push([means[i], means[i + 1]]);
    return { grads, losses, sharpMeans: pairs };
  }

  /**
   * Step 2: update D (LSGAN, real → 1, fake → 0) with G's outputs detached. Natural (reference): real = sharp and
   * blurry photos (naturalImages), fake = G(B) for every blurry input. Ablation sharpVsBlurryDiscriminator:
   * real = every sharp crop, fake = G(B) and the real blurry photos.
   */
  private discriminatorPhase(t: BatchTensors, fake: tf.Tensor4D): PhaseResult {
    const D = this.nets.D;
    const w = this.settings.discriminator;
    const natural = this.settings.discriminatorMode === 'natural';
    let parts: tf.Tensor | null = null;
    const { grads } = this.gradients(D, () => {
      const real = natural ? this.naturalImages(t) : t.sharpAll;
      const generated = natural ? fake : tf.concat([fake, t.unpairedBlurry ?? t.blurryAll], 0);
      const pred = D.apply(tf.concat([real, generated], 0));
      const nReal = real.shape[0];
      const lossReal = lsgan(batchSlice(pred, 0, nReal), true);
      const lossFake = lsgan(batchSlice(pred, nReal, generated.shape[0]), false);
      const total = weightedSum([lossReal, lossFake], [w.real, w.fake]);
      parts = tf.keep(tf.stack([lossReal, lossFake, total]));
      return total;
    });
    const values = readAndDispose(parts!);
    return { grads, losses: { 'D.real': values[0], 'D.fake': values[1], 'D.total': values[2] } };
  }

  /**
   * D's "natural" images, as many as G's outputs (the reference's real batch): the paired half's sharp crops and
   * the unpaired half's real blurry photos, so half sharp and half blurry, all genuine photos. A batch with only
   * one half uses that half's sharp and blurry images.
   */
  private naturalImages(t: BatchTensors): tf.Tensor4D {
    if (t.pairedSharp && t.unpairedBlurry) return tf.concat([t.pairedSharp, t.unpairedBlurry], 0);
    return tf.concat([t.sharpAll, t.blurryAll], 0);
  }

  /**
   * Step 3: G's total loss on its output `out` (taped by the caller), through the freshly updated M and D; each term's
   * value goes into `losses`. `sharpPoolMean` is the pool's mean |m(S)| after this batch's M phase.
   */
  private generatorLoss(b: TrainingBatch, t: BatchTensors, out: tf.Tensor4D, sharpPoolMean: readonly [number, number], losses: LossValues): tf.Scalar {
    const M = this.network('M');
    const D = this.nets.D;
    const w = this.settings.generator;
    const P = b.paired;
    const U = b.unpaired;
    const names: string[] = [];
    const v: tf.Scalar[] = [];
    const ws: number[] = [];
    const add = (name: string, value: tf.Scalar, weight: number) => {
      names.push(name);
      v.push(value);
      ws.push(weight);
    };
    if (P > 0) add('content', l1(batchSlice(out, 0, P), t.pairedSharp!), w.content);
    if (U > 0) {
      const outU = batchSlice(out, P, U);
      if (M) {
        const mFu = canonicalMotion(M.apply(outU));
        if (this.settings.useReblur) {
          // m(B) of the real blurry half with the updated M; no path to G's variables, so a constant for G.
          const mBu = canonicalMotion(M.apply(t.unpairedBlurry!));
          const mRel = tf.sub(mBu, stopGradient(mFu)) as tf.Tensor4D;
          const r = reblur(outU, mRel);
          const rm = mse(r, t.unpairedBlurry!);
          const rs = tf.sub(1, msSsim(r, t.unpairedBlurry!)) as tf.Scalar;
          add('reblurMse', rm, 0);
          add('reblurMsSsim', rs, 0);
          add('reblur', tf.add(rm, tf.mul(rs, w.reblurMsSsim)) as tf.Scalar, w.reblur);
        }
        add('sharpPrior', sharpImagePrior(mFu, sharpPoolMean), w.sharpPrior);
        add('motionTv', totalVariation(mFu), w.motionTv);
      }
      add('imageTv', totalVariation(outU), w.imageTv);
    }
    add('naturalPrior', lsgan(D.apply(out), true), w.naturalPrior);
    const total = weightedSum(v, ws);
    const values = readAndDispose(tf.stack([...v, total]));
    [...names, 'total'].forEach((n, i) => (losses[`G.${n}`] = values[i]));
    return total;
  }

  /** One Adam step of `role`'s network with gradients aligned with its variables (tensors, or flattened in variable order). */
  private applyGradients(role: NetworkRole, grads: readonly tf.Tensor[] | Float32Array, lr: number): void {
    const opt = this.optimizers[role];
    if (!opt) throw new Error(`no optimizer for ${role}`);
    if (!(grads instanceof Float32Array)) {
      opt.apply(grads, lr);
      return;
    }
    const vars = this.network(role)!.variables;
    const total = vars.reduce((s, v) => s + v.size, 0);
    if (grads.length !== total) throw new Error(`${role}: ${grads.length} gradient values for ${total} weights`);
    let o = 0;
    const tensors = vars.map((v) => tf.tensor(grads.subarray(o, (o += v.size)), v.shape));
    opt.apply(tensors, lr);
    tf.dispose(tensors);
  }

  getState(): CoreState {
    const s: CoreState = {};
    for (const role of this.roles()) {
      const net = this.network(role)!;
      s[role] = {
        shapes: net.variables.map((v) => v.shape.slice()),
        weights: net.variables.map((v) => (v.dataSync() as Float32Array).slice()),
        adam: this.optimizers[role]!.getState(),
      };
    }
    return s;
  }

  setState(s: CoreState): void {
    for (const role of this.roles()) {
      const st = s[role];
      const net = this.network(role)!;
      if (!st) throw new Error(`the saved state has no weights for ${role} (${net.name})`);
      checkShapes(net, st.shapes);
      tf.tidy(() => net.variables.forEach((v, i) => v.assign(tf.tensor(st.weights[i], v.shape))));
      this.optimizers[role]!.setState(st.adam);
    }
  }

  dispose(): void {
    for (const opt of Object.values(this.optimizers)) opt?.dispose();
  }

  /** ∇ of f with respect to `net`'s variables only, as an array aligned with them (zeros where f does not depend on one). */
  private gradients(net: TrainableNetwork, f: () => tf.Scalar): { grads: tf.Tensor[] } {
    const { value, grads } = tf.variableGrads(f, net.variables);
    value.dispose();
    return { grads: net.variables.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
  }
}

/**
 * The network itself when it takes batches; otherwise (an ONNX graph whose input fixes N = 1) a view of it that runs
 * the batch one sample at a time and concatenates: same results and gradients, fewer large kernels.
 */
export function batchable(net: TrainableNetwork): TrainableNetwork {
  const s = net.sizeMultiple;
  const works = (n: number) => {
    try {
      tf.tidy(() => net.apply(tf.zeros([n, inputChannels(net), s, s]) as tf.Tensor4D));
      return true;
    } catch {
      return false;
    }
  };
  if (works(2) || !works(1)) return net;
  return {
    name: net.name,
    variables: net.variables,
    sizeMultiple: net.sizeMultiple,
    inputChannels: net.inputChannels,
    apply: (x) => (x.shape[0] === 1 ? net.apply(x) : tf.tidy(() => tf.concat(tf.split(x, x.shape[0], 0).map((xi) => net.apply(xi as tf.Tensor4D)), 0))),
    toOnnx: () => net.toOnnx(),
    dispose: () => net.dispose(),
  };
}

/** The channels a network reads: 3 (a photo) unless it fixes another count (6: the refiner's guide and photo). */
export function inputChannels(net: TrainableNetwork): number {
  return net.inputChannels ?? 3;
}

export function checkShapes(net: TrainableNetwork, shapes: number[][]): void {
  if (shapes.length !== net.variables.length) {
    throw new Error(`saved weights for ${net.name} hold ${shapes.length} tensors, the network has ${net.variables.length}: a different architecture`);
  }
  net.variables.forEach((v, i) => {
    if (shapes[i].join('×') !== v.shape.join('×')) {
      throw new Error(`saved weight ${i} of ${net.name} is ${shapes[i].join('×')}, the network's is ${v.shape.join('×')}: a different architecture`);
    }
  });
}

function weightedSum(values: tf.Scalar[], weights: number[]): tf.Scalar {
  let total: tf.Tensor = tf.scalar(0);
  values.forEach((v, i) => {
    total = tf.add(total, tf.mul(v, weights[i]));
  });
  return total as tf.Scalar;
}

function readAndDispose(t: tf.Tensor): Float32Array {
  const d = (t.dataSync() as Float32Array).slice();
  t.dispose();
  return d;
}
