/**
 * Instance normalisation (NHWC, per sample and channel over H and W, population variance, affine γ, β) as one
 * differentiable op with an analytic gradient. The per-(n, c) sums are batched ones·x matrix products, which are
 * fast on every backend (tfjs' mean over H, W transposes the tensor on WASM), and the backward pass is
 *   dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂)),   dγ = Σ dy · x̂,   dβ = Σ dy.
 */
import * as tf from '@tensorflow/tfjs';
import { customOp } from './custom-op.ts';

type T4 = tf.Tensor4D;

export function instanceNormNhwc(x: T4, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): T4 {
  const [n, h, w, c] = x.shape;
  const m = h * w;
  if (gamma.size !== c || beta.size !== c) throw new Error(`instance norm: scale (${gamma.size}) and bias (${beta.size}) must have ${c} values`);
  const f = customOp<T4>(3, ([xx, gg, bb], save) => {
    const ones = tf.ones([n, 1, m]);
    const xr = tf.reshape(xx, [n, m, c]);
    const mean = tf.div(tf.matMul(ones, xr), m); // [N, 1, C]
    const xc = tf.sub(xr, mean);
    const variance = tf.div(tf.matMul(ones, tf.square(xc)), m);
    const inv = tf.rsqrt(tf.add(variance, epsilon)); // [N, 1, C]
    const xhat = tf.mul(xc, inv);
    const g1 = tf.reshape(gg, [c]);
    const y = tf.add(tf.mul(xhat, g1), tf.reshape(bb, [c]));
    save([xhat, inv, g1]);
    return {
      value: tf.reshape(y, [n, h, w, c]) as T4,
      gradFunc: (dy, saved) => {
        const [xh, iv, gm] = saved;
        const on = tf.ones([n, 1, m]);
        const d = tf.reshape(dy, [n, m, c]);
        const s1 = tf.matMul(on, d); // [N, 1, C]: Σ dy
        const s2 = tf.matMul(on, tf.mul(d, xh)); // [N, 1, C]: Σ dy·x̂
        const k = tf.mul(iv, gm); // γ/σ
        const dx = tf.mul(tf.sub(tf.sub(d, tf.div(s1, m)), tf.mul(xh, tf.div(s2, m))), k);
        return [tf.reshape(dx, [n, h, w, c]), tf.reshape(tf.sum(s2, [0, 1]), gg.shape), tf.reshape(tf.sum(s1, [0, 1]), bb.shape)];
      },
    };
  });
  return f(x, gamma, beta);
}
