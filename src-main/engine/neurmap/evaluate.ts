import * as tf from '@tensorflow/tfjs';
import type { TrainableNetwork } from '../graph/trainable-network.ts';
import { msSsimPerImage } from './losses.ts';
import { reblur } from './reblur.ts';
import { canonicalMotion } from './tensor-ops.ts';
import { batchable } from './iteration.ts';

export interface ReblurConsistency {
  /** Per image: MSE between R(G(B), m_rel) and B. */
  mse: number[];
  /** Per image: MS-SSIM of the same pair. */
  msSsim: number[];
}

/**
 * The likelihood term of NEURMAP.md as a score, for before/after checks of an adaptation on held-out blurry photos:
 * how well G's output, reblurred with the motion still left in it (m_rel = canon m(B) − canon m(G(B))), explains
 * the blurry input. `blurry` is [N, 3, H, W] with H and W multiples of both networks' size multiples; a refiner G
 * also reads `guide`, the MAP core's result of the same photos.
 */
export function reblurConsistency(g: TrainableNetwork, m: TrainableNetwork, blurry: tf.Tensor4D, guide?: tf.Tensor4D): ReblurConsistency {
  const G = batchable(g);
  const M = batchable(m);
  const [mseT, ssimT] = tf.tidy(() => {
    const deblurred = G.apply(guide ? tf.concat([guide, blurry], 1) : blurry);
    const mRel = tf.sub(canonicalMotion(M.apply(blurry)), canonicalMotion(M.apply(deblurred))) as tf.Tensor4D;
    const r = reblur(deblurred, mRel);
    return [tf.mean(tf.squaredDifference(r, blurry), [1, 2, 3]), msSsimPerImage(r, blurry)];
  });
  const out = { mse: Array.from(mseT.dataSync() as Float32Array), msSsim: Array.from(ssimT.dataSync() as Float32Array) };
  tf.dispose([mseT, ssimT]);
  return out;
}
