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
 * The three-step NeurMAP iteration on one batch (or one worker's shard of it), one phase at a time, so the same
 * code serves the in-process trainer and each data-parallel worker:
 *
 *   beginBatch(b)          → G(B) computed once, detached (M's and D's updates see it as a constant)
 *   motionPhase()          → ∇M of the M losses; applyGradients('M', …)
 *   discriminatorPhase()   → ∇D of the LSGAN loss;  applyGradients('D', …)
 *   generatorPhase(μ)      → ∇G of G's losses, with the updated M and D held fixed; applyGradients('G', …)
 *   endBatch()
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
  private batch: { b: TrainingBatch; t: BatchTensors; fake: tf.Tensor4D } | null = null;

  readonly nets: NeurmapNetworks;

  constructor(
    nets: NeurmapNetworks,
    readonly config: TrainingConfig,
  ) {
    this.nets = { G: batchable(nets.G), M: nets.M && batchable(nets.M), D: batchable(nets.D) };
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
      let shape: number[];
      try {
        shape = tf.tidy(() => net.apply(tf.zeros([1, 3, c, c]) as tf.Tensor4D).shape);
      } catch (err) {
        throw new Error(`${role} (${net.name}) fails on a [1, 3, ${c}, ${c}] input: ${(err as Error).message}`);
      }
      if (!expect[role](shape)) throw new Error(`${role} (${net.name}) outputs [${shape.join(', ')}] for a [1, 3, ${c}, ${c}] input, expected ${want[role]}`);
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

  beginBatch(b: TrainingBatch): void {
    this.endBatch();
    if (b.crop !== this.config.cropSize) throw new Error(`batch crop ${b.crop} differs from the configured crop size ${this.config.cropSize}`);
    const t = batchToTensors(b);
    const fake = tf.tidy(() => this.nets.G.apply(t.blurryAll));
    this.batch = { b, t, fake };
  }

  endBatch(): void {
    if (!this.batch) return;
    disposeBatchTensors(this.batch.t);
    this.batch.fake.dispose();
    this.batch = null;
  }

  /** Step 1: update M with G's output detached. */
  motionPhase(): PhaseResult {
    const M = this.network('M');
    if (!M) throw new Error('motionPhase: this configuration has no motion network');
    const { t, fake } = this.current();
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
  discriminatorPhase(): PhaseResult {
    const D = this.nets.D;
    const { t, fake } = this.current();
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

  /** Step 3: update G with M and D fixed. `sharpPoolMean` is the pool's mean |m(S)| after this batch's M phase. */
  generatorPhase(sharpPoolMean: readonly [number, number]): PhaseResult {
    const G = this.nets.G;
    const M = this.network('M');
    const D = this.nets.D;
    const { b, t } = this.current();
    const w = this.settings.generator;
    const P = b.paired;
    const U = b.unpaired;
    const names: string[] = [];
    // m(B) of the real blurry half with the freshly updated M: outside the taped function, a constant for G.
    const mBu = M && U > 0 && this.settings.useReblur ? tf.tidy(() => canonicalMotion(M.apply(t.unpairedBlurry!))) : null;
    let parts: tf.Tensor | null = null;
    const { grads } = this.gradients(G, () => {
      const out = G.apply(t.blurryAll);
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
          if (mBu) {
            const mRel = tf.sub(mBu, stopGradient(mFu)) as tf.Tensor4D;
            const r = reblur(outU, mRel);
            const rm = mse(r, t.unpairedBlurry!);
            const rs = tf.sub(1, msSsim(r, t.unpairedBlurry!)) as tf.Scalar;
            names.push('reblurMse', 'reblurMsSsim');
            v.push(rm, rs);
            ws.push(0, 0);
            add('reblur', tf.add(rm, tf.mul(rs, w.reblurMsSsim)) as tf.Scalar, w.reblur);
          }
          add('sharpPrior', sharpImagePrior(mFu, sharpPoolMean), w.sharpPrior);
          add('motionTv', totalVariation(mFu), w.motionTv);
        }
        add('imageTv', totalVariation(outU), w.imageTv);
      }
      add('naturalPrior', lsgan(D.apply(out), true), w.naturalPrior);
      const total = weightedSum(v, ws);
      names.push('total');
      parts = tf.keep(tf.stack([...v, total]));
      return total;
    });
    mBu?.dispose();
    const values = readAndDispose(parts!);
    const losses: LossValues = {};
    names.forEach((n, i) => (losses[`G.${n}`] = values[i]));
    return { grads, losses };
  }

  applyGradients(role: NetworkRole, grads: readonly tf.Tensor[], lr: number): void {
    const opt = this.optimizers[role];
    if (!opt) throw new Error(`no optimizer for ${role}`);
    opt.apply(grads, lr);
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
    this.endBatch();
    for (const opt of Object.values(this.optimizers)) opt?.dispose();
  }

  private current(): { b: TrainingBatch; t: BatchTensors; fake: tf.Tensor4D } {
    if (!this.batch) throw new Error('no batch: call beginBatch first');
    return this.batch;
  }

  /** ∇ of f with respect to `net`'s variables only, as an array aligned with them (zeros where f does not depend on one). */
  private gradients(net: TrainableNetwork, f: () => tf.Scalar): { grads: tf.Tensor[] } {
    const { value, grads } = tf.variableGrads(f, net.variables);
    value.dispose();
    return { grads: net.variables.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
  }
}

/**
 * One whole iteration in this process: M, then D, then G, each phase's gradients applied at once.
 * `pushSharpMeans` feeds the pool and returns its mean for the G phase.
 */
export function runIterationLocally(
  core: IterationCore,
  batch: TrainingBatch,
  lr: Record<NetworkRole, number>,
  pushSharpMeans: (means: Array<[number, number]>) => [number, number],
  capture?: Partial<Record<NetworkRole, Float32Array>>,
): LossValues {
  core.beginBatch(batch);
  try {
    const losses: LossValues = {};
    let poolMean: [number, number] = [0, 0];
    const step = (role: NetworkRole, r: PhaseResult) => {
      Object.assign(losses, r.losses);
      if (capture) capture[role] = flattenTensors(r.grads);
      core.applyGradients(role, r.grads, lr[role]);
      tf.dispose(r.grads);
    };
    if (core.network('M')) {
      const r = core.motionPhase();
      poolMean = pushSharpMeans(r.sharpMeans ?? []);
      step('M', r);
    }
    step('D', core.discriminatorPhase());
    step('G', core.generatorPhase(poolMean));
    return losses;
  } finally {
    core.endBatch();
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
      tf.tidy(() => net.apply(tf.zeros([n, 3, s, s]) as tf.Tensor4D));
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
    apply: (x) => (x.shape[0] === 1 ? net.apply(x) : tf.tidy(() => tf.concat(tf.split(x, x.shape[0], 0).map((xi) => net.apply(xi as tf.Tensor4D)), 0))),
    toOnnx: () => net.toOnnx(),
    dispose: () => net.dispose(),
  };
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

function flattenTensors(ts: readonly tf.Tensor[]): Float32Array {
  const out = new Float32Array(ts.reduce((s, t) => s + t.size, 0));
  let o = 0;
  for (const t of ts) {
    out.set(t.dataSync() as Float32Array, o);
    o += t.size;
  }
  return out;
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
